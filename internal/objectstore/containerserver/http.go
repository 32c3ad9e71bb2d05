package containerserver

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Swift's storage servers answer errors with swob's short HTML bodies.
var statusBodies = map[int]string{
	http.StatusNotFound:            "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>",
	http.StatusConflict:            "<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>",
	http.StatusMethodNotAllowed:    "<html><h1>Method Not Allowed</h1><p>The method is not allowed for this resource.</p></html>",
	http.StatusNotAcceptable:       "<html><h1>Not Acceptable</h1><p>The request is not acceptable.</p></html>",
	http.StatusForbidden:           "<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>",
	http.StatusInternalServerError: "<html><h1>Internal Error</h1><p>The server has either erred or is incapable of performing the requested operation.</p></html>",
}

// swiftError writes an error status with body text (or swob's default).
func swiftError(w http.ResponseWriter, status int, body string) {
	if body == "" {
		body = statusBodies[status]
	}
	if body == "" {
		body = http.StatusText(status)
	}
	if strings.HasPrefix(body, "<html>") {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// storeError maps a store error to Swift's status; anything unexpected is
// a 500 with a log line.
func storeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		swiftError(w, http.StatusNotFound, "")
	case errors.Is(err, ErrConflict):
		swiftError(w, http.StatusConflict, "")
	case errors.Is(err, ErrDeleted):
		swiftError(w, http.StatusForbidden, "Recently deleted")
	default:
		log.Error("storage request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		swiftError(w, http.StatusInternalServerError, "")
	}
}

// reqPath is a parsed /<dev>/<part>/<a>[/<c>[/<obj>]] path.
type reqPath struct {
	dev  string
	part int
	// segs are the unescaped segments after the partition; the last one
	// keeps its slashes when more than max segments were split.
	segs []string
}

// parsePath splits the escaped path into at least min and at most max
// segments after /<dev>/<part>, the last taking the remainder (object names
// contain slashes). It writes the 400 itself and returns ok=false on error.
func parsePath(w http.ResponseWriter, r *http.Request, min, max int) (reqPath, bool) {
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	parts := strings.SplitN(raw, "/", max+2)
	var p reqPath
	if len(parts) < min+2 {
		swiftError(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
		return p, false
	}
	un := make([]string, len(parts))
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil || !utf8.ValidString(u) || strings.ContainsRune(u, 0) {
			swiftError(w, http.StatusBadRequest, "Invalid UTF8 or contains NULL")
			return p, false
		}
		un[i] = u
	}
	for _, s := range un[:min+2] {
		if s == "" {
			swiftError(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
			return p, false
		}
	}
	part, err := strconv.Atoi(un[1])
	if err != nil || part < 0 {
		swiftError(w, http.StatusBadRequest, "Invalid partition: "+un[1])
		return p, false
	}
	p.dev, p.part, p.segs = un[0], part, un[2:]
	return p, true
}

// deviceMissing answers 507 as Swift does for an unmounted device.
func deviceMissing(w http.ResponseWriter, dev string) {
	swiftError(w, http.StatusInsufficientStorage, "<html><h1>Insufficient Storage</h1><p>There was not enough space to save the resource. Drive: "+xmlText(dev)+"</p></html>")
}

// requireTimestamp reads X-Timestamp; Swift answers 400 when it is missing
// or malformed.
func requireTimestamp(w http.ResponseWriter, r *http.Request) (Timestamp, bool) {
	ts, err := ParseTimestamp(r.Header.Get("X-Timestamp"))
	if err != nil {
		swiftError(w, http.StatusBadRequest, "Missing timestamp")
		return "", false
	}
	return ts, true
}

// listParams parses and validates the listing query as Swift's servers do.
func listParams(w http.ResponseWriter, r *http.Request) (ListParams, string, bool) {
	q := r.URL.Query()
	for _, vs := range q {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				swiftError(w, http.StatusBadRequest, "parameters not utf8")
				return ListParams{}, "", false
			}
		}
	}
	p := ListParams{Limit: ListingLimit, Marker: q.Get("marker"), EndMarker: q.Get("end_marker"),
		Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter")}
	if v := q.Get("limit"); v != "" && isDigits(v) {
		n, err := strconv.Atoi(v)
		if err != nil || n > ListingLimit {
			swiftError(w, http.StatusPreconditionFailed, "Maximum limit is "+strconv.Itoa(ListingLimit))
			return p, "", false
		}
		p.Limit = n
		if n == 0 {
			p.Limit = -1
		}
	}
	if p.Delimiter != "" {
		r, size := utf8.DecodeRuneInString(p.Delimiter)
		if size != len(p.Delimiter) || r > 254 {
			swiftError(w, http.StatusPreconditionFailed, "Bad delimiter")
			return p, "", false
		}
	}
	if _, ok := q["path"]; ok {
		v := q.Get("path")
		p.Path = &v
	}
	switch strings.ToLower(q.Get("reverse")) {
	case "true", "1", "yes", "on", "t", "y":
		p.Reverse = true
	}
	ct := listingContentType(q.Get("format"), r.Header.Get("Accept"))
	if ct == "" {
		swiftError(w, http.StatusNotAcceptable, "")
		return p, "", false
	}
	return p, ct, true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// writeListing sends a listing body; an empty plain listing is 204, as in
// Swift, while an empty JSON or XML listing is still a 200 document.
func writeListing(w http.ResponseWriter, ct string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ct+"; charset=utf-8")
	if len(body) == 0 {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// echoTransID returns the proxy's transaction id, as Swift's servers do,
// so one request can be followed through every node's log.
func echoTransID(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("X-Trans-Id"); id != "" {
		w.Header().Set("X-Trans-Id", id)
	}
}

// noContent answers 204 (HEAD, POST, DELETE success).
func noContent(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

func status(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(code)
}
