package identity

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// authzWorld is two projects (A and B) of the default domain with a member
// and a reader in each, a second domain D2 with a domain admin and a domain
// reader (domain-scoped tokens), and the cloud admin. Every sensitive
// resource is owned by project B's member, so the table below can check
// what the others may do with it.
type authzWorld struct {
	tc                                   *testCloud
	projA, projB, domain2, projC, groupG string
	users                                map[string]string // name -> id
	tokens                               map[string]string // name -> token
	credB, ec2B, appCredB, ruleB, trustB string
}

func newAuthzWorld(t *testing.T) *authzWorld {
	tc := newTestCloud(t)
	w := &authzWorld{tc: tc, users: map[string]string{}, tokens: map[string]string{"admin": tc.adminToken}}
	w.users["admin"] = tc.adminID
	mk := func(path, key string, body map[string]any) string {
		return str(tc.must(201, "POST", path, tc.adminToken, body), key, "id")
	}
	w.projA = mk("/v3/projects", "project", map[string]any{"project": map[string]any{"name": "A", "domain_id": "default"}})
	w.projB = mk("/v3/projects", "project", map[string]any{"project": map[string]any{"name": "B", "domain_id": "default"}})
	w.domain2 = mk("/v3/domains", "domain", map[string]any{"domain": map[string]any{"name": "D2"}})
	w.projC = mk("/v3/projects", "project", map[string]any{"project": map[string]any{"name": "C", "domain_id": w.domain2}})
	w.groupG = mk("/v3/groups", "group", map[string]any{"group": map[string]any{"name": "G", "domain_id": "default"}})
	mk("/v3/groups", "group", map[string]any{"group": map[string]any{"name": "G2", "domain_id": w.domain2}})
	member, reader, admin := tc.roleID("member"), tc.roleID("reader"), tc.roleID("admin")
	grant := func(on, target, user, role string) {
		tc.must(204, "PUT", "/v3/"+on+"/"+target+"/users/"+user+"/roles/"+role, tc.adminToken, nil)
	}
	for _, u := range []struct{ name, on, target, role string }{
		{"memberA", "projects", w.projA, member}, {"readerA", "projects", w.projA, reader},
		{"memberB", "projects", w.projB, member}, {"readerB", "projects", w.projB, reader},
		{"dadmin", "domains", w.domain2, admin}, {"dreader", "domains", w.domain2, reader},
	} {
		id := tc.createUser(u.name, u.name+"-pw", "")
		w.users[u.name] = id
		grant(u.on, u.target, id, u.role)
		scope := projectScope(u.target)
		if u.on == "domains" {
			scope = map[string]any{"domain": map[string]any{"id": u.target}}
		}
		w.tokens[u.name], _ = tc.passwordToken(u.name, u.name+"-pw", scope)
	}
	// A user of D2 with a role on project C, so D2 has assignments too.
	d2user := str(tc.must(201, "POST", "/v3/users", tc.adminToken, map[string]any{"user": map[string]any{"name": "d2user", "domain_id": w.domain2}}), "user", "id")
	w.users["d2user"] = d2user
	grant("projects", w.projC, d2user, member)

	// Project B's member owns one of each delegation and secret.
	tb, uB := w.tokens["memberB"], w.users["memberB"]
	w.credB = str(tc.must(201, "POST", "/v3/credentials", tb, map[string]any{"credential": map[string]any{
		"user_id": uB, "project_id": w.projB, "type": "cert", "blob": "secret-of-B"}}), "credential", "id")
	w.ec2B = str(tc.must(201, "POST", "/v3/users/"+uB+"/credentials/OS-EC2", tb, map[string]any{"tenant_id": w.projB}), "credential", "access")
	ac := tc.must(201, "POST", "/v3/users/"+uB+"/application_credentials", tb, map[string]any{"application_credential": map[string]any{
		"name": "acB", "access_rules": []any{map[string]any{"service": "identity", "path": "/v3/users", "method": "GET"}}}})
	w.appCredB = str(ac, "application_credential", "id")
	rules, _ := ac["application_credential"].(map[string]any)["access_rules"].([]any)
	if len(rules) != 1 {
		t.Fatalf("application credential without its access rule: %v", ac)
	}
	w.ruleB, _ = rules[0].(map[string]any)["id"].(string)
	w.trustB = str(tc.must(201, "POST", "/v3/OS-TRUST/trusts", tb, map[string]any{"trust": map[string]any{
		"trustor_user_id": uB, "trustee_user_id": w.users["readerB"], "project_id": w.projB,
		"roles": []any{map[string]any{"name": "member"}}, "impersonation": false}}), "trust", "id")
	return w
}

