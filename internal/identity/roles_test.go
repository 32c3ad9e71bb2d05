package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// createTestRole makes a role through the API and returns its id; domain
// may be "" for a global role.
func (tc *testCloud) createTestRole(name, domain string) string {
	tc.t.Helper()
	body := map[string]any{"name": name}
	if domain != "" {
		body["domain_id"] = domain
	}
	return str(tc.must(201, "POST", "/v3/roles", tc.adminToken, map[string]any{"role": body}), "role", "id")
}

// createTestDomain makes a domain through the API and returns its id.
func (tc *testCloud) createTestDomain(name string) string {
	tc.t.Helper()
	return str(tc.must(201, "POST", "/v3/domains", tc.adminToken, map[string]any{"domain": map[string]any{"name": name}}), "domain", "id")
}

// createTestProject makes a project in domain under parent ("" for a
// top-level one) and returns its id.
func (tc *testCloud) createTestProject(name, domain, parent string) string {
	tc.t.Helper()
	body := map[string]any{"name": name, "domain_id": domain}
	if parent != "" {
		body["parent_id"] = parent
	}
	return str(tc.must(201, "POST", "/v3/projects", tc.adminToken, map[string]any{"project": body}), "project", "id")
}

// memberToken is a token of a new user holding only the member role on
// the admin project: authenticated, but no admin.
func (tc *testCloud) memberToken() string {
	tc.t.Helper()
	tc.createUser("plain-member", "member-secret", tc.adminProj)
	tok, _ := tc.passwordToken("plain-member", "member-secret", projectScope(tc.adminProj))
	return tok
}

