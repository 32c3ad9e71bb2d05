package identity

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// trustFixture is a project, a trustor holding two custom roles on it (one
// to delegate, one not), a trustee, and their project-scoped tokens.
type trustFixture struct {
	tc                         *testCloud
	project                    string
	trustor, trustee           string
	trustorToken, trusteeToken string
	delegated, other           string // role ids
	delegatedName              string
	trustorPass, trusteePass   string
}

func newTrustFixture(t *testing.T) *trustFixture {
	tc := newTestCloud(t)
	f := &trustFixture{tc: tc, trustorPass: "trustor-pw", trusteePass: "trustee-pw", delegatedName: "delegated"}
	f.project = str(tc.must(201, "POST", "/v3/projects", tc.adminToken, map[string]any{"project": map[string]any{"name": "trusted", "domain_id": "default"}}), "project", "id")
	f.trustor = tc.createUser("trustor", f.trustorPass, f.project)
	f.trustee = tc.createUser("trustee", f.trusteePass, f.project)
	f.delegated = str(tc.must(201, "POST", "/v3/roles", tc.adminToken, map[string]any{"role": map[string]any{"name": "delegated"}}), "role", "id")
	f.other = str(tc.must(201, "POST", "/v3/roles", tc.adminToken, map[string]any{"role": map[string]any{"name": "not-delegated"}}), "role", "id")
	for _, r := range []string{f.delegated, f.other} {
		tc.must(204, "PUT", "/v3/projects/"+f.project+"/users/"+f.trustor+"/roles/"+r, tc.adminToken, nil)
	}
	f.trustorToken, _ = tc.passwordToken("trustor", f.trustorPass, projectScope(f.project))
	f.trusteeToken, _ = tc.passwordToken("trustee", f.trusteePass, projectScope(f.project))
	return f
}

// trustBody is a create request from the fixture's trustor to its trustee,
// delegating the "delegated" role by name; extra fields override.
func (f *trustFixture) trustBody(extra map[string]any) map[string]any {
	tr := map[string]any{
		"trustor_user_id": f.trustor, "trustee_user_id": f.trustee, "project_id": f.project,
		"impersonation": true, "roles": []any{map[string]any{"name": f.delegatedName}},
	}
	for k, v := range extra {
		if v == nil {
			delete(tr, k)
		} else {
			tr[k] = v
		}
	}
	return map[string]any{"trust": tr}
}

func (f *trustFixture) createTrust(extra map[string]any) map[string]any {
	f.tc.t.Helper()
	return f.tc.must(201, "POST", "/v3/OS-TRUST/trusts", f.trustorToken, f.trustBody(extra))["trust"].(map[string]any)
}

// trustToken authenticates user with password and the trust scope.
func (f *trustFixture) trustToken(user, password, trustID string) (int, string, map[string]any) {
	f.tc.t.Helper()
	status, body, hdr := f.tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"id": "default"}, "password": password}}},
		"scope": map[string]any{"OS-TRUST:trust": map[string]any{"id": trustID}}}})
	return status, hdr.Get("X-Subject-Token"), body
}

