package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"kumo/internal/platform/db"
)

// testCloud is an identity service on a temporary database behind a real
// HTTP server, bootstrapped like `kumo up` (bcrypt at its minimum cost so
// tests stay fast). Every API test drives it through HTTP.
type testCloud struct {
	t          testing.TB
	svc        *Service
	srv        *httptest.Server
	adminToken string
	adminID    string
	adminProj  string
}

const testAdminPassword = "admin-secret"

func newTestCloud(t testing.TB, mutate ...func(*Config)) *testCloud {
	t.Helper()
	dir := t.TempDir()
	d, err := db.OpenSQLite(filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	cfg := Config{DataDir: dir, BcryptCost: 4}
	for _, m := range mutate {
		m(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := New(context.Background(), cfg, d, log)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCloud{t: t, svc: svc}
	tc.srv = httptest.NewServer(svc.Handler())
	t.Cleanup(tc.srv.Close)
	url := tc.srv.URL + "/v3"
	if err := svc.Bootstrap(context.Background(), BootstrapOptions{AdminPassword: testAdminPassword,
		Endpoints: []CatalogEntry{{Type: "identity", Name: "keystone", PublicURL: url, InternalURL: url, AdminURL: url}}}); err != nil {
		t.Fatal(err)
	}
	tok, body := tc.passwordToken("admin", testAdminPassword, map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]any{"id": "default"}}})
	tc.adminToken = tok
	tc.adminID = str(body, "token", "user", "id")
	tc.adminProj = str(body, "token", "project", "id")
	return tc
}

// do sends a request with an optional token and JSON body and returns the
// status, the decoded JSON body (nil if none) and the headers.
func (tc *testCloud) do(method, path, token string, body any) (int, map[string]any, http.Header) {
	tc.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, tc.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			tc.t.Fatalf("%s %s: response is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// must is do that fails the test unless the status is want.
func (tc *testCloud) must(want int, method, path, token string, body any) map[string]any {
	tc.t.Helper()
	status, out, _ := tc.do(method, path, token, body)
	if status != want {
		tc.t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// passwordToken issues a token for a user of the default domain; scope may
// be nil (unscoped or default project).
func (tc *testCloud) passwordToken(user, password string, scope map[string]any) (string, map[string]any) {
	tc.t.Helper()
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{"name": user, "domain": map[string]any{"id": "default"}, "password": password}}}}
	if scope != nil {
		auth["scope"] = scope
	}
	status, body, hdr := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": auth})
	if status != http.StatusCreated {
		tc.t.Fatalf("token for %s: status %d: %v", user, status, body)
	}
	return hdr.Get("X-Subject-Token"), body
}

// projectScope builds {"project": {"id": id}}.
func projectScope(id string) map[string]any {
	return map[string]any{"project": map[string]any{"id": id}}
}

// createUser makes a user in the default domain with a member role on
// project (if not "") and returns its id.
func (tc *testCloud) createUser(name, password, project string) string {
	tc.t.Helper()
	out := tc.must(201, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": name, "password": password, "domain_id": "default"}})
	id := str(out, "user", "id")
	if project != "" {
		member := tc.roleID("member")
		tc.must(204, "PUT", "/v3/projects/"+project+"/users/"+id+"/roles/"+member, tc.adminToken, nil)
	}
	return id
}

func (tc *testCloud) roleID(name string) string {
	tc.t.Helper()
	r, err := tc.svc.store.GetRoleByName(context.Background(), "", name)
	if err != nil {
		tc.t.Fatal(err)
	}
	return r.ID
}

// str walks nested JSON objects by keys and returns the string at the end.
func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		obj, _ := cur.(map[string]any)
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}
