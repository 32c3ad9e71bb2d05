package proxy

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Staticweb, as Swift's staticweb middleware: a container whose metadata
// sets Web-Index, Web-Listings, Web-Listings-CSS or Web-Error serves
// anonymous GETs (and X-Web-Mode: true ones) as a web site: the index
// object for directories, HTML listings, and <status><Web-Error> pages.

// webSettings are a container's staticweb metadata.
type webSettings struct {
	index, errPage, css string
	listings            bool
}

func webSettingsOf(h http.Header) webSettings {
	return webSettings{
		index:    h.Get("X-Container-Meta-Web-Index"),
		errPage:  h.Get("X-Container-Meta-Web-Error"),
		css:      h.Get("X-Container-Meta-Web-Listings-Css"),
		listings: trueValue(h.Get("X-Container-Meta-Web-Listings")),
	}
}

// trueValue is Swift's config_true_value.
func trueValue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on", "t", "y":
		return true
	}
	return false
}

// staticWeb serves rq as a web site when it applies; false leaves rq to
// the plain API.
func (s *Server) staticWeb(rq *req) bool {
	m := rq.r.Method
	webMode := trueValue(rq.r.Header.Get("X-Web-Mode"))
	if (m != http.MethodGet && m != http.MethodHead) || rq.tempURL || (rq.token != nil && !webMode) || rq.container == "" {
		return false
	}
	ci := s.containerInfo(rq, rq.account, rq.container)
	if ci.status/100 != 2 {
		return false
	}
	ws := webSettingsOf(ci.header)
	if ws.index == "" && !ws.listings {
		if webMode && rq.object == "" {
			rq.fail(http.StatusNotFound, "")
			return true
		}
		return false
	}
	path := rq.r.URL.EscapedPath()
	slash := strings.HasSuffix(path, "/")
	if rq.object == "" {
		if !slash {
			webRedirect(rq, path+"/")
			return true
		}
		if ws.index != "" && s.webServe(rq, ws, rq.objectPath(rq.container, ws.index)) {
			return true
		}
		s.webListing(rq, ws, "")
		return true
	}
	head := s.subrequest(rq.r.Context(), rq, http.MethodHead, rq.objectPath(rq.container, rq.object), "", nil, nil, false)
	if head.status != http.StatusNotFound {
		return false // found, or refused: the plain GET says the same
	}
	if ws.index != "" {
		idx := strings.TrimSuffix(rq.object, "/") + "/" + ws.index
		h := s.subrequest(rq.r.Context(), rq, http.MethodHead, rq.objectPath(rq.container, idx), "", nil, nil, false)
		if h.status/100 == 2 {
			if !slash {
				webRedirect(rq, path+"/")
				return true
			}
			s.webServe(rq, ws, rq.objectPath(rq.container, idx))
			return true
		}
	}
	if !slash {
		q := url.Values{"format": {"json"}, "limit": {"1"}, "delimiter": {"/"}, "prefix": {rq.object + "/"}}
		l := s.subrequest(rq.r.Context(), rq, http.MethodGet, "/v1/"+url.PathEscape(rq.account)+"/"+url.PathEscape(rq.container), q.Encode(), nil, nil, false)
		if l.status/100 == 2 && strings.TrimSpace(l.body.String()) != "[]" && l.body.Len() > 0 {
			webRedirect(rq, path+"/")
			return true
		}
		s.webError(rq, ws, http.StatusNotFound)
		return true
	}
	s.webListing(rq, ws, rq.object)
	return true
}

func webRedirect(rq *req, loc string) {
	rq.w.Header().Set("Location", loc)
	rq.fail(http.StatusMovedPermanently, "")
}

// webServe answers with the object at escPath; false when it is missing.
func (s *Server) webServe(rq *req, ws webSettings, escPath string) bool {
	sr := s.subrequest(rq.r.Context(), rq, rq.r.Method, escPath, "", nil, nil, false)
	switch {
	case sr.status == http.StatusNotFound:
		return false
	case sr.status/100 != 2 && sr.status/100 != 3:
		s.webError(rq, ws, sr.status)
		return true
	}
	h := rq.w.Header()
	for k, v := range sr.header {
		if k != "X-Trans-Id" && k != "X-Openstack-Request-Id" {
			h[k] = v
		}
	}
	rq.w.WriteHeader(sr.status)
	if rq.r.Method == http.MethodGet {
		_, _ = rq.w.Write(sr.body.Bytes())
	}
	return true
}