// req sends a request with optional X-Subject-Token and returns the status
// and decoded body.
func (w *authzWorld) req(method, path, token, subject string, body any) (int, map[string]any) {
	w.tc.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	r, _ := http.NewRequest(method, w.tc.srv.URL+path, rd)
	r.Header.Set("X-Auth-Token", token)
	if subject != "" {
		r.Header.Set("X-Subject-Token", subject)
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		w.tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestAuthzCrossProject checks, route by route, the status Keystone Zed's
// default policy (enforce_new_defaults = False, so rule:admin_required is
// role:admin on any scope) gives each caller on project B's resources.
func TestAuthzCrossProject(t *testing.T) {
	w := newAuthzWorld(t)
	uA, uB, rB := w.users["memberA"], w.users["memberB"], w.users["readerB"]
	A, B := w.projA, w.projB
	member, admin := w.tc.roleID("member"), w.tc.roleID("admin")
	type tcase struct {
		name, who, method, path string
		body                    any
		want                    int
	}
	cases := []tcase{
		// Users.
		{"get other user", "memberA", "GET", "/v3/users/" + uB, nil, 403},
		{"reader gets other user", "readerA", "GET", "/v3/users/" + uB, nil, 403},
		{"get self", "memberA", "GET", "/v3/users/" + uA, nil, 200},
		{"update other user", "memberA", "PATCH", "/v3/users/" + uB, map[string]any{"user": map[string]any{"password": "owned"}}, 403},
		{"update self (not self-service)", "memberA", "PATCH", "/v3/users/" + uA, map[string]any{"user": map[string]any{"name": "x"}}, 403},
		{"delete other user", "memberA", "DELETE", "/v3/users/" + uB, nil, 403},
		{"list users", "memberA", "GET", "/v3/users", nil, 403},
		{"projects of other user", "memberA", "GET", "/v3/users/" + uB + "/projects", nil, 403},
		{"groups of other user", "memberA", "GET", "/v3/users/" + uB + "/groups", nil, 403},
		{"own projects", "memberA", "GET", "/v3/users/" + uA + "/projects", nil, 200},
		{"create user", "memberA", "POST", "/v3/users", map[string]any{"user": map[string]any{"name": "evil", "domain_id": "default"}}, 403},
		{"admin gets user", "admin", "GET", "/v3/users/" + uB, nil, 200},
		{"domain admin (role:admin) gets user, stock Zed", "dadmin", "GET", "/v3/users/" + uB, nil, 200},
		{"domain reader gets user of other domain", "dreader", "GET", "/v3/users/" + uB, nil, 403},
		{"domain reader gets user of own domain", "dreader", "GET", "/v3/users/" + w.users["d2user"], nil, 200},

		// Password change: the original password is the proof.
		{"change other's password with own password", "memberA", "POST", "/v3/users/" + uB + "/password",
			map[string]any{"user": map[string]any{"original_password": "memberA-pw", "password": "owned-pw"}}, 401},
		{"change own password with wrong original", "memberA", "POST", "/v3/users/" + uA + "/password",
			map[string]any{"user": map[string]any{"original_password": "wrong", "password": "owned-pw"}}, 401},

		// Projects and tags.
		{"get other project", "memberA", "GET", "/v3/projects/" + B, nil, 403},
		{"reader gets other project", "readerA", "GET", "/v3/projects/" + B, nil, 403},
		{"get own project", "readerA", "GET", "/v3/projects/" + A, nil, 200},
		{"update own project as member", "memberA", "PATCH", "/v3/projects/" + A, map[string]any{"project": map[string]any{"description": "x"}}, 403},
		{"update other project", "memberA", "PATCH", "/v3/projects/" + B, map[string]any{"project": map[string]any{"enabled": false}}, 403},
		{"delete other project", "memberA", "DELETE", "/v3/projects/" + B, nil, 403},
		{"list projects", "memberA", "GET", "/v3/projects", nil, 403},
		{"tags of other project", "memberA", "GET", "/v3/projects/" + B + "/tags", nil, 403},
		{"tag other project", "memberA", "PUT", "/v3/projects/" + B + "/tags/x", nil, 403},
		{"untag other project", "memberA", "DELETE", "/v3/projects/" + B + "/tags", nil, 403},
		{"create project", "memberA", "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "evil"}}, 403},
		{"domain reader gets project of other domain", "dreader", "GET", "/v3/projects/" + B, nil, 403},
		{"domain reader gets project of own domain", "dreader", "GET", "/v3/projects/" + w.projC, nil, 200},

		// Domains.
		{"get own project's domain", "memberA", "GET", "/v3/domains/default", nil, 200},
		{"get other domain", "memberA", "GET", "/v3/domains/" + w.domain2, nil, 403},
		{"list domains", "memberA", "GET", "/v3/domains", nil, 403},
		{"update domain", "memberA", "PATCH", "/v3/domains/default", map[string]any{"domain": map[string]any{"description": "x"}}, 403},

		// Groups and membership.
		{"get group", "memberA", "GET", "/v3/groups/" + w.groupG, nil, 403},
		{"list groups", "memberA", "GET", "/v3/groups", nil, 403},
		{"users of group", "memberA", "GET", "/v3/groups/" + w.groupG + "/users", nil, 403},
		{"join group", "memberA", "PUT", "/v3/groups/" + w.groupG + "/users/" + uA, nil, 403},
		{"check membership", "memberA", "GET", "/v3/groups/" + w.groupG + "/users/" + uA, nil, 403},
		{"domain reader gets group of other domain", "dreader", "GET", "/v3/groups/" + w.groupG, nil, 403},

		// Grants and role assignments.
		{"grant self on other project", "memberA", "PUT", "/v3/projects/" + B + "/users/" + uA + "/roles/" + member, nil, 403},
		{"grant self admin on own project", "memberA", "PUT", "/v3/projects/" + A + "/users/" + uA + "/roles/" + admin, nil, 403},
		{"revoke other's grant", "memberA", "DELETE", "/v3/projects/" + B + "/users/" + uB + "/roles/" + member, nil, 403},
		{"list other's grants", "memberA", "GET", "/v3/projects/" + B + "/users/" + uB + "/roles", nil, 403},
		{"check other's grant", "readerA", "GET", "/v3/projects/" + B + "/users/" + uB + "/roles/" + member, nil, 403},
		{"inherited grant on domain", "memberA", "PUT", "/v3/OS-INHERIT/domains/default/users/" + uA + "/roles/" + admin + "/inherited_to_projects", nil, 403},
		{"system grant", "memberA", "PUT", "/v3/system/users/" + uA + "/roles/" + admin, nil, 403},
		{"domain reader checks grant across domains", "dreader", "GET", "/v3/projects/" + B + "/users/" + uB + "/roles/" + member, nil, 403},
		{"list role assignments", "memberA", "GET", "/v3/role_assignments", nil, 403},
		{"list role assignments of other project", "readerA", "GET", "/v3/role_assignments?scope.project.id=" + B, nil, 403},
		{"assignment tree of own project as member", "memberA", "GET", "/v3/role_assignments?include_subtree=true&scope.project.id=" + A, nil, 403},
		{"assignment tree of other project", "memberA", "GET", "/v3/role_assignments?include_subtree=true&scope.project.id=" + B, nil, 403},
		{"domain reader: assignment tree of other domain", "dreader", "GET", "/v3/role_assignments?include_subtree=true&scope.project.id=" + B, nil, 403},

		// Credentials.
		{"get other's credential", "memberA", "GET", "/v3/credentials/" + w.credB, nil, 403},
		{"same project reader gets credential", "readerB", "GET", "/v3/credentials/" + w.credB, nil, 403},
		{"update other's credential", "memberA", "PATCH", "/v3/credentials/" + w.credB, map[string]any{"credential": map[string]any{"user_id": uA}}, 403},
		{"delete other's credential", "memberA", "DELETE", "/v3/credentials/" + w.credB, nil, 403},
		{"create credential for other", "memberA", "POST", "/v3/credentials", map[string]any{"credential": map[string]any{"user_id": uB, "type": "cert", "blob": "x"}}, 403},
		{"owner gets credential", "memberB", "GET", "/v3/credentials/" + w.credB, nil, 200},
		{"owner hands credential away", "memberB", "PATCH", "/v3/credentials/" + w.credB, map[string]any{"credential": map[string]any{"user_id": uA}}, 403},
		{"admin gets credential", "admin", "GET", "/v3/credentials/" + w.credB, nil, 200},

		// EC2 credentials.
		{"list other's EC2", "memberA", "GET", "/v3/users/" + uB + "/credentials/OS-EC2", nil, 403},
		{"get other's EC2", "memberA", "GET", "/v3/users/" + uB + "/credentials/OS-EC2/" + w.ec2B, nil, 403},
		{"get other's EC2 under own path", "memberA", "GET", "/v3/users/" + uA + "/credentials/OS-EC2/" + w.ec2B, nil, 403},
		{"delete other's EC2 under own path", "memberA", "DELETE", "/v3/users/" + uA + "/credentials/OS-EC2/" + w.ec2B, nil, 403},
		{"create EC2 for other", "memberA", "POST", "/v3/users/" + uB + "/credentials/OS-EC2", map[string]any{"tenant_id": A}, 403},
		{"owner gets EC2", "memberB", "GET", "/v3/users/" + uB + "/credentials/OS-EC2/" + w.ec2B, nil, 200},
		{"admin gets EC2 under wrong user", "admin", "GET", "/v3/users/" + uA + "/credentials/OS-EC2/" + w.ec2B, nil, 404},

		// Application credentials and access rules.
		{"list other's app creds", "memberA", "GET", "/v3/users/" + uB + "/application_credentials", nil, 403},
		{"get other's app cred", "memberA", "GET", "/v3/users/" + uB + "/application_credentials/" + w.appCredB, nil, 403},
		{"get other's app cred under own path", "memberA", "GET", "/v3/users/" + uA + "/application_credentials/" + w.appCredB, nil, 403},
		{"delete other's app cred under own path", "memberA", "DELETE", "/v3/users/" + uA + "/application_credentials/" + w.appCredB, nil, 403},
		{"create app cred for other", "memberA", "POST", "/v3/users/" + uB + "/application_credentials", map[string]any{"application_credential": map[string]any{"name": "x"}}, 403},
		{"admin creates app cred for other", "admin", "POST", "/v3/users/" + uB + "/application_credentials", map[string]any{"application_credential": map[string]any{"name": "x"}}, 403},
		{"same project reader gets app cred", "readerB", "GET", "/v3/users/" + uB + "/application_credentials/" + w.appCredB, nil, 403},
		{"owner gets app cred", "memberB", "GET", "/v3/users/" + uB + "/application_credentials/" + w.appCredB, nil, 200},
		{"list other's access rules", "memberA", "GET", "/v3/users/" + uB + "/access_rules", nil, 403},
		{"get other's access rule", "memberA", "GET", "/v3/users/" + uB + "/access_rules/" + w.ruleB, nil, 403},
		{"get other's access rule under own path", "memberA", "GET", "/v3/users/" + uA + "/access_rules/" + w.ruleB, nil, 404},
		{"delete other's access rule under own path", "memberA", "DELETE", "/v3/users/" + uA + "/access_rules/" + w.ruleB, nil, 404},
		{"owner gets access rule", "memberB", "GET", "/v3/users/" + uB + "/access_rules/" + w.ruleB, nil, 200},

		// Trusts.
		{"get other's trust", "memberA", "GET", "/v3/OS-TRUST/trusts/" + w.trustB, nil, 403},
		{"roles of other's trust", "memberA", "GET", "/v3/OS-TRUST/trusts/" + w.trustB + "/roles", nil, 403},
		{"role of other's trust", "memberA", "GET", "/v3/OS-TRUST/trusts/" + w.trustB + "/roles/" + member, nil, 403},
		{"delete other's trust", "memberA", "DELETE", "/v3/OS-TRUST/trusts/" + w.trustB, nil, 403},
		{"trustee deletes trust", "readerB", "DELETE", "/v3/OS-TRUST/trusts/" + w.trustB, nil, 403},
		{"trustee gets trust", "readerB", "GET", "/v3/OS-TRUST/trusts/" + w.trustB, nil, 200},
		{"list all trusts", "memberA", "GET", "/v3/OS-TRUST/trusts", nil, 403},
		{"list other trustor's trusts", "memberA", "GET", "/v3/OS-TRUST/trusts?trustor_user_id=" + uB, nil, 403},
		{"list other trustee's trusts", "memberA", "GET", "/v3/OS-TRUST/trusts?trustee_user_id=" + rB, nil, 403},
		{"create trust as other trustor", "memberA", "POST", "/v3/OS-TRUST/trusts", map[string]any{"trust": map[string]any{
			"trustor_user_id": uB, "trustee_user_id": uA, "project_id": B, "roles": []any{map[string]any{"name": "member"}}, "impersonation": true}}, 403},

		// OAuth1 access tokens: admin only.
		{"list other's OAuth tokens", "memberA", "GET", "/v3/users/" + uB + "/OS-OAUTH1/access_tokens", nil, 403},
		{"get other's OAuth token", "memberA", "GET", "/v3/users/" + uB + "/OS-OAUTH1/access_tokens/x", nil, 403},
		{"delete other's OAuth token", "memberA", "DELETE", "/v3/users/" + uB + "/OS-OAUTH1/access_tokens/x", nil, 403},
		{"roles of other's OAuth token", "memberA", "GET", "/v3/users/" + uB + "/OS-OAUTH1/access_tokens/x/roles", nil, 403},

		// Limits, catalog and other admin-only doors.
		{"create limits", "memberA", "POST", "/v3/limits", map[string]any{"limits": []any{}}, 403},
		{"domain admin creates limits (system only)", "dadmin", "POST", "/v3/limits", map[string]any{"limits": []any{}}, 403},
		{"list revoke events", "memberA", "GET", "/v3/OS-REVOKE/events", nil, 403},
		{"create role", "memberA", "POST", "/v3/roles", map[string]any{"role": map[string]any{"name": "evil"}}, 403},
		{"create endpoint", "memberA", "POST", "/v3/endpoints", map[string]any{"endpoint": map[string]any{}}, 403},
		{"domain config", "memberA", "GET", "/v3/domains/default/config", nil, 403},
		{"domain config group", "memberA", "GET", "/v3/domains/default/config/ldap", nil, 403},
		{"domain config option", "memberA", "GET", "/v3/domains/default/config/ldap/password", nil, 403},
		{"security compliance (open to all)", "memberA", "GET", "/v3/domains/default/config/security_compliance", nil, 200},
		{"list endpoints for project", "memberA", "GET", "/v3/OS-EP-FILTER/projects/" + A + "/endpoints", nil, 403},
	}
	for _, c := range cases {
		status, body := w.req(c.method, c.path, w.tokens[c.who], "", c.body)
		if status != c.want {
			t.Errorf("%s: %s %s as %s: status %d, want %d: %v", c.name, c.method, c.path, c.who, status, c.want, body)
		}
	}
}

// TestAuthzTokens checks X-Subject-Token routes: a non-admin may validate,
// check or revoke only their own tokens.
func TestAuthzTokens(t *testing.T) {
	w := newAuthzWorld(t)
	other := w.tokens["memberB"]
	for _, c := range []struct {
		who, method, subject string
		want                 int
	}{
		{"memberA", "GET", other, 403},
		{"memberA", "HEAD", other, 403},
		{"memberA", "DELETE", other, 403},
		{"readerB", "GET", other, 403},
		{"dreader", "GET", other, 403},
		{"memberA", "GET", w.tokens["memberA"], 200},
		{"admin", "GET", other, 200},
		{"dadmin", "HEAD", other, 200},
	} {
		if status, body := w.req(c.method, "/v3/auth/tokens", w.tokens[c.who], c.subject, nil); status != c.want {
			t.Errorf("%s /v3/auth/tokens as %s: status %d, want %d: %v", c.method, c.who, status, c.want, body)
		}
	}
	// The token survived the refused revocation.
	if status, _ := w.req("GET", "/v3/auth/tokens", w.tokens["admin"], other, nil); status != 200 {
		t.Fatalf("memberB's token was revoked by memberA: %d", status)
	}
}

// TestAuthzLists checks that lists a caller may see hold only what Keystone
// shows them.
func TestAuthzLists(t *testing.T) {
	w := newAuthzWorld(t)
	ids := func(body map[string]any, key string) map[string]bool {
		out := map[string]bool{}
		list, _ := body[key].([]any)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					out[id] = true
				}
				if id, ok := m["access"].(string); ok {
					out[id] = true
				}
			}
		}
		return out
	}
	get := func(who, path string, want int) map[string]any {
		t.Helper()
		status, body := w.req("GET", path, w.tokens[who], "", nil)
		if status != want {
			t.Fatalf("GET %s as %s: status %d, want %d: %v", path, who, status, want, body)
		}
		return body
	}

	// Credentials: only one's own.
	if got := ids(get("memberA", "/v3/credentials", 200), "credentials"); got[w.credB] || len(got) != 0 {
		t.Errorf("memberA lists credentials %v", got)
	}
	if got := ids(get("readerB", "/v3/credentials?user_id="+w.users["memberB"], 200), "credentials"); len(got) != 0 {
		t.Errorf("readerB lists memberB's credentials %v", got)
	}
	if got := ids(get("memberB", "/v3/credentials", 200), "credentials"); !got[w.credB] {
		t.Errorf("memberB does not list own credential: %v", got)
	}
	// Trusts listed by the trustor are the caller's own.
	if got := ids(get("memberA", "/v3/OS-TRUST/trusts?trustor_user_id="+w.users["memberA"], 200), "trusts"); len(got) != 0 {
		t.Errorf("memberA lists trusts %v", got)
	}
	// Own application credentials and EC2 credentials only.
	if got := ids(get("memberA", "/v3/users/"+w.users["memberA"]+"/application_credentials", 200), "application_credentials"); len(got) != 0 {
		t.Errorf("memberA lists application credentials %v", got)
	}
	if got := ids(get("memberA", "/v3/users/"+w.users["memberA"]+"/credentials/OS-EC2", 200), "credentials"); len(got) != 0 {
		t.Errorf("memberA lists EC2 credentials %v", got)
	}
	if got := ids(get("memberA", "/v3/users/"+w.users["memberA"]+"/access_rules", 200), "access_rules"); len(got) != 0 {
		t.Errorf("memberA lists access rules %v", got)
	}
	// /v3/auth/projects: only one's own.
	if got := ids(get("memberA", "/v3/auth/projects", 200), "projects"); len(got) != 1 || !got[w.projA] {
		t.Errorf("memberA's auth projects %v", got)
	}

	// Domain-scoped callers see their own domain only (Keystone filters
	// list_users, list_groups, list_projects and list_role_assignments by
	// the token's domain).
	for _, who := range []string{"dadmin", "dreader"} {
		users := ids(get(who, "/v3/users", 200), "users")
		if users[w.users["memberB"]] || !users[w.users["d2user"]] {
			t.Errorf("%s lists users %v", who, users)
		}
		groups := ids(get(who, "/v3/groups", 200), "groups")
		if groups[w.groupG] || len(groups) != 1 {
			t.Errorf("%s lists groups %v", who, groups)
		}
		projects := ids(get(who, "/v3/projects", 200), "projects")
		if projects[w.projA] || projects[w.projB] || !projects[w.projC] {
			t.Errorf("%s lists projects %v", who, projects)
		}
		if got := ids(get(who, "/v3/projects?domain_id=default", 200), "projects"); len(got) != 0 {
			t.Errorf("%s lists projects of the default domain %v", who, got)
		}
		as, _ := get(who, "/v3/role_assignments", 200)["role_assignments"].([]any)
		for _, a := range as {
			scope, _ := a.(map[string]any)["scope"].(map[string]any)
			if p, ok := scope["project"].(map[string]any); ok && p["id"] != w.projC {
				t.Errorf("%s lists assignment on project %v", who, p["id"])
			}
			if d, ok := scope["domain"].(map[string]any); ok && d["id"] != w.domain2 {
				t.Errorf("%s lists assignment on domain %v", who, d["id"])
			}
		}
	}
	// The cloud admin (project-scoped) sees everything.
	if got := ids(get("admin", "/v3/projects", 200), "projects"); !got[w.projA] || !got[w.projC] {
		t.Errorf("admin lists projects %v", got)
	}
}

