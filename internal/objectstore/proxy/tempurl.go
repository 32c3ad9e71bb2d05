package proxy

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Swift's tempurl middleware: a URL signed with a key kept in account or
// container metadata (X-{Account,Container}-Meta-Temp-URL-Key[-2]) grants
// one method on one object (or on a name prefix) until it expires:
//
//	sig = HMAC(key, "<METHOD>\n<expires>\n<path>")
//
// where path is /v1/<account>/<container>/<object>, or "prefix:" plus the
// path of the prefix when temp_url_prefix is given.

var tempURLMethods = []string{"GET", "HEAD", "PUT", "POST", "DELETE"}

var tempURLDigests = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}

// hasTempURL tells whether the request carries temp URL parameters.
func hasTempURL(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("temp_url_sig") || q.Has("temp_url_expires")
}

// tempURLAuthorize validates a temp URL request; on success the caller is
// treated as the object's owner for this one request.
func (s *Server) tempURLAuthorize(rq *req) bool {
	q := rq.r.URL.Query()
	if rq.object == "" || !methodAllowed(rq.r.Method) || rq.r.Header.Get("X-Copy-From") != "" {
		return false
	}
	expires, ok := parseExpires(q.Get("temp_url_expires"))
	if !ok || !expires.After(s.cfg.Now()) {
		return false
	}
	digest, sig, ok := parseSig(q.Get("temp_url_sig"))
	if !ok {
		return false
	}
	signed := "/v1/" + rq.account + "/" + rq.container + "/" + rq.object
	if q.Has("temp_url_prefix") {
		p := q.Get("temp_url_prefix")
		if !strings.HasPrefix(rq.object, p) {
			return false
		}
		signed = "prefix:/v1/" + rq.account + "/" + rq.container + "/" + p
	}
	methods := []string{rq.r.Method}
	if rq.r.Method == http.MethodHead {
		// A HEAD may use a URL made for GET or PUT, as in Swift.
		methods = append(methods, http.MethodGet, http.MethodPut)
	}
	keys := s.tempURLKeys(rq)
	for _, m := range methods {
		body := m + "\n" + q.Get("temp_url_expires") + "\n" + signed
		for _, k := range keys {
			mac := hmac.New(digest, []byte(k))
			mac.Write([]byte(body))
			if subtle.ConstantTimeCompare(mac.Sum(nil), sig) == 1 {
				return true
			}
		}
	}
	return false
}

func methodAllowed(m string) bool {
	for _, a := range tempURLMethods {
		if a == m {
			return true
		}
	}
	return false
}

// parseExpires reads a Unix time or an ISO 8601 UTC time.
func parseExpires(v string) (time.Time, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0), true
	}
	if t, err := time.Parse("2006-01-02T15:04:05Z", v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// parseSig reads a hex signature (its length names the digest) or
// "<digest>:<base64>".
func parseSig(v string) (func() hash.Hash, []byte, bool) {
	if d, b64, ok := strings.Cut(v, ":"); ok {
		f, known := tempURLDigests[d]
		raw, err := base64.URLEncoding.DecodeString(padBase64(b64))
		if err != nil {
			raw, err = base64.StdEncoding.DecodeString(padBase64(b64))
		}
		return f, raw, known && err == nil
	}
	raw, err := hex.DecodeString(v)
	if err != nil {
		return nil, nil, false
	}
	switch len(raw) {
	case sha1.Size:
		return sha1.New, raw, true
	case sha256.Size:
		return sha256.New, raw, true
	case sha512.Size:
		return sha512.New, raw, true
	}
	return nil, nil, false
}

func padBase64(s string) string {
	if m := len(s) % 4; m != 0 {
		s += strings.Repeat("=", 4-m)
	}
	return s
}

// tempURLKeys are the account's and the container's keys.
func (s *Server) tempURLKeys(rq *req) []string {
	var keys []string
	apl := s.place(s.cfg.AccountRing, rq.account, "", "")
	if resp, st := s.readFirst(rq.r.Context(), apl, http.MethodHead, "", s.backendHeaders(rq)); st/100 == 2 {
		resp.Body.Close()
		keys = appendKeys(keys, resp.Header, "X-Account-Meta-Temp-Url-Key")
	}
	cpl := s.place(s.cfg.ContainerRing, rq.account, rq.container, "")
	if resp, st := s.readFirst(rq.r.Context(), cpl, http.MethodHead, "", s.backendHeaders(rq)); st/100 == 2 {
		resp.Body.Close()
		keys = appendKeys(keys, resp.Header, "X-Container-Meta-Temp-Url-Key")
	}
	return keys
}

func appendKeys(keys []string, h http.Header, name string) []string {
	for _, k := range []string{name, name + "-2"} {
		if v := h.Get(k); v != "" {
			keys = append(keys, v)
		}
	}
	return keys
}

// tempURLDisposition is the Content-Disposition Swift's tempurl adds to
// a GET: inline when asked, else an attachment named after the object.
func tempURLDisposition(rq *req) string {
	q := rq.r.URL.Query()
	name := q.Get("filename")
	if q.Has("inline") {
		if name == "" {
			return "inline"
		}
		return `inline; filename="` + strings.ReplaceAll(name, `"`, `\"`) + `"`
	}
	if name == "" {
		name = path.Base(rq.object)
	}
	return `attachment; filename="` + strings.ReplaceAll(name, `"`, `\"`) + `"; filename*=UTF-8''` + url.PathEscape(name)
}