// webError answers status, with the container's <status><Web-Error>
// object as the page when there is one.
func (s *Server) webError(rq *req, ws webSettings, status int) {
	if ws.errPage != "" {
		sr := s.subrequest(rq.r.Context(), rq, http.MethodGet, rq.objectPath(rq.container, strconv.Itoa(status)+ws.errPage), "", nil, nil, false)
		if sr.status/100 == 2 {
			h := rq.w.Header()
			h.Set("Content-Type", sr.header.Get("Content-Type"))
			h.Set("Content-Length", strconv.Itoa(sr.body.Len()))
			rq.w.WriteHeader(status)
			if rq.r.Method == http.MethodGet {
				_, _ = rq.w.Write(sr.body.Bytes())
			}
			return
		}
	}
	rq.fail(status, "")
}

// webListing answers the HTML listing of the "directory" prefix.
func (s *Server) webListing(rq *req, ws webSettings, prefix string) {
	if !ws.listings {
		s.webError(rq, ws, http.StatusNotFound)
		return
	}
	q := url.Values{"format": {"json"}, "delimiter": {"/"}, "prefix": {prefix}}
	l := s.subrequest(rq.r.Context(), rq, http.MethodGet, "/v1/"+url.PathEscape(rq.account)+"/"+url.PathEscape(rq.container), q.Encode(), nil, nil, false)
	if l.status/100 != 2 {
		s.webError(rq, ws, l.status)
		return
	}
	var items []struct {
		Name         string `json:"name"`
		Subdir       string `json:"subdir"`
		Bytes        int64  `json:"bytes"`
		ContentType  string `json:"content_type"`
		LastModified string `json:"last_modified"`
	}
	if err := json.Unmarshal(l.body.Bytes(), &items); err != nil {
		rq.fail(http.StatusInternalServerError, "")
		return
	}
	if len(items) == 0 && prefix != "" {
		s.webError(rq, ws, http.StatusNotFound)
		return
	}
	title := html.EscapeString("/" + rq.account + "/" + rq.container + "/" + prefix)
	var b strings.Builder
	b.WriteString("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n<html>\n <head>\n")
	fmt.Fprintf(&b, "  <title>Listing of %s</title>\n", title)
	if ws.css != "" {
		css := ws.css
		if !strings.HasPrefix(css, "/") && !strings.Contains(css, "://") {
			css = strings.Repeat("../", strings.Count(prefix, "/")) + css
		}
		fmt.Fprintf(&b, "  <link rel=\"stylesheet\" type=\"text/css\" href=\"%s\" />\n", html.EscapeString(css))
	}
	fmt.Fprintf(&b, " </head>\n <body>\n  <h1 id=\"title\">Listing of %s</h1>\n  <table id=\"listing\">\n", title)
	b.WriteString("   <tr id=\"heading\">\n    <th class=\"colname\">Name</th>\n    <th class=\"colsize\">Size</th>\n    <th class=\"coldate\">Date</th>\n   </tr>\n")
	if prefix != "" {
		b.WriteString("   <tr id=\"parent\" class=\"item\">\n    <td class=\"colname\"><a href=\"../\">../</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n")
	}
	for _, it := range items {
		if it.Subdir != "" {
			rel := strings.TrimPrefix(it.Subdir, prefix)
			fmt.Fprintf(&b, "   <tr class=\"item subdir\">\n    <td class=\"colname\"><a href=\"%s\">%s</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n",
				html.EscapeString(escapeObject(rel)), html.EscapeString(rel))
			continue
		}
		rel := strings.TrimPrefix(it.Name, prefix)
		date := strings.Replace(it.LastModified, "T", " ", 1)
		if len(date) > 19 {
			date = date[:19]
		}
		class := "type-" + strings.ReplaceAll(strings.ReplaceAll(strings.SplitN(it.ContentType, ";", 2)[0], "/", "-"), " ", "")
		fmt.Fprintf(&b, "   <tr class=\"item %s\">\n    <td class=\"colname\"><a href=\"%s\">%s</a></td>\n    <td class=\"colsize\">%s</td>\n    <td class=\"coldate\">%s</td>\n   </tr>\n",
			html.EscapeString(class), html.EscapeString(escapeObject(rel)), html.EscapeString(rel), humanBytes(it.Bytes), html.EscapeString(date))
	}
	b.WriteString("  </table>\n </body>\n</html>\n")
	h := rq.w.Header()
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method == http.MethodGet {
		_, _ = rq.w.Write([]byte(b.String()))
	}
}

// humanBytes is Swift's human_readable: 1024-based, one letter suffix.
func humanBytes(n int64) string {
	v, suffix := n, ""
	for _, s := range []string{"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"} {
		if v < 1024 {
			break
		}
		v, suffix = (v+512)/1024, s
	}
	return strconv.FormatInt(v, 10) + suffix
}
