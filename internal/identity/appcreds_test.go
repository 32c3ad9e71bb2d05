package identity

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// appCredAuth authenticates with the application_credential method and
// returns the token and its body.
func appCredAuth(t *testing.T, tc *testCloud, method map[string]any) (string, map[string]any) {
	t.Helper()
	status, body, hdr := appCredAuthStatus(tc, method)
	if status != http.StatusCreated {
		t.Fatalf("application credential auth: status %d: %v", status, body)
	}
	return hdr.Get("X-Subject-Token"), body
}

func appCredAuthStatus(tc *testCloud, method map[string]any) (int, map[string]any, http.Header) {
	return tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods": []string{"application_credential"}, "application_credential": method}}})
}

func appCredTokenRoles(body map[string]any) []string {
	var out []string
	roles, _ := body["token"].(map[string]any)["roles"].([]any)
	for _, r := range roles {
		out = append(out, r.(map[string]any)["name"].(string))
	}
	slices.Sort(out)
	return out
}

func TestAppCredCreateAuthenticateList(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/application_credentials"

	out := tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "ci", "description": "for CI"}})
	ac := out["application_credential"].(map[string]any)
	secret, _ := ac["secret"].(string)
	if len(secret) < 64 || ac["project_id"] != tc.adminProj || ac["unrestricted"] != false || ac["expires_at"] != nil || ac["description"] != "for CI" {
		t.Fatalf("create: %v", ac)
	}
	if _, has := ac["access_rules"]; has {
		t.Fatalf("access_rules shown without any: %v", ac)
	}
	id := ac["id"].(string)
	// With no roles asked, it gets every role of the token: member and the
	// reader role member implies.
	var names []string
	for _, r := range ac["roles"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"member", "reader"}) {
		t.Fatalf("roles: %v", names)
	}

	shown := tc.must(200, "GET", base+"/"+id, aliceTok, nil)["application_credential"].(map[string]any)
	if _, has := shown["secret"]; has || shown["name"] != "ci" {
		t.Fatalf("show: %v", shown)
	}
	var hash string
	if err := tc.svc.store.db.R.QueryRow(`SELECT secret_hash FROM application_credentials WHERE id = ?`, id).Scan(&hash); err != nil || !strings.HasPrefix(hash, "$2") {
		t.Fatalf("secret not bcrypt-hashed: %q %v", hash, err)
	}

	// By id, and by name with the user by id or by name and domain.
	for _, m := range []map[string]any{
		{"id": id, "secret": secret},
		{"name": "ci", "user": map[string]any{"id": alice}, "secret": secret},
		{"name": "ci", "user": map[string]any{"name": "alice", "domain": map[string]any{"id": "default"}}, "secret": secret},
	} {
		_, body := appCredAuth(t, tc, m)
		tok := body["token"].(map[string]any)
		if str(body, "token", "project", "id") != tc.adminProj || str(body, "token", "user", "id") != alice ||
			str(body, "token", "application_credential", "id") != id || !slices.Contains(appCredStrings(tok["methods"]), "application_credential") {
			t.Fatalf("token: %v", body)
		}
	}
	for _, m := range []map[string]any{
		{"id": id, "secret": "wrong"},
		{"id": "no-such-credential", "secret": secret},
		{"name": "nope", "user": map[string]any{"id": alice}, "secret": secret},
	} {
		if status, _, _ := appCredAuthStatus(tc, m); status != 401 {
			t.Fatalf("bad auth %v: status %d", m, status)
		}
	}
	if status, _, _ := appCredAuthStatus(tc, map[string]any{"name": "ci", "secret": secret}); status != 400 {
		t.Fatalf("name without user: status %d", status)
	}
	// An application credential carries its own scope.
	status, _, _ := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods": []string{"application_credential"}, "application_credential": map[string]any{"id": id, "secret": secret}},
		"scope": projectScope(tc.adminProj)}})
	if status != 401 {
		t.Fatalf("scoped app cred auth: %d", status)
	}

	tc.must(409, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "ci"}})
	tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "other", "secret": "chosen"}})
	if n := len(tc.must(200, "GET", base, aliceTok, nil)["application_credentials"].([]any)); n != 2 {
		t.Fatalf("list: %d", n)
	}
	list := tc.must(200, "GET", base+"?name=other", aliceTok, nil)["application_credentials"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "other" {
		t.Fatalf("list by name: %v", list)
	}
	appCredAuth(t, tc, map[string]any{"name": "other", "user": map[string]any{"id": alice}, "secret": "chosen"})
}

