package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMuxErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("DELETE /things/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	h := MuxErrors(mux, plainRender, "no such method here")
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/things/1", 204, ""},
		{"PUT", "/things/1", 405, "DELETE, GET, HEAD"},
		{"GET", "/nothing", 404, ""},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		if w.Code != c.status || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d allow %q, want %d %q", c.method, c.path, w.Code, w.Header().Get("Allow"), c.status, c.allow)
		}
		if c.status >= 400 && w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: not rendered by the service: %q", c.method, c.path, w.Body.String())
		}
	}
}
