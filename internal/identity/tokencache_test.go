package identity

import (
	"net/http"
	"testing"
	"time"
)

// The validated-token cache must never outlive what makes a token valid:
// key rotation, revocation and role removal all take effect at once.
func TestTokenCacheFollowsKeysRevocationAndRoles(t *testing.T) {
	tc := newTestCloud(t)
	caller := tc.adminToken
	validate := func(subject string) int {
		req, _ := http.NewRequest("GET", tc.srv.URL+"/v3/auth/tokens", nil)
		req.Header.Set("X-Auth-Token", caller)
		req.Header.Set("X-Subject-Token", subject)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Role removal: alice loses her only role on the project.
	p := str(tc.must(201, "POST", "/v3/projects", tc.adminToken, map[string]any{"project": map[string]any{"name": "p"}}), "project", "id")
	uid := tc.createUser("alice", "pw", p)
	alice, _ := tc.passwordToken("alice", "pw", projectScope(p))
	for i := 0; i < 3; i++ { // warm the cache
		if s := validate(alice); s != 200 {
			t.Fatalf("validate alice: %d", s)
		}
	}
	tc.must(204, "DELETE", "/v3/projects/"+p+"/users/"+uid+"/roles/"+tc.roleID("member"), tc.adminToken, nil)
	if s := validate(alice); s != 404 {
		t.Fatalf("after role removal: %d", s)
	}
	// Revocation of a cached token.
	other, _ := tc.passwordToken("admin", testAdminPassword, projectScope(tc.adminProj))
	validate(other)
	req, _ := http.NewRequest("DELETE", tc.srv.URL+"/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", tc.adminToken)
	req.Header.Set("X-Subject-Token", other)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	if s := validate(other); s != 404 {
		t.Fatalf("after revocation: %d", s)
	}
	// Key rotation: once the key that signed a cached token is gone, the
	// token stops validating.
	old, _ := tc.passwordToken("admin", testAdminPassword, projectScope(tc.adminProj))
	if s := validate(old); s != 200 {
		t.Fatalf("validate old: %d", s)
	}
	for i := 0; i < 3; i++ {
		if err := RotateKeys(tc.svc.cfg.DataDir, 2); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The caller's own token was signed by a dropped key too.
		caller, _ = tc.passwordToken("admin", testAdminPassword, projectScope(tc.adminProj))
		if validate(old) == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("token signed by a dropped key still validates 10 s after rotation")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Refused writes (no token, bad body) do not empty the caches; a
// successful write does.
func TestRefusedWritesKeepTheCache(t *testing.T) {
	tc := newTestCloud(t)
	before := tc.svc.cache.Load()
	tc.must(401, "POST", "/v3/users", "", map[string]any{"user": map[string]any{"name": "x"}})
	tc.must(400, "POST", "/v3/users", tc.adminToken, `{"user": 5}`)
	if tc.svc.cache.Load() != before {
		t.Fatal("a refused write replaced the cache")
	}
	tc.must(201, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "x"}})
	if tc.svc.cache.Load() == before {
		t.Fatal("a successful write kept the old cache")
	}
}