func appCredStrings(v any) []string {
	var out []string
	arr, _ := v.([]any)
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestAppCredRoles(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/application_credentials"
	create := func(want int, name string, roles ...map[string]any) map[string]any {
		t.Helper()
		return tc.must(want, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": name, "roles": roles, "secret": "s-" + name}})
	}

	create(201, "by-name", map[string]any{"name": "reader"})
	_, body := appCredAuth(t, tc, map[string]any{"name": "by-name", "user": map[string]any{"id": alice}, "secret": "s-by-name"})
	if got := appCredTokenRoles(body); !slices.Equal(got, []string{"reader"}) {
		t.Fatalf("reader-only token roles: %v", got)
	}
	create(201, "by-id", map[string]any{"id": tc.roleID("member")})
	_, body = appCredAuth(t, tc, map[string]any{"name": "by-id", "user": map[string]any{"id": alice}, "secret": "s-by-id"})
	if got := appCredTokenRoles(body); !slices.Equal(got, []string{"member", "reader"}) {
		t.Fatalf("member token roles: %v", got)
	}

	// Roles beyond the token's are refused, unknown ones are not found.
	create(400, "escalate", map[string]any{"name": "admin"})
	create(400, "escalate", map[string]any{"id": tc.roleID("admin")})
	create(404, "unknown", map[string]any{"name": "no-such-role"})
	create(400, "both", map[string]any{"id": tc.roleID("member"), "name": "member"})
	create(400, "neither", map[string]any{})

	// Losing the role on the project makes the credential useless.
	if err := tc.svc.store.DeleteAssignment(t.Context(), Assignment{Type: UserProject, ActorID: alice, TargetID: tc.adminProj, RoleID: tc.roleID("member")}); err != nil {
		t.Fatal(err)
	}
	tc.svc.invalidate()
	if status, _, _ := appCredAuthStatus(tc, map[string]any{"name": "by-id", "user": map[string]any{"id": alice}, "secret": "s-by-id"}); status != 401 {
		t.Fatalf("auth without the role: %d", status)
	}
}

func TestAppCredExpiry(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/application_credentials"
	for _, exp := range []any{"2000-01-01T00:00:00", "yesterday", "2000-01-01T00:00:00Z", 12} {
		tc.must(400, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "old", "expires_at": exp}})
	}
	// Tempest sends a naive UTC time with microseconds and wants it back
	// verbatim.
	want := time.Now().UTC().Add(time.Hour).Format(appCredTimeLayout)
	ac := tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "soon", "expires_at": want, "secret": "s"}})
	id := str(ac, "application_credential", "id")
	if got := str(ac, "application_credential", "expires_at"); got != want {
		t.Fatalf("expires_at %q, want %q", got, want)
	}
	offset := time.Now().Add(2 * time.Hour).In(time.FixedZone("X", 3600)).Format(time.RFC3339)
	tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "zoned", "expires_at": offset}})

	tok, body := appCredAuth(t, tc, map[string]any{"id": id, "secret": "s"})
	exp, _ := time.Parse(time.RFC3339, str(body, "token", "expires_at"))
	if exp.After(time.Now().Add(time.Hour + time.Minute)) {
		t.Fatalf("token outlives its application credential: %v", exp)
	}
	// Once expired, neither new tokens nor the old ones work.
	if _, err := tc.svc.store.db.W.Exec(`UPDATE application_credentials SET expires_at = ? WHERE id = ?`, micros(time.Now().Add(-time.Second)), id); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := appCredAuthStatus(tc, map[string]any{"id": id, "secret": "s"}); status != 401 {
		t.Fatalf("expired auth: %d", status)
	}
	if status, _, _ := tc.do("GET", base, tok, nil); status != 401 {
		t.Fatalf("token of an expired credential: %d", status)
	}
}

func TestAppCredDeleteInvalidatesTokens(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/application_credentials"
	id := str(tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "gone", "secret": "s"}}), "application_credential", "id")
	tok, _ := appCredAuth(t, tc, map[string]any{"id": id, "secret": "s"})
	tc.must(200, "GET", base, tok, nil)
	tc.must(204, "DELETE", base+"/"+id, aliceTok, nil)
	if status, _, _ := tc.do("GET", base, tok, nil); status != 401 {
		t.Fatalf("token of a deleted credential: %d", status)
	}
	if status, _, _ := appCredAuthStatus(tc, map[string]any{"id": id, "secret": "s"}); status != 401 {
		t.Fatalf("auth with a deleted credential: %d", status)
	}
	tc.must(404, "GET", base+"/"+id, aliceTok, nil)
	tc.must(404, "DELETE", base+"/"+id, aliceTok, nil)
}

