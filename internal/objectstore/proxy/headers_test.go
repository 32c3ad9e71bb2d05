package proxy

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"kumo/internal/objectstore/objserver"
)

var objHash = objserver.HashPath(testHash)

var transIDRe = regexp.MustCompile(`^tx[0-9a-f]{21}-[0-9a-f]{10}$`)

// checkCommonHeaders applies Tempest's AreAllWellFormatted and the
// headers Swift sends on every response, to every response a test gets.
func checkCommonHeaders(t testing.TB, method, path string, r resp) {
	t.Helper()
	h := r.header
	where := method + " " + path
	if !transIDRe.MatchString(h.Get("X-Trans-Id")) {
		t.Errorf("%s: X-Trans-Id %q", where, h.Get("X-Trans-Id"))
	}
	if h.Get("X-Openstack-Request-Id") != h.Get("X-Trans-Id") {
		t.Errorf("%s: X-Openstack-Request-Id %q != X-Trans-Id", where, h.Get("X-Openstack-Request-Id"))
	}
	if h.Get("Date") == "" {
		t.Errorf("%s: no Date", where)
	}
	// Go's net/http removes Content-Type from a 304 (Tempest does not check it there).
	if h.Get("Content-Type") == "" && r.status != http.StatusNotModified {
		t.Errorf("%s: no Content-Type", where)
	}
	if r.status != http.StatusNoContent && r.status != http.StatusNotModified && r.status >= 200 && h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" {
		// Go's client drops Transfer-Encoding into resp.TransferEncoding.
		if method != http.MethodHead {
			t.Logf("%s: no Content-Length (chunked)", where)
		} else {
			t.Errorf("%s: HEAD without Content-Length", where)
		}
	}
	for _, k := range []string{"Content-Length", "X-Account-Bytes-Used", "X-Account-Container-Count", "X-Account-Object-Count",
		"X-Container-Bytes-Used", "X-Container-Object-Count"} {
		if v := h.Get(k); v != "" && strings.Trim(v, "0123456789") != "" {
			t.Errorf("%s: %s %q is not digits", where, k, v)
		}
	}
	if v := h.Get("X-Timestamp"); v != "" && !regexp.MustCompile(`^\d+\.?\d*$`).MatchString(v) {
		t.Errorf("%s: X-Timestamp %q", where, v)
	}
	if v := h.Get("Etag"); h.Get("X-Object-Manifest") != "" || h.Get("X-Static-Large-Object") != "" ||
		strings.Contains(path, "multipart-manifest=put") {
		// A large object's ETag is quoted, as Swift's (Tempest checks
		// that); the manifest itself (?multipart-manifest=get) is not.
		if v != "" && !regexp.MustCompile(`^("[0-9a-f]{32}"|[0-9a-f]{32})$`).MatchString(v) {
			t.Errorf("%s: manifest Etag %q not quoted hex", where, v)
		}
	} else if v != "" && !regexp.MustCompile(`^[0-9A-Za-z]+$`).MatchString(v) {
		t.Errorf("%s: Etag %q not alphanumeric", where, v)
	}
	if v := h.Get("Accept-Ranges"); v != "" && v != "bytes" {
		t.Errorf("%s: Accept-Ranges %q", where, v)
	}
	for k := range h {
		if strings.HasPrefix(k, "X-Backend-") || strings.Contains(k, "-Sysmeta-") {
			t.Errorf("%s: internal header %s leaked", where, k)
		}
	}
}

// checkTarget is Tempest's ExistsAllResponseHeaders for GET/HEAD.
func checkTarget(t testing.TB, target string, r resp) {
	t.Helper()
	h := r.header
	need := []string{"X-Timestamp"}
	switch target {
	case "Account":
		need = append(need, "X-Account-Bytes-Used", "X-Account-Container-Count", "X-Account-Object-Count")
		if atoiH(h, "X-Account-Container-Count") > 0 {
			need = append(need, "X-Account-Storage-Policy-Policy-0-Bytes-Used", "X-Account-Storage-Policy-Policy-0-Object-Count",
				"X-Account-Storage-Policy-Policy-0-Container-Count")
		}
	case "Container":
		need = append(need, "X-Container-Bytes-Used", "X-Container-Object-Count", "X-Storage-Policy")
	case "Object":
		need = append(need, "Etag", "Last-Modified", "Accept-Ranges")
	}
	for _, k := range need {
		if h.Get(k) == "" {
			t.Errorf("%s response lacks %s: %v", target, k, h)
		}
	}
}
