package proxy

import (
	"mime"
	"net/http"
	"strings"
)

// listingFormat picks json, xml or plain from ?format= or Accept, as
// Swift's get_listing_content_type.
func listingFormat(r *http.Request) string {
	switch strings.ToLower(r.URL.Query().Get("format")) {
	case "json":
		return "application/json"
	case "xml":
		return "application/xml"
	case "plain", "":
	default:
		return "text/plain"
	}
	if r.URL.Query().Get("format") != "" {
		return "text/plain"
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json":
			return "application/json"
		case "application/xml", "text/xml":
			return mt
		case "text/plain", "*/*", "text/*":
			return "text/plain"
		}
	}
	return "text/plain"
}

// emptyListing is the listing of an account that does not exist yet but
// would be created on the first write (Swift's account_autocreate).
func emptyListing(rq *req) {
	h := rq.w.Header()
	ct := listingFormat(rq.r)
	h.Set("Content-Type", ct+"; charset=utf-8")
	h.Set("X-Account-Container-Count", "0")
	h.Set("X-Account-Object-Count", "0")
	h.Set("X-Account-Bytes-Used", "0")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Vary", "Accept")
	var body string
	switch ct {
	case "application/json":
		body = "[]"
	case "application/xml", "text/xml":
		body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"" + xmlEscape(rq.account) + "\"></account>"
	}
	if body == "" || rq.r.Method == http.MethodHead {
		rq.empty(http.StatusNoContent)
		return
	}
	h.Set("Content-Length", itoa(len(body)))
	rq.w.WriteHeader(http.StatusOK)
	_, _ = rq.w.Write([]byte(body))
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