func TestTrustCRUD(t *testing.T) {
	f := newTrustFixture(t)
	tc := f.tc
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tr := f.createTrust(map[string]any{"expires_at": exp.Format("2006-01-02T15:04:05Z"), "color": "blue"})
	id := tr["id"].(string)
	if tr["expires_at"] != exp.Format("2006-01-02T15:04:05.000000Z") || tr["impersonation"] != true || tr["remaining_uses"] != nil ||
		tr["redelegation_count"] != float64(0) || tr["project_id"] != f.project || tr["color"] != "blue" {
		t.Fatalf("created trust: %v", tr)
	}
	if roles := tr["roles"].([]any); len(roles) != 1 || roles[0].(map[string]any)["id"] != f.delegated {
		t.Fatalf("trust roles: %v", tr["roles"])
	}
	if _, ok := tr["roles_links"].(map[string]any); !ok {
		t.Fatalf("roles_links: %v", tr)
	}

	// Trustor and trustee may read it; nobody else, not even the admin.
	for _, tok := range []string{f.trustorToken, f.trusteeToken} {
		if got := tc.must(200, "GET", "/v3/OS-TRUST/trusts/"+id, tok, nil); str(got, "trust", "id") != id {
			t.Fatalf("get: %v", got)
		}
	}
	tc.must(403, "GET", "/v3/OS-TRUST/trusts/"+id, tc.adminToken, nil)
	tc.must(404, "GET", "/v3/OS-TRUST/trusts/nope", f.trustorToken, nil)

	// Listing: by trustor or trustee for oneself, everything for the admin.
	for _, q := range []struct{ path, tok string }{
		{"/v3/OS-TRUST/trusts?trustor_user_id=" + f.trustor, f.trustorToken},
		{"/v3/OS-TRUST/trusts/?trustor_user_id=" + f.trustor, f.trustorToken},
		{"/v3/OS-TRUST/trusts?trustee_user_id=" + f.trustee, f.trusteeToken},
		{"/v3/OS-TRUST/trusts/", tc.adminToken},
	} {
		ts := tc.must(200, "GET", q.path, q.tok, nil)["trusts"].([]any)
		if len(ts) != 1 || ts[0].(map[string]any)["id"] != id || ts[0].(map[string]any)["roles"] != nil {
			t.Fatalf("%s: %v", q.path, ts)
		}
	}
	tc.must(403, "GET", "/v3/OS-TRUST/trusts", f.trustorToken, nil)
	tc.must(403, "GET", "/v3/OS-TRUST/trusts?trustor_user_id="+f.trustor, f.trusteeToken, nil)

	// Its roles.
	roles := tc.must(200, "GET", "/v3/OS-TRUST/trusts/"+id+"/roles", f.trusteeToken, nil)["roles"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["name"] != "delegated" {
		t.Fatalf("trust roles: %v", roles)
	}
	tc.must(200, "GET", "/v3/OS-TRUST/trusts/"+id+"/roles/"+f.delegated, f.trustorToken, nil)
	tc.must(404, "GET", "/v3/OS-TRUST/trusts/"+id+"/roles/"+f.other, f.trustorToken, nil)
	if s, _, _ := tc.do("HEAD", "/v3/OS-TRUST/trusts/"+id+"/roles/"+f.delegated, f.trustorToken, nil); s != 200 {
		t.Fatalf("HEAD role: %d", s)
	}

	// Only the trustor deletes it; then it is gone.
	tc.must(403, "DELETE", "/v3/OS-TRUST/trusts/"+id, f.trusteeToken, nil)
	tc.must(204, "DELETE", "/v3/OS-TRUST/trusts/"+id, f.trustorToken, nil)
	tc.must(404, "GET", "/v3/OS-TRUST/trusts/"+id, f.trustorToken, nil)
	tc.must(404, "DELETE", "/v3/OS-TRUST/trusts/"+id, f.trustorToken, nil)
	if ts := tc.must(200, "GET", "/v3/OS-TRUST/trusts", tc.adminToken, nil)["trusts"].([]any); len(ts) != 0 {
		t.Fatalf("deleted trust listed: %v", ts)
	}
}

func TestTrustCreateBadInput(t *testing.T) {
	f := newTrustFixture(t)
	tc := f.tc
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		name  string
		token string
		body  any
		want  int
	}{
		{"not the trustor", tc.adminToken, f.trustBody(nil), 403},
		{"no trust", f.trustorToken, map[string]any{}, 403},
		{"no impersonation", f.trustorToken, f.trustBody(map[string]any{"impersonation": nil}), 400},
		{"impersonation string", f.trustorToken, f.trustBody(map[string]any{"impersonation": "yes"}), 400},
		{"no trustee", f.trustorToken, f.trustBody(map[string]any{"trustee_user_id": nil}), 400},
		{"unknown trustee", f.trustorToken, f.trustBody(map[string]any{"trustee_user_id": "nobody"}), 404},
		{"unknown role name", f.trustorToken, f.trustBody(map[string]any{"roles": []any{map[string]any{"name": "nope"}}}), 404},
		{"role not held", f.trustorToken, f.trustBody(map[string]any{"roles": []any{map[string]any{"id": tc.roleID("admin")}}}), 404},
		{"role with id and name", f.trustorToken, f.trustBody(map[string]any{"roles": []any{map[string]any{"id": f.delegated, "name": "delegated"}}}), 400},
		{"project without roles", f.trustorToken, f.trustBody(map[string]any{"roles": nil}), 403},
		{"unknown project", f.trustorToken, f.trustBody(map[string]any{"project_id": "nope"}), 404},
		{"bad expiry", f.trustorToken, f.trustBody(map[string]any{"expires_at": "bad.123Z"}), 400},
		{"past expiry", f.trustorToken, f.trustBody(map[string]any{"expires_at": past}), 400},
		{"zero uses", f.trustorToken, f.trustBody(map[string]any{"remaining_uses": 0}), 400},
		{"fractional uses", f.trustorToken, f.trustBody(map[string]any{"remaining_uses": 1.5}), 400},
		{"uses with redelegation", f.trustorToken, f.trustBody(map[string]any{"remaining_uses": 1, "allow_redelegation": true}), 400},
		{"too deep", f.trustorToken, f.trustBody(map[string]any{"allow_redelegation": true, "redelegation_count": 4}), 403},
		{"not json", f.trustorToken, "{", 400},
	} {
		if s, body, _ := tc.do("POST", "/v3/OS-TRUST/trusts", c.token, c.body); s != c.want || body["error"] == nil {
			t.Errorf("%s: got %d %v, want %d", c.name, s, body, c.want)
		}
	}
}

