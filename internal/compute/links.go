package compute

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// root is the compute endpoint root (no version), as the client reached
// it unless PublicURL is set.
func (c *call) root() string {
	if c.s.cfg.PublicURL != "" {
		return strings.TrimSuffix(c.s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	if p := c.r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + c.r.Host
}

// versionRoot is the endpoint with the version the client used
// (Nova's request.application_url).
func (c *call) versionRoot() string {
	if c.legacy {
		return c.root() + "/v2"
	}
	return c.root() + "/v2.1"
}

// links are Nova's self and bookmark links of one resource: the self link
// has the version, the bookmark has none; both have the project id only
// when the request's URL had it.
func (c *call) links(collection, id string) []map[string]string {
	proj := ""
	if c.urlProject != "" {
		proj = "/" + c.urlProject
	}
	return []map[string]string{
		{"rel": "self", "href": c.versionRoot() + proj + "/" + collection + "/" + id},
		{"rel": "bookmark", "href": c.root() + proj + "/" + collection + "/" + id},
	}
}

// nextLink is Nova's collection "next" link: the request's query with
// marker replaced, sorted by name.
func (c *call) nextLink(collection, marker string) []map[string]string {
	proj := ""
	if c.urlProject != "" {
		proj = "/" + c.urlProject
	}
	q := c.r.URL.Query()
	q.Set("marker", marker)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		// Nova keeps the last value of a repeated parameter.
		vs := q[k]
		// url.QueryEscape quotes as Python's urlencode (spaces as "+").
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(vs[len(vs)-1]))
	}
	return []map[string]string{{"rel": "next", "href": fmt.Sprintf("%s%s/%s?%s", c.versionRoot(), proj, collection, strings.Join(parts, "&"))}}
}
