package compute

import (
	"net/http"
	"strings"

	"kumo/internal/platform/httpapi"
)

// Version discovery, as nova/api/openstack/compute/versions.py: GET / lists
// both versions (200, no microversion headers); GET /v2.1/ and /v2/
// describe one (public, under microversion control for /v2.1).

func init() {
	register(route{method: "GET", path: "/", public: true, handle: showVersion})
}

type versionDoc struct {
	id, status, version, minVersion, updated, mediaType string
}

var versionDocs = []versionDoc{
	{"v2.0", "SUPPORTED", "", "", "2011-01-21T11:33:21Z", "application/vnd.openstack.compute+json;version=2"},
	{"v2.1", "CURRENT", maxVersion.String(), minVersion.String(), "2013-07-23T11:33:21Z", "application/vnd.openstack.compute+json;version=2.1"},
}

func (s *Service) versionsIndex(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r, ctx: r.Context()}
	var out []map[string]any
	for _, d := range versionDocs {
		path := "/v2/"
		if d.id == "v2.1" {
			path = "/v2.1/"
		}
		out = append(out, map[string]any{
			"id": d.id, "status": d.status, "version": d.version, "min_version": d.minVersion, "updated": d.updated,
			"links": []map[string]string{{"rel": "self", "href": c.root() + path}},
		})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"versions": out})
}

// versionChoices is Nova's "multi" answer (300) for a path outside the
// versions: where the path lives in each version.
func (s *Service) versionChoices(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r, ctx: r.Context()}
	var out []map[string]any
	for _, d := range versionDocs {
		v := "/v2"
		if d.id == "v2.1" {
			v = "/v2.1"
		}
		out = append(out, map[string]any{
			"id": d.id, "status": d.status,
			"links":       []map[string]string{{"rel": "self", "href": c.root() + v + "/" + strings.TrimPrefix(r.URL.Path, "/")}},
			"media-types": []map[string]string{{"base": "application/json", "type": d.mediaType}},
		})
	}
	httpapi.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"choices": out})
}

func showVersion(c *call) error {
	d := versionDocs[1]
	if c.legacy {
		d = versionDocs[0]
	}
	return c.json(http.StatusOK, map[string]any{"version": map[string]any{
		"id": d.id, "status": d.status, "version": d.version, "min_version": d.minVersion, "updated": d.updated,
		"links": []map[string]string{
			{"rel": "self", "href": c.versionRoot() + "/"},
			{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
		},
		"media-types": []map[string]string{{"base": "application/json", "type": d.mediaType}},
	}})
}
