package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Versioned writes, as Swift's versioned_writes middleware: a container
// whose X-Versions-Location (stack mode) or X-History-Location (history
// mode) names another container keeps each overwritten object there as
// "<3 hex digits: name length><name>/<timestamp>". In stack mode a DELETE
// restores the newest old version; in history mode it archives the
// current one and leaves a delete marker.

// deleteMarkerType is the Content-Type of a history-mode delete marker.
const deleteMarkerType = "application/x-deleted;swift_versions_deleted=1"

// versionsOf reads the versions container from a container's headers.
func versionsOf(h http.Header) string {
	if v := h.Get("X-Versions-Location"); v != "" {
		return v
	}
	return h.Get("X-History-Location")
}

// versionPrefix is the versions-container prefix of object o's versions.
func versionPrefix(o string) string { return fmt.Sprintf("%03x%s/", len(o), o) }

// versionsHeaders checks a container write's versioning headers and puts
// them in hdr; one location set clears the other, an empty one clears both.
func versionsHeaders(rq *req, in, hdr http.Header) bool {
	for _, k := range []string{"Versions-Location", "History-Location"} {
		if _, ok := in["X-Remove-"+k]; ok {
			in.Set("X-"+k, "")
		}
	}
	vs, hasV := in["X-Versions-Location"]
	hs, hasH := in["X-History-Location"]
	v, h := "", ""
	if hasV {
		v = vs[0]
	}
	if hasH {
		h = hs[0]
	}
	if v != "" && h != "" {
		rq.fail(http.StatusBadRequest, "Only one of X-Versions-Location or X-History-Location may be specified")
		return false
	}
	if !hasV && !hasH {
		return true
	}
	if loc := v + h; strings.Contains(loc, "/") {
		rq.fail(http.StatusPreconditionFailed, "Container name cannot contain slashes")
		return false
	}
	hdr.Set("X-Versions-Location", v)
	hdr.Set("X-History-Location", h)
	return true
}

// versioning returns the container's versions location when rq's object
// write must be versioned.
func (s *Server) versioning(rq *req) (containerInfo, bool) {
	if a, ok := subAuthOf(rq.r); ok && a.noVersions {
		return containerInfo{}, false
	}
	ci := s.ownContainerInfo(rq)
	return ci, ci.status/100 == 2 && ci.versions != ""
}

// ownContainerInfo is containerInfo of rq's own container, asked once per
// request.
func (s *Server) ownContainerInfo(rq *req) containerInfo {
	if rq.ci == nil {
		ci := s.containerInfo(rq, rq.account, rq.container)
		rq.ci = &ci
	}
	return *rq.ci
}

func (rq *req) objectPath(container, object string) string {
	return "/v1/" + url.PathEscape(rq.account) + "/" + url.PathEscape(container) + "/" + escapeObject(object)
}

// archiveCurrent copies the object a PUT is about to overwrite into the
// versions container; false means it answered rq with an error.
func (s *Server) archiveCurrent(rq *req) bool {
	ci, ok := s.versioning(rq)
	if !ok {
		return true
	}
	return s.archive(rq, ci.versions)
}

func (s *Server) archive(rq *req, vers string) bool {
	ctx := rq.r.Context()
	head := s.subrequest(ctx, rq, http.MethodHead, rq.objectPath(rq.container, rq.object), "multipart-manifest=get", nil, nil, true)
	switch {
	case head.status == http.StatusNotFound:
		return true // nothing to keep
	case head.status/100 != 2:
		rq.fail(head.status, "")
		return false
	}
	name := versionPrefix(rq.object) + head.header.Get("X-Timestamp")
	hdr := http.Header{"X-Copy-From": {url.PathEscape(rq.container) + "/" + escapeObject(rq.object)}}
	put := s.subrequest(ctx, rq, http.MethodPut, rq.objectPath(vers, name), "", hdr, nil, true)
	return versionsStepOK(rq, put)
}

// versionsStepOK answers rq as Swift does when a versioning step fails: a
// missing versions container is 412, other client errors pass on, the
// rest is 503.
func versionsStepOK(rq *req, sr *subResponse) bool {
	switch {
	case sr.status/100 == 2:
		return true
	case sr.status == http.StatusNotFound:
		rq.fail(http.StatusPreconditionFailed, "")
	case sr.status/100 == 4:
		rq.fail(sr.status, strings.TrimSpace(sr.body.String()))
	default:
		rq.fail(http.StatusServiceUnavailable, "")
	}
	return false
}

// versionedDelete handles a DELETE in a versioned container; false means
// the plain delete should follow.
func (s *Server) versionedDelete(rq *req) bool {
	ci, ok := s.versioning(rq)
	if !ok || !s.canWrite(rq, ci.write) {
		return false
	}
	if ci.history {
		if !s.archive(rq, ci.versions) {
			return true
		}
		hdr := http.Header{"Content-Type": {deleteMarkerType}}
		name := versionPrefix(rq.object) + s.clock.next()
		put := s.subrequest(rq.r.Context(), rq, http.MethodPut, rq.objectPath(ci.versions, name), "", hdr, []byte{}, true)
		return !versionsStepOK(rq, put)
	}
	return s.restorePrevious(rq, ci.versions)
}

// restoreScan bounds how many versions one DELETE looks at (some may have
// vanished between the listing and the restore).
const restoreScan = 100

// restorePrevious is stack mode's DELETE: the newest old version replaces
// the object and leaves the versions container.
func (s *Server) restorePrevious(rq *req, vers string) bool {
	ctx := rq.r.Context()
	q := url.Values{"format": {"json"}, "reverse": {"on"}, "prefix": {versionPrefix(rq.object)}, "limit": {itoa(restoreScan)}}
	list := s.subrequest(ctx, rq, http.MethodGet, "/v1/"+url.PathEscape(rq.account)+"/"+url.PathEscape(vers), q.Encode(), nil, nil, true)
	if list.status/100 != 2 {
		return false // no versions container: a plain delete
	}
	var items []struct {
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
	}
	if json.Unmarshal(list.body.Bytes(), &items) != nil {
		return false
	}
	for _, it := range items {
		vpath := rq.objectPath(vers, it.Name)
		if it.ContentType == deleteMarkerType {
			// Left by history mode: the object is already gone.
			del := s.subrequest(ctx, rq, http.MethodDelete, vpath, "", nil, nil, true)
			if del.status/100 != 2 && del.status != http.StatusNotFound {
				return !versionsStepOK(rq, del)
			}
			return false
		}
		hdr := http.Header{"X-Copy-From": {url.PathEscape(vers) + "/" + escapeObject(it.Name)}}
		put := s.subrequest(ctx, rq, http.MethodPut, rq.objectPath(rq.container, rq.object), "", hdr, nil, true)
		if put.status == http.StatusNotFound {
			continue // that version vanished: try the next
		}
		if !versionsStepOK(rq, put) {
			return true
		}
		del := s.subrequest(ctx, rq, http.MethodDelete, vpath, "", nil, nil, true)
		if del.status/100 != 2 && del.status != http.StatusNotFound {
			versionsStepOK(rq, del)
			return true
		}
		rq.empty(http.StatusNoContent)
		return true
	}
	return false
}
