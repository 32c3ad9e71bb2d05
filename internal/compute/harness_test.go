package compute

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

// testCloud is a compute service and a real identity service (its token
// validator) on one temporary SQLite database, both behind real HTTP
// servers. Tokens: admin (admin project), alice (member of project A),
// bob (member of project B), rita (reader of project A), carol (member of
// project A, a second user there).
type testCloud struct {
	t        testing.TB
	svc      *Service
	id       *identity.Service
	db       *db.DB
	srv      *httptest.Server // compute
	idsrv    *httptest.Server // identity
	dir      string
	admin    string
	alice    string
	bob      string
	rita     string
	carol    string
	projA    string
	projB    string
	adminPrj string
	users    map[string]string // name -> user id
}

// projectsOf adapts the identity service to ProjectVerifier.
type projectsOf struct{ id *identity.Service }

func (p projectsOf) ProjectExists(ctx context.Context, id string) (bool, error) {
	_, err := p.id.Store().GetProject(ctx, id)
	return err == nil, nil
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
	tc := &testCloud{t: t, id: idsvc, db: d, dir: dir, users: map[string]string{}}
	tc.idsrv = httptest.NewServer(idsvc.Handler())
	t.Cleanup(tc.idsrv.Close)
	url := tc.idsrv.URL + "/v3"
	if err := idsvc.Bootstrap(ctx, identity.BootstrapOptions{AdminPassword: "pw",
		Endpoints: []identity.CatalogEntry{{Type: "identity", Name: "keystone", PublicURL: url, InternalURL: url, AdminURL: url}}}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: dir, IdentityURL: url, Projects: projectsOf{idsvc}}
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
	tc.users["admin"] = str(body, "token", "user", "id")
	tc.projA = tc.idMust(201, "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "A", "domain_id": "default"}}, "project", "id")
	tc.projB = tc.idMust(201, "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "B", "domain_id": "default"}}, "project", "id")
	tc.user("alice", tc.projA, "member")
	tc.user("bob", tc.projB, "member")
	tc.user("rita", tc.projA, "reader")
	tc.user("carol", tc.projA, "member")
	tc.alice, _ = tc.token("alice", "pw", "A")
	tc.bob, _ = tc.token("bob", "pw", "B")
	tc.rita, _ = tc.token("rita", "pw", "A")
	tc.carol, _ = tc.token("carol", "pw", "A")
	return tc
}

// idMust calls the identity API as admin and returns the string at keys.
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

// user creates a user with password "pw" and a role on project.
func (tc *testCloud) user(name, project, role string) {
	tc.t.Helper()
	uid := tc.idMust(201, "POST", "/v3/users", map[string]any{"user": map[string]any{"name": name, "password": "pw", "domain_id": "default"}}, "user", "id")
	tc.users[name] = uid
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

// req sends a request to the compute API. body may be nil, a string (sent
// as is) or anything else (sent as JSON). hdr are header name/value pairs;
// "mv", "2.55" is short for the microversion header.
func (tc *testCloud) req(method, path, token string, body any, hdr ...string) resp {
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
	r, _ := http.NewRequest(method, tc.srv.URL+path, rd)
	if token != "" {
		r.Header.Set("X-Auth-Token", token)
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "mv" {
			r.Header.Set("OpenStack-API-Version", "compute "+hdr[i+1])
			continue
		}
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

// fault checks a Nova fault body: {"<name>": {"code": status, "message": msg}}
// ("" skips the message check).
func (tc *testCloud) fault(r resp, status int, name, msg string) {
	tc.t.Helper()
	f, ok := r.json[name].(map[string]any)
	if r.status != status || !ok || len(r.json) != 1 {
		tc.t.Fatalf("want %d %s fault, got %d %s", status, name, r.status, r.raw)
	}
	if code, _ := f["code"].(float64); int(code) != status {
		tc.t.Fatalf("fault code %v, want %d: %s", f["code"], status, r.raw)
	}
	if m, _ := f["message"].(string); msg != "" && m != msg {
		tc.t.Fatalf("fault message:\n got %q\nwant %q", m, msg)
	}
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

// keysOf returns an object's keys, sorted.
func keysOf(m any) []string {
	obj, _ := m.(map[string]any)
	return sortedKeys(obj)
}