func TestAppCredRestrictedCannotMintMore(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/application_credentials"
	r := str(tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "restricted", "secret": "s"}}), "application_credential", "id")
	u := str(tc.must(201, "POST", base, aliceTok, map[string]any{"application_credential": map[string]any{"name": "free", "secret": "s", "unrestricted": true}}), "application_credential", "id")
	rTok, _ := appCredAuth(t, tc, map[string]any{"id": r, "secret": "s"})
	uTok, _ := appCredAuth(t, tc, map[string]any{"id": u, "secret": "s"})

	tc.must(403, "POST", base, rTok, map[string]any{"application_credential": map[string]any{"name": "child"}})
	tc.must(403, "DELETE", base+"/"+u, rTok, nil)
	tc.must(200, "GET", base+"/"+u, rTok, nil)
	child := tc.must(201, "POST", base, uTok, map[string]any{"application_credential": map[string]any{"name": "child"}})
	tc.must(204, "DELETE", base+"/"+str(child, "application_credential", "id"), uTok, nil)
}

func TestAppCredOtherUsers(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	bob, bobTok := credTestUser(tc, "bob", tc.adminProj, "member")
	aliceBase := "/v3/users/" + alice + "/application_credentials"
	id := str(tc.must(201, "POST", aliceBase, aliceTok, map[string]any{"application_credential": map[string]any{"name": "mine"}}), "application_credential", "id")

	tc.must(403, "POST", aliceBase, bobTok, map[string]any{"application_credential": map[string]any{"name": "theirs"}})
	// Not even the admin creates one for someone else.
	tc.must(403, "POST", aliceBase, tc.adminToken, map[string]any{"application_credential": map[string]any{"name": "theirs"}})
	tc.must(403, "GET", aliceBase, bobTok, nil)
	tc.must(403, "GET", aliceBase+"/"+id, bobTok, nil)
	// Naming oneself in the path does not reach another user's credential.
	tc.must(403, "GET", "/v3/users/"+bob+"/application_credentials/"+id, bobTok, nil)
	tc.must(403, "DELETE", "/v3/users/"+bob+"/application_credentials/"+id, bobTok, nil)
	tc.must(200, "GET", aliceBase+"/"+id, tc.adminToken, nil)
	tc.must(404, "GET", "/v3/users/"+bob+"/application_credentials/"+id, tc.adminToken, nil)
}

func TestAppCredBadInput(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	base := "/v3/users/" + alice + "/application_credentials"
	for name, body := range map[string]any{
		"no object":         map[string]any{},
		"no name":           map[string]any{"application_credential": map[string]any{}},
		"blank name":        map[string]any{"application_credential": map[string]any{"name": "  "}},
		"long name":         map[string]any{"application_credential": map[string]any{"name": strings.Repeat("n", 256)}},
		"name not string":   map[string]any{"application_credential": map[string]any{"name": 1}},
		"unrestricted str":  map[string]any{"application_credential": map[string]any{"name": "x", "unrestricted": "true"}},
		"roles not array":   map[string]any{"application_credential": map[string]any{"name": "x", "roles": "member"}},
		"secret not string": map[string]any{"application_credential": map[string]any{"name": "x", "secret": 5}},
		"rule bad method":   map[string]any{"application_credential": map[string]any{"name": "x", "access_rules": []any{map[string]any{"service": "compute", "path": "/v2.1/servers", "method": "FETCH"}}}},
		"rule bad path":     map[string]any{"application_credential": map[string]any{"name": "x", "access_rules": []any{map[string]any{"service": "compute", "path": "servers", "method": "GET"}}}},
		"rule extra key":    map[string]any{"application_credential": map[string]any{"name": "x", "access_rules": []any{map[string]any{"service": "compute", "path": "/", "method": "GET", "x": 1}}}},
		"rule incomplete":   map[string]any{"application_credential": map[string]any{"name": "x", "access_rules": []any{map[string]any{"service": "compute"}}}},
	} {
		if status, out, _ := tc.do("POST", base, aliceTok, body); status != 400 {
			t.Errorf("%s: status %d, want 400: %v", name, status, out)
		}
	}
	// An unscoped token has no project to give the credential.
	unscoped, _ := tc.passwordToken("alice", credTestPassword, nil)
	tc.must(400, "POST", base, unscoped, map[string]any{"application_credential": map[string]any{"name": "x"}})
}

