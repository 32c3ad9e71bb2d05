package identity

import (
	"net/http"
	"strings"
	"testing"
)

func TestTokenIssueValidateRevoke(t *testing.T) {
	tc := newTestCloud(t)
	req := func(method, subject string) (int, map[string]any) {
		r, _ := http.NewRequest(method, tc.srv.URL+"/v3/auth/tokens", nil)
		r.Header.Set("X-Auth-Token", tc.adminToken)
		r.Header.Set("X-Subject-Token", subject)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	other, tb := tc.passwordToken("admin", testAdminPassword, projectScope(tc.adminProj))
	if got := str(tb, "token", "project", "id"); got != tc.adminProj {
		t.Fatalf("project scope: got %q", got)
	}
	if cat, _ := tb["token"].(map[string]any)["catalog"].([]any); len(cat) != 1 {
		t.Fatalf("catalog: %v", tb["token"])
	}
	if s, _ := req("GET", other); s != 200 {
		t.Fatalf("validate: %d", s)
	}
	if s, _ := req("HEAD", other); s != 200 {
		t.Fatalf("check: %d", s)
	}
	if s, _ := req("DELETE", other); s != 204 {
		t.Fatalf("revoke: %d", s)
	}
	if s, _ := req("GET", other); s != 404 {
		t.Fatalf("validate revoked: %d", s)
	}
	// A tampered token is a 404 as subject and a 401 as caller.
	bad := other[:len(other)-3] + "AAA"
	if s, _ := req("GET", bad); s != 404 {
		t.Fatalf("validate tampered: %d", s)
	}
	if s, _, _ := tc.do("GET", "/v3/projects", bad, nil); s != 401 {
		t.Fatalf("tampered caller: %d", s)
	}
}

func TestAuthFailuresDoNotRevealUsers(t *testing.T) {
	tc := newTestCloud(t)
	for _, user := range []string{"admin", "nobody"} {
		status, body, hdr := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{"identity": map[string]any{
			"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{"name": user, "domain": map[string]any{"id": "default"}, "password": "wrong"}}}}})
		if status != 401 || str(body, "error", "message") != "The request you have made requires authentication." || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Keystone uri=") {
			t.Fatalf("%s: %d %v %v", user, status, body, hdr)
		}
	}
}

func TestAuthBadInput(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		body string
		want int
	}{
		{`{`, 400},
		{`[]`, 400},
		{`{"auth": {}}`, 400},
		{`{"auth": {"identity": {"methods": "password"}}}`, 400},
		{`{"auth": {"identity": {"methods": ["password"]}}}`, 400},
		{`{"auth": {"identity": {"methods": ["kerberos"]}}}`, 401},
		{`{"auth": {"identity": {"methods": ["token"], "token": {"id": "nonsense"}}}}`, 401},
		{`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "` + testAdminPassword + `"}}}, "scope": {"project": {"id": "nope"}}}}`, 401},
		{`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "` + testAdminPassword + `"}}}, "scope": {"project": {"id": "x"}, "domain": {"id": "default"}}}}`, 400},
	} {
		status, body, _ := tc.do("POST", "/v3/auth/tokens", "", c.body)
		if status != c.want || body["error"] == nil {
			t.Errorf("%s: got %d %v, want %d", c.body, status, body, c.want)
		}
	}
}

func TestRescopeKeepsExpiryAndChain(t *testing.T) {
	tc := newTestCloud(t)
	unscoped, ub := tc.passwordToken("admin", testAdminPassword, nil)
	if ub["token"].(map[string]any)["project"] != nil {
		t.Fatalf("admin has no default project: token should be unscoped: %v", ub)
	}
	status, body, hdr := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": unscoped}},
		"scope":    map[string]any{"system": map[string]any{"all": true}}}})
	if status != 201 || hdr.Get("X-Subject-Token") == "" {
		t.Fatalf("rescope: %d %v", status, body)
	}
	tok := body["token"].(map[string]any)
	if tok["expires_at"] != ub["token"].(map[string]any)["expires_at"] {
		t.Fatalf("rescoped token must keep the expiry: %v vs %v", tok["expires_at"], ub["token"].(map[string]any)["expires_at"])
	}
	audit := tok["audit_ids"].([]any)
	if len(audit) != 2 || audit[1] != ub["token"].(map[string]any)["audit_ids"].([]any)[0] {
		t.Fatalf("audit chain: %v", audit)
	}
	if sys, _ := tok["system"].(map[string]any); sys["all"] != true {
		t.Fatalf("system scope: %v", tok)
	}
}
