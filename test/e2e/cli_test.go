package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenstackCLIWalk is the first hour of a new user, with Debian's
// openstack client: issue a token, create a project and a user, give the
// user a role, look at the catalog, work as that user, and find everything
// (and every token) still there after kumo restarts.
func TestOpenstackCLIWalk(t *testing.T) {
	requireCLI(t)
	dir := t.TempDir()
	offset := freeOffset(t)
	password := randomPassword(t)
	k := startKumo(t, dir, offset, "--admin-password", password)
	admin := k.openrc()
	if admin["OS_PASSWORD"] != password {
		t.Fatalf("openrc has OS_PASSWORD %q, want the --admin-password %q", admin["OS_PASSWORD"], password)
	}

	var adminTok issuedToken
	decodeJSON(t, mustOpenstack(t, admin, "token", "issue", "-f", "json"), &adminTok)
	if adminTok.ID == "" || adminTok.ProjectID == "" || adminTok.UserID == "" {
		t.Fatalf("admin token issue: missing fields in %+v", adminTok)
	}

	cloud := map[string]string{"OS_CLOUD": "kumo", "OS_CLIENT_CONFIG_FILE": filepath.Join(dir, "clouds.yaml")}
	var cloudTok issuedToken
	decodeJSON(t, mustOpenstack(t, cloud, "token", "issue", "-f", "json"), &cloudTok)
	if cloudTok.ID == "" || cloudTok.UserID != adminTok.UserID || cloudTok.ProjectID != adminTok.ProjectID {
		t.Fatalf("token issue with OS_CLOUD=kumo: got %+v, want the admin user and project of %+v", cloudTok, adminTok)
	}

	var demo, alice map[string]any
	decodeJSON(t, mustOpenstack(t, admin, "project", "create", "demo", "-f", "json"), &demo)
	if demo["name"] != "demo" || str(demo, "id") == "" {
		t.Fatalf("project create demo: got %v", demo)
	}
	decodeJSON(t, mustOpenstack(t, admin, "user", "create", "--project", "demo", "--password", "s3cret", "alice", "-f", "json"), &alice)
	if alice["name"] != "alice" || str(alice, "id") == "" {
		t.Fatalf("user create alice: got %v", alice)
	}
	if got := str(alice, "default_project_id"); got != str(demo, "id") {
		t.Errorf("user create --project demo: default_project_id = %q, want %q", got, str(demo, "id"))
	}
	mustOpenstack(t, admin, "role", "add", "--project", "demo", "--user", "alice", "member")

	var catalog []map[string]any
	decodeJSON(t, mustOpenstack(t, admin, "catalog", "list", "-f", "json"), &catalog)
	checkIdentityInCatalog(t, catalog, admin["OS_AUTH_URL"])

	asAlice := with(admin, "OS_USERNAME", "alice", "OS_PASSWORD", "s3cret", "OS_PROJECT_NAME", "demo")
	var aliceTok issuedToken
	decodeJSON(t, mustOpenstack(t, asAlice, "token", "issue", "-f", "json"), &aliceTok)
	if aliceTok.ProjectID != str(demo, "id") || aliceTok.UserID != str(alice, "id") {
		t.Fatalf("alice's token: got %+v, want user %v in project %v", aliceTok, alice["id"], demo["id"])
	}
	expectForbidden(t, asAlice, "user", "list")

	// Restart on the same data dir without --admin-password: the stored
	// password, the data and the fernet keys must all survive.
	k.stop()
	k = startKumo(t, dir, offset)
	admin2 := k.openrc()
	if admin2["OS_PASSWORD"] != password {
		t.Errorf("after a restart without --admin-password, openrc has OS_PASSWORD %q, want the stored %q", admin2["OS_PASSWORD"], password)
	}
	if admin2["OS_AUTH_URL"] != admin["OS_AUTH_URL"] {
		t.Errorf("after a restart, OS_AUTH_URL = %q, want %q", admin2["OS_AUTH_URL"], admin["OS_AUTH_URL"])
	}

	var demo2, alice2 map[string]any
	decodeJSON(t, mustOpenstack(t, admin2, "project", "show", "demo", "-f", "json"), &demo2)
	if demo2["id"] != demo["id"] {
		t.Errorf("after a restart, project demo has id %v, want %v", demo2["id"], demo["id"])
	}
	decodeJSON(t, mustOpenstack(t, admin2, "user", "show", "alice", "-f", "json"), &alice2)
	if alice2["id"] != alice["id"] {
		t.Errorf("after a restart, user alice has id %v, want %v", alice2["id"], alice["id"])
	}
	var assignments []map[string]any
	decodeJSON(t, mustOpenstack(t, admin2, "role", "assignment", "list", "--user", "alice", "--project", "demo", "--names", "-f", "json"), &assignments)
	if !hasAssignment(assignments, "member", "alice", "demo") {
		t.Errorf("after a restart, alice's role assignments on demo are %v, want member", assignments)
	}
	var aliceTok2 issuedToken
	decodeJSON(t, mustOpenstack(t, asAlice, "token", "issue", "-f", "json"), &aliceTok2)
	expectForbidden(t, asAlice, "user", "list")

	var adminTok2 issuedToken
	decodeJSON(t, mustOpenstack(t, admin2, "token", "issue", "-f", "json"), &adminTok2)
	authURL := admin["OS_AUTH_URL"]
	checkToken(t, authURL, adminTok2.ID, adminTok.ID, "admin", "admin")
	checkToken(t, authURL, adminTok2.ID, aliceTok.ID, "alice", "demo")
	checkToken(t, authURL, adminTok.ID, adminTok.ID, "admin", "admin") // an old token still authenticates
}