func TestTrustScopedToken(t *testing.T) {
	f := newTrustFixture(t)
	tc := f.tc
	for _, imp := range []bool{true, false} {
		tr := f.createTrust(map[string]any{"impersonation": imp})
		id := tr["id"].(string)
		status, tok, body := f.trustToken("trustee", f.trusteePass, id)
		if status != 201 {
			t.Fatalf("trust token: %d %v", status, body)
		}
		wantUser := f.trustee
		if imp {
			wantUser = f.trustor
		}
		if got := str(body, "token", "user", "id"); got != wantUser {
			t.Fatalf("impersonation %v: token user %s, want %s", imp, got, wantUser)
		}
		if str(body, "token", "project", "id") != f.project || str(body, "token", "OS-TRUST:trust", "id") != id ||
			str(body, "token", "OS-TRUST:trust", "trustor_user", "id") != f.trustor ||
			body["token"].(map[string]any)["OS-TRUST:trust"].(map[string]any)["impersonation"] != imp {
			t.Fatalf("trust token body: %v", body)
		}
		if names := tokenRoleNames(body); !slices.Equal(names, []string{"delegated"}) {
			t.Fatalf("trust token roles: %v", names)
		}
		if s := tc.validateStatus(tok); s != 200 {
			t.Fatalf("validate trust token: %d", s)
		}
		// A trust-scoped token cannot be rescoped.
		if s, b, _ := tc.do("POST", "/v3/auth/tokens", "", map[string]any{"auth": map[string]any{
			"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": tok}},
			"scope":    projectScope(f.project)}}); s != 403 {
			t.Fatalf("rescope trust token: %d %v", s, b)
		}
	}

	// Only the trustee may use a trust, even an impersonating one.
	tr := f.createTrust(nil)
	id := tr["id"].(string)
	if s, _, b := f.trustToken("trustor", f.trustorPass, id); s != 403 {
		t.Fatalf("trustor using the trust: %d %v", s, b)
	}
	if s, _, b := f.trustToken("trustee", f.trusteePass, "nope"); s != 401 {
		t.Fatalf("unknown trust: %d %v", s, b)
	}

	// The trustor losing a delegated role voids the trust and its tokens.
	_, tok, _ := f.trustToken("trustee", f.trusteePass, id)
	tc.must(204, "DELETE", "/v3/projects/"+f.project+"/users/"+f.trustor+"/roles/"+f.delegated, tc.adminToken, nil)
	if s := tc.validateStatus(tok); s != 404 {
		t.Fatalf("token after the trustor lost the role: %d", s)
	}
	if s, _, _ := f.trustToken("trustee", f.trusteePass, id); s != 403 {
		t.Fatalf("trust token after the trustor lost the role: %d", s)
	}
	tc.must(204, "PUT", "/v3/projects/"+f.project+"/users/"+f.trustor+"/roles/"+f.delegated, tc.adminToken, nil)
	if s := tc.validateStatus(tok); s != 200 {
		t.Fatalf("token after the role came back: %d", s)
	}

	// Deleting the trust revokes its tokens, and the event is listed.
	tc.must(204, "DELETE", "/v3/OS-TRUST/trusts/"+id, f.trustorToken, nil)
	if s := tc.validateStatus(tok); s != 404 {
		t.Fatalf("token of a deleted trust: %d", s)
	}
	if s, _, _ := f.trustToken("trustee", f.trusteePass, id); s != 401 {
		t.Fatalf("auth with a deleted trust: %d", s)
	}
	events := tc.must(200, "GET", "/v3/OS-REVOKE/events", tc.adminToken, nil)["events"].([]any)
	found := false
	for _, e := range events {
		if e.(map[string]any)["OS-TRUST:trust_id"] == id && e.(map[string]any)["issued_before"] != nil {
			found = true
		}
	}
	if !found {
		t.Fatalf("no revocation event for trust %s: %v", id, events)
	}
}