func TestRoleCRUD(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	other := tc.createTestDomain("other")

	created := tc.must(201, "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "observer", "description": "looks", "color": "blue"}})
	role := created["role"].(map[string]any)
	id := role["id"].(string)
	if role["name"] != "observer" || role["domain_id"] != nil || role["description"] != "looks" || role["color"] != "blue" ||
		!strings.HasSuffix(str(created, "role", "links", "self"), "/v3/roles/"+id) {
		t.Fatalf("created role: %v", role)
	}
	if opts, ok := role["options"].(map[string]any); !ok || len(opts) != 0 {
		t.Fatalf("options: %v", role["options"])
	}
	dom := tc.must(201, "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "observer", "domain_id": other}})
	domID := str(dom, "role", "id")
	if str(dom, "role", "domain_id") != other {
		t.Fatalf("domain role: %v", dom)
	}
	immutable := str(tc.must(201, "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "fixed", "options": map[string]any{"immutable": true}}}), "role", "id")

	for _, tt := range []struct {
		name, method, path string
		token              string
		body               any
		want               int
	}{
		{"duplicate global name", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "observer"}}, 409},
		{"duplicate domain name", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "observer", "domain_id": other}}, 409},
		{"same name other domain", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "observer", "domain_id": "default"}}, 201},
		{"no name", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"description": "x"}}, 400},
		{"blank name", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "   "}}, 400},
		{"name not a string", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": 7}}, 400},
		{"name too long", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": strings.Repeat("n", 256)}}, 400},
		{"role not an object", "POST", "/v3/roles", adm, map[string]any{"role": "x"}, 400},
		{"unknown option", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "o1", "options": map[string]any{"color": true}}}, 400},
		{"immutable not bool", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "o2", "options": map[string]any{"immutable": "yes"}}}, 400},
		{"unknown domain", "POST", "/v3/roles", adm, map[string]any{"role": map[string]any{"name": "o3", "domain_id": "nowhere"}}, 404},
		{"get unknown", "GET", "/v3/roles/nope", adm, nil, 404},
		{"update unknown", "PATCH", "/v3/roles/nope", adm, map[string]any{"role": map[string]any{"name": "x"}}, 404},
		{"delete unknown", "DELETE", "/v3/roles/nope", adm, nil, 404},
		{"empty update", "PATCH", "/v3/roles/" + id, adm, map[string]any{"role": map[string]any{}}, 400},
		{"change domain", "PATCH", "/v3/roles/" + id, adm, map[string]any{"role": map[string]any{"domain_id": other}}, 400},
		{"change id", "PATCH", "/v3/roles/" + id, adm, map[string]any{"role": map[string]any{"id": "other"}}, 400},
		{"rename onto existing", "PATCH", "/v3/roles/" + id, adm, map[string]any{"role": map[string]any{"name": "member"}}, 409},
		{"update immutable", "PATCH", "/v3/roles/" + immutable, adm, map[string]any{"role": map[string]any{"name": "changed"}}, 403},
		{"update immutable with unlock", "PATCH", "/v3/roles/" + immutable, adm, map[string]any{"role": map[string]any{"name": "changed", "options": map[string]any{"immutable": false}}}, 403},
		{"delete immutable", "DELETE", "/v3/roles/" + immutable, adm, nil, 403},
		{"no token", "GET", "/v3/roles", "", nil, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, body, _ := tc.do(tt.method, tt.path, tt.token, tt.body); status != tt.want {
				t.Fatalf("status %d, want %d: %v", status, tt.want, body)
			}
		})
	}

	member := tc.memberToken()
	for _, tt := range []struct{ method, path string }{
		{"GET", "/v3/roles"}, {"GET", "/v3/roles?domain_id=" + other}, {"GET", "/v3/roles/" + id}, {"GET", "/v3/roles/" + domID},
		{"POST", "/v3/roles"}, {"PATCH", "/v3/roles/" + id}, {"DELETE", "/v3/roles/" + id}, {"GET", "/v3/roles/nope"},
	} {
		if status, body, _ := tc.do(tt.method, tt.path, member, map[string]any{"role": map[string]any{"name": "z"}}); status != 403 {
			t.Fatalf("member %s %s: %d %v", tt.method, tt.path, status, body)
		}
	}

	// Lists show global roles, or one domain's roles when asked.
	names := func(path string) []string {
		var out []string
		for _, r := range tc.must(200, "GET", path, adm, nil)["roles"].([]any) {
			out = append(out, r.(map[string]any)["name"].(string))
		}
		sort.Strings(out)
		return out
	}
	if got := strings.Join(names("/v3/roles"), ","); got != "admin,fixed,member,observer,reader" {
		t.Fatalf("global roles: %s", got)
	}
	if got := strings.Join(names("/v3/roles?domain_id="+other), ","); got != "observer" {
		t.Fatalf("domain roles: %s", got)
	}
	if got := strings.Join(names("/v3/roles?name=member"), ","); got != "member" {
		t.Fatalf("by name: %s", got)
	}
	if got := tc.must(200, "GET", "/v3/roles/"+domID, adm, nil); str(got, "role", "domain_id") != other {
		t.Fatalf("get domain role: %v", got)
	}

	// Updates keep what they do not name.
	up := tc.must(200, "PATCH", "/v3/roles/"+id, adm, map[string]any{"role": map[string]any{"name": "watcher", "domain_id": nil}})
	if str(up, "role", "name") != "watcher" || str(up, "role", "description") != "looks" || str(up, "role", "color") != "blue" {
		t.Fatalf("updated: %v", up)
	}
	if got := tc.must(200, "GET", "/v3/roles/"+id, adm, nil); str(got, "role", "name") != "watcher" {
		t.Fatalf("after update: %v", got)
	}

	// An immutable role is unlocked by an update of the flag alone.
	unlocked := tc.must(200, "PATCH", "/v3/roles/"+immutable, adm, map[string]any{"role": map[string]any{"options": map[string]any{"immutable": nil}}})
	if opts := unlocked["role"].(map[string]any)["options"].(map[string]any); len(opts) != 0 {
		t.Fatalf("unlocked options: %v", opts)
	}
	tc.must(204, "DELETE", "/v3/roles/"+immutable, adm, nil)
	tc.must(204, "DELETE", "/v3/roles/"+id, adm, nil)
	tc.must(404, "GET", "/v3/roles/"+id, adm, nil)
}

