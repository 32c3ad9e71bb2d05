package image

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

	"kumo/internal/identity"
	"kumo/internal/platform/db"
)

// testCloud is an image service and a real identity service (its token
// validator) on one temporary database, both behind real HTTP servers.
// Tokens: admin (admin project), alice (member of project A), bob (member
// of project B), rita (reader of project A).
type testCloud struct {
	t        testing.TB
	svc      *Service
	id       *identity.Service
	srv      *httptest.Server // image
	idsrv    *httptest.Server // identity
	dir      string
	admin    string
	alice    string
	bob      string
	rita     string
	projA    string
	projB    string
	adminPrj string
}

func newTestCloud(t testing.TB, mutate ...func(*Config)) *testCloud {
	t.Helper()
	dir := t.TempDir()
	d, err := db.OpenSQLite(filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	idsvc, err := identity.New(ctx, identity.Config{DataDir: dir, BcryptCost: 4}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCloud{t: t, id: idsvc, dir: dir}
	tc.idsrv = httptest.NewServer(idsvc.Handler())
	t.Cleanup(tc.idsrv.Close)
	url := tc.idsrv.URL + "/v3"
	if err := idsvc.Bootstrap(ctx, identity.BootstrapOptions{AdminPassword: "pw",
		Endpoints: []identity.CatalogEntry{{Type: "identity", Name: "keystone", PublicURL: url, InternalURL: url, AdminURL: url}}}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: dir, IdentityURL: url}
	for _, m := range mutate {
		m(&cfg)
	}
	tc.svc, err = New(ctx, cfg, d, idsvc, log)
	if err != nil {
		t.Fatal(err)
	}
	tc.srv = httptest.NewServer(tc.svc.Handler())
	t.Cleanup(tc.srv.Close)

	var body map[string]any
	tc.admin, body = tc.token("admin", "pw", "admin")
	tc.adminPrj = str(body, "token", "project", "id")
	tc.projA = tc.idMust(201, "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "A", "domain_id": "default"}}, "project", "id")
	tc.projB = tc.idMust(201, "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "B", "domain_id": "default"}}, "project", "id")
	tc.user("alice", tc.projA, "member")
	tc.user("bob", tc.projB, "member")
	tc.user("rita", tc.projA, "reader")
	tc.alice, _ = tc.token("alice", "pw", "A")
	tc.bob, _ = tc.token("bob", "pw", "B")
	tc.rita, _ = tc.token("rita", "pw", "A")
	return tc
}

// idDo calls the identity API as admin.
func (tc *testCloud) idMust(want int, method, path string, body any, keys ...string) string {
	tc.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, tc.idsrv.URL+path, bytes.NewReader(raw))
	req.Header.Set("X-Auth-Token", tc.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		tc.t.Fatalf("identity %s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return str(out, keys...)
}

func (tc *testCloud) user(name, project, role string) {
	tc.t.Helper()
	uid := tc.idMust(201, "POST", "/v3/users", map[string]any{"user": map[string]any{"name": name, "password": "pw", "domain_id": "default"}}, "user", "id")
	r, err := tc.id.Store().GetRoleByName(context.Background(), "", role)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.idMust(204, "PUT", "/v3/projects/"+project+"/users/"+uid+"/roles/"+r.ID, nil)
}

func (tc *testCloud) token(user, password, project string) (string, map[string]any) {
	tc.t.Helper()
	auth := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"id": "default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"id": "default"}}}}}
	raw, _ := json.Marshal(auth)
	resp, err := http.Post(tc.idsrv.URL+"/v3/auth/tokens", "application/json", bytes.NewReader(raw))
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 201 {
		tc.t.Fatalf("token for %s: %d %v", user, resp.StatusCode, out)
	}
	return resp.Header.Get("X-Subject-Token"), out
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// req sends a request to the image API. body may be nil, a string or
// []byte (sent as is), or anything else (sent as JSON). ct sets the
// Content-Type ("" means application/json when there is a body).
func (tc *testCloud) req(method, path, token string, body any, hdr ...string) resp {
	tc.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = bytes.NewBufferString(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	r, _ := http.NewRequest(method, tc.srv.URL+path, rd)
	if token != "" {
		r.Header.Set("X-Auth-Token", token)
	}
	r.Header.Set("Accept", "application/json")
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header}
	out.raw, _ = io.ReadAll(res.Body)
	if bytes.HasPrefix(bytes.TrimSpace(out.raw), []byte("{")) {
		_ = json.Unmarshal(out.raw, &out.json)
	}
	return out
}

// must is req that fails the test unless the status is want.
func (tc *testCloud) must(want int, method, path, token string, body any, hdr ...string) resp {
	tc.t.Helper()
	r := tc.req(method, path, token, body, hdr...)
	if r.status != want {
		tc.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// patch sends a JSON-patch document.
func (tc *testCloud) patch(want int, id, token string, ops ...map[string]any) resp {
	tc.t.Helper()
	raw, _ := json.Marshal(ops)
	return tc.must(want, "PATCH", "/v2/images/"+id, token, string(raw), "Content-Type", "application/openstack-images-v2.1-json-patch")
}

// create makes an image and returns its id.
func (tc *testCloud) create(token string, body map[string]any) string {
	tc.t.Helper()
	return str(tc.must(201, "POST", "/v2/images", token, body).json, "id")
}

func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		obj, _ := cur.(map[string]any)
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}

// ids returns the ids of an image list response.
func ids(r resp) []string {
	var out []string
	list, _ := r.json["images"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}
