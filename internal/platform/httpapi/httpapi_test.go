package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

func plainRender(w http.ResponseWriter, _ *http.Request, e *Error) {
	WriteJSON(w, e.Status, map[string]any{"code": e.Status, "message": e.Message})
}

func TestWrapRequestIDsLimitsAndPanics(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := ReadJSON(r, &v); err != nil {
			e, _ := AsError(err)
			plainRender(w, r, e)
			return
		}
		WriteJSON(w, 200, v)
	})
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(Wrap(mux, Options{Service: "test", MaxBodySize: 64, Render: plainRender, Log: log}))
	defer srv.Close()

	post := func(body string, chunked bool) *http.Response {
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(strings.NewReader(body)) // unknown length: sent chunked
		}
		resp, err := http.Post(srv.URL+"/echo", "application/json", rd)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := post(`{"a": 1}`, false)
	if resp.StatusCode != 200 || !regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(resp.Header.Get("X-Openstack-Request-Id")) {
		t.Fatalf("echo: %d, request id %q", resp.StatusCode, resp.Header.Get("X-Openstack-Request-Id"))
	}
	big := `{"a": "` + strings.Repeat("x", 100) + `"}`
	for _, chunked := range []bool{false, true} {
		if resp := post(big, chunked); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized (chunked %v): %d", chunked, resp.StatusCode)
		}
	}
	for _, bad := range []string{`{`, `{"a": 1} {"b": 2}`, ``, `   `} {
		if resp := post(bad, false); resp.StatusCode != 400 {
			t.Errorf("%q: %d", bad, resp.StatusCode)
		}
	}
	r, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 500 || r.Header.Get("X-Openstack-Request-Id") == "" {
		t.Fatalf("panic: %d", r.StatusCode)
	}
}

func TestMicroversionNegotiation(t *testing.T) {
	m := Microversions{Service: "compute", LegacyHeader: "X-OpenStack-Nova-API-Version", Min: Version{2, 1}, Max: Version{2, 90}}
	for _, c := range []struct {
		header, legacy string
		want           Version
		status         int
	}{
		{"", "", Version{2, 1}, 0},
		{"compute 2.53", "", Version{2, 53}, 0},
		{"volume 3.1, compute 2.10", "", Version{2, 10}, 0},
		{"compute latest", "", Version{2, 90}, 0},
		{"", "2.26", Version{2, 26}, 0},
		{"compute 2.91", "", Version{}, 406},
		{"compute 1.0", "", Version{}, 406},
		{"compute two", "", Version{}, 400},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("OpenStack-API-Version", c.header)
		}
		if c.legacy != "" {
			r.Header.Set("X-OpenStack-Nova-API-Version", c.legacy)
		}
		v, err := m.Negotiate(r)
		if c.status != 0 {
			e, ok := AsError(err)
			if !ok || e.Status != c.status {
				t.Errorf("%q: want status %d, got %v", c.header, c.status, err)
			}
			continue
		}
		if err != nil || v != c.want {
			t.Errorf("%q/%q: got %v %v, want %v", c.header, c.legacy, v, err, c.want)
		}
	}
	w := httptest.NewRecorder()
	m.SetHeaders(w, Version{2, 53})
	if w.Header().Get("OpenStack-API-Version") != "compute 2.53" || w.Header().Get("X-OpenStack-Nova-API-Version") != "2.53" {
		t.Fatalf("headers: %v", w.Header())
	}
}

// A handler that copies a file into the response keeps net/http's
// ReadFrom (sendfile) path through Wrap, and the access log counts the
// bytes sent that way.
func TestWrapKeepsReadFromAndCountsBytes(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "data")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bytes.Repeat([]byte("k"), 12345))
	var sawReaderFrom bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		_, sawReaderFrom = w.(io.ReaderFrom)
		f.Seek(0, io.SeekStart)
		io.Copy(w, f)
	})
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	srv := httptest.NewServer(Wrap(mux, Options{Service: "test", MaxBodySize: 64, Render: plainRender, Log: log}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/file")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close() // the access line is written when the handler returns
	if len(body) != 12345 || !sawReaderFrom || !strings.Contains(logged.String(), "bytes=12345") {
		t.Fatalf("got %d bytes, ReaderFrom %v, log %q", len(body), sawReaderFrom, logged.String())
	}
}