func TestImpliedRoles(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	a, b, c := tc.createTestRole("role-a", ""), tc.createTestRole("role-b", ""), tc.createTestRole("role-c", "")
	d1, d2 := tc.createTestRole("dom-1", "default"), tc.createTestRole("dom-2", "default")
	admin := tc.roleID("admin")

	rule := tc.must(201, "PUT", "/v3/roles/"+a+"/implies/"+b, adm, nil)
	inf := rule["role_inference"].(map[string]any)
	if str(inf, "prior_role", "id") != a || str(inf, "prior_role", "name") != "role-a" || str(inf, "implies", "id") != b ||
		!strings.HasSuffix(str(inf, "implies", "links", "self"), "/v3/roles/"+b) ||
		!strings.HasSuffix(str(rule, "links", "self"), "/v3/roles/"+a+"/implies/"+b) {
		t.Fatalf("rule: %v", rule)
	}
	tc.must(201, "PUT", "/v3/roles/"+b+"/implies/"+c, adm, nil)
	tc.must(201, "PUT", "/v3/roles/"+d1+"/implies/"+d2, adm, nil)
	tc.must(201, "PUT", "/v3/roles/"+d1+"/implies/"+a, adm, nil)

	for _, tt := range []struct {
		name, method, path string
		want               int
	}{
		{"show", "GET", "/v3/roles/" + a + "/implies/" + b, 200},
		{"check", "HEAD", "/v3/roles/" + a + "/implies/" + b, 204},
		{"show missing rule", "GET", "/v3/roles/" + a + "/implies/" + c, 404},
		{"check missing rule", "HEAD", "/v3/roles/" + a + "/implies/" + c, 404},
		{"unknown prior", "PUT", "/v3/roles/nope/implies/" + b, 404},
		{"unknown implied", "PUT", "/v3/roles/" + a + "/implies/nope", 404},
		{"list unknown prior", "GET", "/v3/roles/nope/implies", 404},
		{"duplicate", "PUT", "/v3/roles/" + a + "/implies/" + b, 409},
		{"global implies domain role", "PUT", "/v3/roles/" + a + "/implies/" + d1, 403},
		{"admin is never implied", "PUT", "/v3/roles/" + c + "/implies/" + admin, 403},
		{"self", "PUT", "/v3/roles/" + a + "/implies/" + a, 403},
		{"cycle", "PUT", "/v3/roles/" + c + "/implies/" + a, 403},
		{"delete missing rule", "DELETE", "/v3/roles/" + c + "/implies/" + b, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, body, _ := tc.do(tt.method, tt.path, adm, nil); status != tt.want {
				t.Fatalf("status %d, want %d: %v", status, tt.want, body)
			}
		})
	}
	member := tc.memberToken()
	for _, tt := range []struct{ method, path string }{
		{"GET", "/v3/roles/" + a + "/implies"}, {"GET", "/v3/roles/" + a + "/implies/" + b}, {"HEAD", "/v3/roles/" + a + "/implies/" + b},
		{"PUT", "/v3/roles/" + a + "/implies/" + c}, {"DELETE", "/v3/roles/" + a + "/implies/" + b}, {"GET", "/v3/role_inferences"},
	} {
		if status, _, _ := tc.do(tt.method, tt.path, member, nil); status != 403 {
			t.Fatalf("member %s %s: %d", tt.method, tt.path, status)
		}
	}

	list := tc.must(200, "GET", "/v3/roles/"+d1+"/implies", adm, nil)
	var ids []string
	for _, r := range list["role_inference"].(map[string]any)["implies"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	sort.Strings(ids)
	want := []string{a, d2}
	sort.Strings(want)
	if strings.Join(ids, ",") != strings.Join(want, ",") || str(list, "role_inference", "prior_role", "id") != d1 {
		t.Fatalf("implies of d1: %v", list)
	}

	rules := map[string]int{}
	for _, r := range tc.must(200, "GET", "/v3/role_inferences", adm, nil)["role_inferences"].([]any) {
		rm := r.(map[string]any)
		rules[str(rm, "prior_role", "name")] = len(rm["implies"].([]any))
	}
	for name, n := range map[string]int{"admin": 1, "member": 1, "role-a": 1, "role-b": 1, "dom-1": 2} {
		if rules[name] != n {
			t.Fatalf("role_inferences: %v", rules)
		}
	}

	tc.must(204, "DELETE", "/v3/roles/"+a+"/implies/"+b, adm, nil)
	tc.must(404, "GET", "/v3/roles/"+a+"/implies/"+b, adm, nil)
	// Once the chain is cut, the former cycle is allowed.
	tc.must(201, "PUT", "/v3/roles/"+c+"/implies/"+a, adm, nil)
}