func TestTrustRemainingUses(t *testing.T) {
	f := newTrustFixture(t)
	tc := f.tc
	tr := f.createTrust(map[string]any{"remaining_uses": 2})
	id := tr["id"].(string)
	var toks []string
	for i := 0; i < 2; i++ {
		s, tok, b := f.trustToken("trustee", f.trusteePass, id)
		if s != 201 {
			t.Fatalf("use %d: %d %v", i+1, s, b)
		}
		toks = append(toks, tok)
		if i == 0 {
			if got := tc.must(200, "GET", "/v3/OS-TRUST/trusts/"+id, f.trustorToken, nil)["trust"].(map[string]any)["remaining_uses"]; got != float64(1) {
				t.Fatalf("remaining_uses after one use: %v", got)
			}
		}
	}
	if s, _, b := f.trustToken("trustee", f.trusteePass, id); s != 401 {
		t.Fatalf("third use: %d %v", s, b)
	}
	// A used-up trust is hidden, but the tokens it gave stay valid.
	tc.must(404, "GET", "/v3/OS-TRUST/trusts/"+id, f.trustorToken, nil)
	for _, tok := range toks {
		if s := tc.validateStatus(tok); s != 200 {
			t.Fatalf("token of a used-up trust: %d", s)
		}
	}
}