// issuedToken is `openstack token issue -f json`.
type issuedToken struct {
	ID        string `json:"id"`
	Expires   string `json:"expires"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, s, err)
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// expectForbidden runs a command that the user's role does not allow and
// checks that kumo refused it with 403 (not 401, 404 or a 500).
func expectForbidden(t *testing.T, vars map[string]string, args ...string) {
	t.Helper()
	r := openstack(t, vars, args...)
	if r.err == nil {
		t.Errorf("openstack %s as %s succeeded, want 403:\n%s", strings.Join(args, " "), who(vars), r.stdout)
		return
	}
	if !strings.Contains(r.stderr, "HTTP 403") {
		t.Errorf("openstack %s as %s failed, but not with HTTP 403:\n%s", strings.Join(args, " "), who(vars), r.stderr)
	}
}

// checkIdentityInCatalog looks for the identity service with a public
// endpoint at the openrc's OS_AUTH_URL in `openstack catalog list -f json`.
func checkIdentityInCatalog(t *testing.T, catalog []map[string]any, authURL string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("OS_AUTH_URL %q: %v", authURL, err)
	}
	for _, svc := range catalog {
		if svc["Type"] != "identity" {
			continue
		}
		eps, _ := json.Marshal(svc["Endpoints"])
		if !strings.Contains(string(eps), u.Host) {
			t.Errorf("catalog: identity endpoints %s do not mention %s", eps, u.Host)
		}
		return
	}
	t.Errorf("catalog list has no identity service: %v", catalog)
}

// hasAssignment reports whether `openstack role assignment list --names`
// output has role on user in project (names may carry "@Default").
func hasAssignment(as []map[string]any, role, user, project string) bool {
	name := func(m map[string]any, k string) string {
		s, _ := m[k].(string)
		s, _, _ = strings.Cut(s, "@")
		return s
	}
	for _, a := range as {
		if name(a, "Role") == role && name(a, "User") == user && name(a, "Project") == project {
			return true
		}
	}
	return false
}

// checkToken validates subject with GET /v3/auth/tokens, as a service
// would, and checks whose token it is.
func checkToken(t *testing.T, authURL, authToken, subject, wantUser, wantProject string) {
	t.Helper()
	body := validateToken(t, authURL, authToken, subject, http.StatusOK)
	var v struct {
		Token struct {
			User    struct{ Name string } `json:"user"`
			Project struct{ Name string } `json:"project"`
		} `json:"token"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("validate token: %v in %s", err, body)
	}
	if v.Token.User.Name != wantUser || v.Token.Project.Name != wantProject {
		t.Errorf("validated token is %s in %s, want %s in %s", v.Token.User.Name, v.Token.Project.Name, wantUser, wantProject)
	}
}

// httpClient never uses a proxy: every target is on loopback.
var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}

func validateToken(t *testing.T, authURL, authToken, subject string, wantStatus int) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.TrimRight(authURL, "/")+"/auth/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", authToken)
	req.Header.Set("X-Subject-Token", subject)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v3/auth/tokens: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("GET /v3/auth/tokens: read body: %v", err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET /v3/auth/tokens: status %d, want %d: %s", resp.StatusCode, wantStatus, string(b))
	}
	if resp.Header.Get("X-Subject-Token") == "" && wantStatus == http.StatusOK {
		t.Errorf("GET /v3/auth/tokens: no X-Subject-Token header in the answer")
	}
	return b
}