// tokenRoleNames returns the sorted role names of a token body.
func tokenRoleNames(body map[string]any) []string {
	var out []string
	roles, _ := body["token"].(map[string]any)["roles"].([]any)
	for _, r := range roles {
		out = append(out, r.(map[string]any)["name"].(string))
	}
	sort.Strings(out)
	return out
}

func TestDomainRoleOnlyImplies(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	other := tc.createTestDomain("elsewhere")
	otherProject := tc.createTestProject("far", other, "")
	project := tc.createTestProject("near", "default", "")
	global := tc.createTestRole("operator", "")
	domainRole := tc.createTestRole("ops-lead", "default")
	tc.must(201, "PUT", "/v3/roles/"+domainRole+"/implies/"+global, adm, nil)

	user := tc.createUser("lead", "lead-secret", "")
	tc.must(204, "PUT", "/v3/projects/"+project+"/users/"+user+"/roles/"+domainRole, adm, nil)
	// A domain-specific role is granted only on its own domain's projects.
	if status, body, _ := tc.do("PUT", "/v3/projects/"+otherProject+"/users/"+user+"/roles/"+domainRole, adm, nil); status != 403 {
		t.Fatalf("grant on another domain's project: %d %v", status, body)
	}

	_, body := tc.passwordToken("lead", "lead-secret", projectScope(project))
	if got := strings.Join(tokenRoleNames(body), ","); got != "operator" {
		t.Fatalf("token roles: %s", got)
	}
	// The effective listing agrees with the token; the direct one shows the
	// grant as it was made.
	eff := tc.must(200, "GET", "/v3/role_assignments?effective&user.id="+user, adm, nil)["role_assignments"].([]any)
	if len(eff) != 1 || str(eff[0].(map[string]any), "role", "id") != global {
		t.Fatalf("effective: %v", eff)
	}
	direct := tc.must(200, "GET", "/v3/role_assignments?user.id="+user, adm, nil)["role_assignments"].([]any)
	if len(direct) != 1 || str(direct[0].(map[string]any), "role", "id") != domainRole {
		t.Fatalf("direct: %v", direct)
	}
}

func TestDeleteRoleRemovesGrantsAndRules(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	doomed := tc.createTestRole("doomed", "")
	tc.must(201, "PUT", "/v3/roles/"+doomed+"/implies/"+tc.roleID("reader"), adm, nil)
	user := tc.createUser("holder", "holder-secret", "")
	tc.must(204, "PUT", "/v3/projects/"+tc.adminProj+"/users/"+user+"/roles/"+doomed, adm, nil)
	tok, _ := tc.passwordToken("holder", "holder-secret", projectScope(tc.adminProj))

	tc.must(204, "DELETE", "/v3/roles/"+doomed, adm, nil)
	if as := tc.must(200, "GET", "/v3/role_assignments?user.id="+user, adm, nil)["role_assignments"].([]any); len(as) != 0 {
		t.Fatalf("assignments left: %v", as)
	}
	for _, r := range tc.must(200, "GET", "/v3/role_inferences", adm, nil)["role_inferences"].([]any) {
		if str(r.(map[string]any), "prior_role", "id") == doomed {
			t.Fatalf("rule left: %v", r)
		}
	}
	// The token held only that role (and what it implied): it is gone.
	if status := tc.validateStatus(tok); status != http.StatusNotFound {
		t.Fatalf("token after role deletion: %d", status)
	}
	if _, err := tc.svc.store.GetRole(context.Background(), doomed); err == nil {
		t.Fatal("role still stored")
	}
}

// validateStatus is the status of GET /v3/auth/tokens for subject, asked by
// the admin.
func (tc *testCloud) validateStatus(subject string) int {
	tc.t.Helper()
	status, _ := tc.validateBody(subject)
	return status
}

// validateBody validates subject as the admin: GET /v3/auth/tokens.
func (tc *testCloud) validateBody(subject string) (int, map[string]any) {
	tc.t.Helper()
	r, _ := http.NewRequest("GET", tc.srv.URL+"/v3/auth/tokens", nil)
	r.Header.Set("X-Auth-Token", tc.adminToken)
	r.Header.Set("X-Subject-Token", subject)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}