// TestAuthzDelegationEscalation checks that delegations cannot reach a
// project the delegator has no role on, nor roles the delegator lacks, and
// that limits are seen only by their project.
func TestAuthzDelegationEscalation(t *testing.T) {
	w := newAuthzWorld(t)
	uA, B := w.users["memberA"], w.projB
	tA := w.tokens["memberA"]
	refused := func(name, method, path, token string, body any) {
		t.Helper()
		status, out := w.req(method, path, token, "", body)
		if status < 400 {
			t.Errorf("%s: %s %s: status %d, want a refusal: %v", name, method, path, status, out)
		}
	}
	refused("trust on another project", "POST", "/v3/OS-TRUST/trusts", tA, map[string]any{"trust": map[string]any{
		"trustor_user_id": uA, "trustee_user_id": w.users["readerA"], "project_id": B,
		"roles": []any{map[string]any{"name": "member"}}, "impersonation": false}})
	refused("trust with a role the trustor lacks", "POST", "/v3/OS-TRUST/trusts", tA, map[string]any{"trust": map[string]any{
		"trustor_user_id": uA, "trustee_user_id": w.users["readerA"], "project_id": w.projA,
		"roles": []any{map[string]any{"name": "admin"}}, "impersonation": false}})
	refused("app cred with a role the user lacks", "POST", "/v3/users/"+uA+"/application_credentials", tA,
		map[string]any{"application_credential": map[string]any{"name": "x", "roles": []any{map[string]any{"name": "admin"}}}})
	refused("reader's app cred with member role", "POST", "/v3/users/"+w.users["readerA"]+"/application_credentials", w.tokens["readerA"],
		map[string]any{"application_credential": map[string]any{"name": "x", "roles": []any{map[string]any{"name": "member"}}}})
	// An application credential is scoped to the token's project, whatever the body says.
	status, out := w.req("POST", "/v3/users/"+uA+"/application_credentials", tA,
		"", map[string]any{"application_credential": map[string]any{"name": "y", "project_id": B}})
	if status == 201 && str(out, "application_credential", "project_id") != w.projA {
		t.Errorf("application credential created on project %s", str(out, "application_credential", "project_id"))
	}

	// Limits: project B's limit is B's.
	tc := w.tc
	sys := tc.systemToken()
	svc := tc.newService("compute")
	tc.must(201, "POST", "/v3/registered_limits", sys, map[string]any{"registered_limits": []any{map[string]any{
		"service_id": svc, "resource_name": "cores", "default_limit": 10.0}}})
	lim := tc.must(201, "POST", "/v3/limits", sys, map[string]any{"limits": []any{map[string]any{
		"service_id": svc, "project_id": B, "resource_name": "cores", "resource_limit": 5.0}}})
	limID, _ := lim["limits"].([]any)[0].(map[string]any)["id"].(string)
	for _, c := range []struct {
		who, method, path string
		body              any
		want              int
	}{
		{"memberA", "GET", "/v3/limits/" + limID, nil, 403},
		{"dreader", "GET", "/v3/limits/" + limID, nil, 403},
		{"readerB", "GET", "/v3/limits/" + limID, nil, 200},
		{"memberB", "PATCH", "/v3/limits/" + limID, map[string]any{"limit": map[string]any{"resource_limit": 100.0}}, 403},
		{"memberB", "DELETE", "/v3/limits/" + limID, nil, 403},
		{"admin", "DELETE", "/v3/limits/" + limID, nil, 403}, // system scope only
	} {
		if status, body := w.req(c.method, c.path, w.tokens[c.who], "", c.body); status != c.want {
			t.Errorf("%s %s as %s: status %d, want %d: %v", c.method, c.path, c.who, status, c.want, body)
		}
	}
	for _, who := range []string{"memberA", "dreader"} {
		for _, path := range []string{"/v3/limits", "/v3/limits?project_id=" + B} {
			_, body := w.req("GET", path, w.tokens[who], "", nil)
			if l, _ := body["limits"].([]any); len(l) != 0 {
				t.Errorf("GET %s as %s lists %v", path, who, l)
			}
		}
	}
	if _, body := w.req("GET", "/v3/limits", w.tokens["readerB"], "", nil); len(body["limits"].([]any)) != 1 {
		t.Errorf("readerB does not see project B's limit: %v", body)
	}
}