func TestAccessRules(t *testing.T) {
	tc := newTestCloud(t)
	alice, aliceTok := credTestUser(tc, "alice", tc.adminProj, "member")
	_, bobTok := credTestUser(tc, "bob", tc.adminProj, "member")
	base := "/v3/users/" + alice
	rule := map[string]any{"path": "/v2.1/servers/*/ips", "method": "GET", "service": "compute"}
	ac := tc.must(201, "POST", base+"/application_credentials", aliceTok, map[string]any{"application_credential": map[string]any{
		"name": "ruled", "secret": "s", "access_rules": []any{rule}}})["application_credential"].(map[string]any)
	got := ac["access_rules"].([]any)[0].(map[string]any)
	ruleID, _ := got["id"].(string)
	delete(got, "id")
	if len(got) != 3 || got["path"] != rule["path"] || got["method"] != "GET" || got["service"] != "compute" || ruleID == "" {
		t.Fatalf("access rule in create: %v", ac["access_rules"])
	}
	_, body := appCredAuth(t, tc, map[string]any{"id": ac["id"], "secret": "s"})
	if rules, _ := body["token"].(map[string]any)["application_credential"].(map[string]any)["access_rules"].([]any); len(rules) != 1 {
		t.Fatalf("token access rules: %v", body["token"])
	}

	// The same rule again, by content or by id, is the same rule.
	second := tc.must(201, "POST", base+"/application_credentials", aliceTok, map[string]any{"application_credential": map[string]any{
		"name": "ruled2", "access_rules": []any{rule}}})["application_credential"].(map[string]any)
	third := tc.must(201, "POST", base+"/application_credentials", aliceTok, map[string]any{"application_credential": map[string]any{
		"name": "ruled3", "access_rules": []any{map[string]any{"id": ruleID}}}})["application_credential"].(map[string]any)
	for _, a := range []map[string]any{second, third} {
		if id := a["access_rules"].([]any)[0].(map[string]any)["id"]; id != ruleID {
			t.Fatalf("rule not reused: %v", a["access_rules"])
		}
	}
	tc.must(404, "POST", base+"/application_credentials", aliceTok, map[string]any{"application_credential": map[string]any{
		"name": "ruled4", "access_rules": []any{map[string]any{"id": "no-such-rule"}}}})
	// Another user cannot link alice's rule by its id: they get a rule of
	// their own.
	other := tc.must(201, "POST", "/v3/users/"+tc.adminID+"/application_credentials", tc.adminToken, map[string]any{
		"application_credential": map[string]any{"name": "admin-ruled", "access_rules": []any{map[string]any{"id": ruleID, "service": "compute", "path": "/x", "method": "GET"}}}})
	if id := other["application_credential"].(map[string]any)["access_rules"].([]any)[0].(map[string]any)["id"]; id == ruleID {
		t.Fatalf("linked another user's rule")
	}

	list := tc.must(200, "GET", base+"/access_rules", aliceTok, nil)["access_rules"].([]any)
	if len(list) != 1 {
		t.Fatalf("list: %v", list)
	}
	tc.must(200, "GET", base+"/access_rules/"+ruleID, aliceTok, nil)
	tc.must(403, "GET", base+"/access_rules", bobTok, nil)
	tc.must(403, "GET", base+"/access_rules/"+ruleID, bobTok, nil)
	tc.must(404, "GET", base+"/access_rules/no-such-rule", aliceTok, nil)
	if n := len(tc.must(200, "GET", base+"/access_rules?service=image", aliceTok, nil)["access_rules"].([]any)); n != 0 {
		t.Fatalf("filtered list: %d", n)
	}

	// In use: 403 until every credential using it is gone.
	tc.must(403, "DELETE", base+"/access_rules/"+ruleID, aliceTok, nil)
	for _, a := range []map[string]any{ac, second, third} {
		tc.must(204, "DELETE", base+"/application_credentials/"+a["id"].(string), aliceTok, nil)
	}
	if n := len(tc.must(200, "GET", base+"/access_rules", aliceTok, nil)["access_rules"].([]any)); n != 1 {
		t.Fatalf("rule gone with its credentials: %d", n)
	}
	tc.must(204, "DELETE", base+"/access_rules/"+ruleID, aliceTok, nil)
	tc.must(404, "DELETE", base+"/access_rules/"+ruleID, aliceTok, nil)
}
