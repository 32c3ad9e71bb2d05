package identity

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"kumo/internal/identity/token"
)

func TestOversizedBodyIs413(t *testing.T) {
	tc := newTestCloud(t)
	huge := `{"project": {"name": "p", "description": "` + strings.Repeat("x", 200*1024) + `"}}`
	status, body, _ := tc.do("POST", "/v3/projects", tc.adminToken, huge)
	if status != http.StatusRequestEntityTooLarge || str(body, "error", "title") != "Request Entity Too Large" {
		t.Fatalf("got %d %v", status, body)
	}
	status, _, _ = tc.do("POST", "/v3/auth/tokens", "", huge)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("auth: got %d", status)
	}
}

func TestExpiredAndForgedTokens(t *testing.T) {
	tc := newTestCloud(t)
	keys, err := tc.svc.keys.Keys()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, err := tc.svc.store.GetUserByName(ctx, "default", "admin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	seal := func(p token.Payload) string {
		s, err := keys.Seal(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := token.Payload{Methods: []string{"password"}, UserID: admin.ID, ProjectID: tc.adminProj, AuditIDs: []string{token.NewAuditID()}}
	expired := base
	expired.IssuedAt, expired.ExpiresAt = now.Add(-2*time.Hour), now.Add(-time.Hour)
	ghost := base
	ghost.UserID, ghost.IssuedAt, ghost.ExpiresAt = "0123456789abcdef0123456789abcdef", now, now.Add(time.Hour)
	// A token sealed with a key kumo never had.
	otherDir := t.TempDir()
	if err := token.Setup(otherDir); err != nil {
		t.Fatal(err)
	}
	otherKeys, err := token.Load(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	valid := base
	valid.IssuedAt, valid.ExpiresAt = now, now.Add(time.Hour)
	foreign, err := otherKeys.Seal(valid)
	if err != nil || foreign == "" {
		t.Fatalf("seal with the foreign keys: %v", err)
	}
	for name, tok := range map[string]string{
		"expired": seal(expired), "unknown user": seal(ghost), "foreign key": foreign,
		"garbage": "not-a-token", "empty-ish": "gAAAAA", "long": strings.Repeat("A", 10000),
	} {
		if status, body, hdr := tc.do("GET", "/v3/projects", tok, nil); status != 401 || hdr.Get("WWW-Authenticate") == "" || str(body, "error", "title") != "Unauthorized" {
			t.Errorf("%s as caller: %d %v", name, status, body)
		}
		req, _ := http.NewRequest("GET", tc.srv.URL+"/v3/auth/tokens", nil)
		req.Header.Set("X-Auth-Token", tc.adminToken)
		req.Header.Set("X-Subject-Token", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s as subject: %d", name, resp.StatusCode)
		}
	}
	// allow_expired lets a service validate a recently expired token.
	req, _ := http.NewRequest("GET", tc.srv.URL+"/v3/auth/tokens?allow_expired=1", nil)
	req.Header.Set("X-Auth-Token", tc.adminToken)
	req.Header.Set("X-Subject-Token", seal(expired))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("allow_expired: %d", resp.StatusCode)
	}
}

// TestConcurrentCreatesOfOneName races creates of the same name: exactly
// one wins with 201, every other gets Keystone's 409, none a 500.
func TestConcurrentCreatesOfOneName(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct{ path, kind string }{
		{"/v3/projects", "project"}, {"/v3/users", "user"}, {"/v3/groups", "group"}, {"/v3/roles", "role"}, {"/v3/domains", "domain"},
	} {
		const n = 12
		var wg sync.WaitGroup
		statuses := make(chan int, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, _, _ := tc.do("POST", c.path, tc.adminToken, map[string]any{c.kind: map[string]any{"name": "same-" + c.kind}})
				statuses <- s
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[201] != 1 || count[409] != n-1 {
			t.Errorf("%s: statuses %v, want one 201 and %d 409", c.kind, count, n-1)
		}
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	tc := newTestCloud(t)
	if status, body, _ := tc.do("GET", "/v3/nothing-here", tc.adminToken, nil); status != 404 || str(body, "error", "title") != "Not Found" {
		t.Errorf("unknown path: %d %v", status, body)
	}
	if status, body, _ := tc.do("PUT", "/v3/projects", tc.adminToken, `{}`); status != 405 || str(body, "error", "title") != "Method Not Allowed" {
		t.Errorf("wrong method: %d %v", status, body)
	}
	if status, _, _ := tc.do("GET", "/v3/projects", "", nil); status != 401 {
		t.Errorf("no token: %d", status)
	}
}

// An update whose row vanishes between the handler's read and its write (a
// concurrent delete) answers 404, not 500. A trigger deletes the row just
// before the UPDATE, deterministically.
func TestUpdateOfVanishingRowIs404(t *testing.T) {
	tc := newTestCloud(t)
	role := tc.must(201, "POST", "/v3/roles", tc.adminToken, map[string]any{"role": map[string]any{"name": "doomed"}})
	id := str(role, "role", "id")
	if _, err := tc.svc.store.db.W.Exec(`CREATE TRIGGER vanish BEFORE UPDATE ON roles BEGIN DELETE FROM roles WHERE id = OLD.id; END`); err != nil {
		t.Fatal(err)
	}
	code, body, _ := tc.do("PATCH", "/v3/roles/"+id, tc.adminToken, map[string]any{"role": map[string]any{"description": "x"}})
	if code != 404 {
		t.Fatalf("PATCH of a role deleted meanwhile: %d %v", code, body)
	}
}