func TestTrustRedelegation(t *testing.T) {
	f := newTrustFixture(t)
	tc := f.tc
	third := tc.createUser("third", "third-pw", "")
	parent := f.createTrust(map[string]any{"allow_redelegation": true})
	if parent["redelegation_count"] != float64(maxRedelegationCount) {
		t.Fatalf("default redelegation_count: %v", parent)
	}
	_, ptok, _ := f.trustToken("trustee", f.trusteePass, parent["id"].(string))

	// The trust token acts as the trustor (impersonation), so the trustor
	// stays trustor of the redelegated trust.
	child := func(extra map[string]any) map[string]any {
		b := f.trustBody(map[string]any{"trustee_user_id": third, "allow_redelegation": true})
		for k, v := range extra {
			b["trust"].(map[string]any)[k] = v
		}
		return b
	}
	for _, c := range []struct {
		name  string
		extra map[string]any
		want  int
	}{
		{"uses", map[string]any{"remaining_uses": 3}, 400},
		{"modified count", map[string]any{"redelegation_count": 1}, 403},
		{"role not in parent", map[string]any{"roles": []any{map[string]any{"id": f.other}}}, 403},
	} {
		if s, b, _ := tc.do("POST", "/v3/OS-TRUST/trusts", ptok, child(c.extra)); s != c.want {
			t.Errorf("%s: %d %v, want %d", c.name, s, b, c.want)
		}
	}
	ct := tc.must(201, "POST", "/v3/OS-TRUST/trusts", ptok, child(map[string]any{"allow_redelegation": false}))["trust"].(map[string]any)
	if ct["redelegated_trust_id"] != parent["id"] || ct["redelegation_count"] != float64(0) {
		t.Fatalf("redelegated trust: %v", ct)
	}
	s, ctok, b := f.trustToken("third", "third-pw", ct["id"].(string))
	if s != 201 || !slices.Equal(tokenRoleNames(b), []string{"delegated"}) {
		t.Fatalf("redelegated trust token: %d %v", s, b)
	}
	// The end of the chain cannot redelegate further.
	if s, b, _ := tc.do("POST", "/v3/OS-TRUST/trusts", ctok, f.trustBody(map[string]any{"trustee_user_id": f.trustee})); s != 403 {
		t.Fatalf("redelegating a terminal trust: %d %v", s, b)
	}
	// Deleting the parent deletes the chain below it.
	tc.must(204, "DELETE", "/v3/OS-TRUST/trusts/"+parent["id"].(string), f.trustorToken, nil)
	tc.must(404, "GET", "/v3/OS-TRUST/trusts/"+ct["id"].(string), f.trustorToken, nil)
	if s := tc.validateStatus(ctok); s != 404 {
		t.Fatalf("token of a trust whose parent was deleted: %d", s)
	}
}

func TestRevokeEvents(t *testing.T) {
	tc := newTestCloud(t)
	tok, _ := tc.passwordToken("admin", testAdminPassword, projectScope(tc.adminProj))
	req, _ := http.NewRequest("DELETE", tc.srv.URL+"/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", tc.adminToken)
	req.Header.Set("X-Subject-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	resp.Body.Close()
	events := tc.must(200, "GET", "/v3/OS-REVOKE/events", tc.adminToken, nil)["events"].([]any)
	if len(events) == 0 || events[len(events)-1].(map[string]any)["audit_id"] == nil {
		t.Fatalf("events: %v", events)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if ev := tc.must(200, "GET", "/v3/OS-REVOKE/events?since="+future, tc.adminToken, nil)["events"].([]any); len(ev) != 0 {
		t.Fatalf("events since the future: %v", ev)
	}
	tc.must(400, "GET", "/v3/OS-REVOKE/events?since=yesterday", tc.adminToken, nil)
	tc.createUser("plain", "plain-pw", tc.adminProj)
	plain, _ := tc.passwordToken("plain", "plain-pw", projectScope(tc.adminProj))
	tc.must(403, "GET", "/v3/OS-REVOKE/events", plain, nil)
}

func TestTrustsGoWithTheirUsersAndProject(t *testing.T) {
	f := newTrustFixture(t)
	tc := f.tc
	a := f.createTrust(nil)["id"].(string)
	tc.must(204, "DELETE", "/v3/users/"+f.trustee, tc.adminToken, nil)
	tc.must(404, "GET", "/v3/OS-TRUST/trusts/"+a, f.trustorToken, nil)

	f.trustee = tc.createUser("trustee2", "pw2", f.project)
	b := f.createTrust(nil)["id"].(string)
	// The project goes: so does the trust (and the trustor's token with it).
	tc.must(204, "DELETE", "/v3/projects/"+f.project, tc.adminToken, nil)
	if ts := tc.must(200, "GET", "/v3/OS-TRUST/trusts", tc.adminToken, nil)["trusts"].([]any); len(ts) != 0 {
		t.Fatalf("trusts of a deleted project: %v (trust %s)", ts, b)
	}
}
