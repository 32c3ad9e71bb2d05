package identity

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// createTestGroup makes a group in the default domain with members, through
// the store so these tests do not depend on the group API.
func (tc *testCloud) createTestGroup(name string, members ...string) string {
	tc.t.Helper()
	ctx := context.Background()
	g := &Group{ID: newID(), DomainID: DefaultDomainID, Name: name, Extra: map[string]any{}}
	if err := tc.svc.store.CreateGroup(ctx, g); err != nil {
		tc.t.Fatal(err)
	}
	for _, u := range members {
		if err := tc.svc.store.AddUserToGroup(ctx, u, g.ID); err != nil {
			tc.t.Fatal(err)
		}
	}
	tc.svc.invalidate()
	return g.ID
}

func TestGrantsOfEveryKind(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	user := tc.createUser("grantee", "grantee-secret", "")
	group := tc.createTestGroup("grantees")
	project := tc.createTestProject("granted", "default", "")
	role := tc.createTestRole("granted-role", "")

	for _, tt := range []struct {
		name  string
		grant string // path of the grant
		list  string // path of the grant list, if the kind has one
	}{
		{"user on project", "/v3/projects/" + project + "/users/" + user + "/roles/" + role, "/v3/projects/" + project + "/users/" + user + "/roles"},
		{"group on project", "/v3/projects/" + project + "/groups/" + group + "/roles/" + role, "/v3/projects/" + project + "/groups/" + group + "/roles"},
		{"user on domain", "/v3/domains/default/users/" + user + "/roles/" + role, "/v3/domains/default/users/" + user + "/roles"},
		{"group on domain", "/v3/domains/default/groups/" + group + "/roles/" + role, "/v3/domains/default/groups/" + group + "/roles"},
		{"user inherited from domain", "/v3/OS-INHERIT/domains/default/users/" + user + "/roles/" + role + "/inherited_to_projects",
			"/v3/OS-INHERIT/domains/default/users/" + user + "/roles/inherited_to_projects"},
		{"group inherited from domain", "/v3/OS-INHERIT/domains/default/groups/" + group + "/roles/" + role + "/inherited_to_projects",
			"/v3/OS-INHERIT/domains/default/groups/" + group + "/roles/inherited_to_projects"},
		{"user inherited from project", "/v3/OS-INHERIT/projects/" + project + "/users/" + user + "/roles/" + role + "/inherited_to_projects", ""},
		{"group inherited from project", "/v3/OS-INHERIT/projects/" + project + "/groups/" + group + "/roles/" + role + "/inherited_to_projects", ""},
		{"user on system", "/v3/system/users/" + user + "/roles/" + role, "/v3/system/users/" + user + "/roles"},
		{"group on system", "/v3/system/groups/" + group + "/roles/" + role, "/v3/system/groups/" + group + "/roles"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			listed := func() int {
				if tt.list == "" {
					return -1
				}
				roles := tc.must(200, "GET", tt.list, adm, nil)["roles"].([]any)
				for _, r := range roles {
					if r.(map[string]any)["id"] != role {
						t.Fatalf("listed %v", r)
					}
				}
				return len(roles)
			}
			tc.must(404, "GET", tt.grant, adm, nil)
			if n := listed(); n > 0 {
				t.Fatalf("listed before the grant: %d", n)
			}
			tc.must(204, "PUT", tt.grant, adm, nil)
			tc.must(204, "PUT", tt.grant, adm, nil) // granting twice is fine
			tc.must(204, "GET", tt.grant, adm, nil)
			tc.must(204, "HEAD", tt.grant, adm, nil)
			if n := listed(); n == 0 {
				t.Fatal("not listed")
			}
			// A grant is one kind only: the same ids elsewhere are not it.
			direct := tc.must(200, "GET", "/v3/role_assignments?role.id="+role, adm, nil)["role_assignments"].([]any)
			if len(direct) != 1 {
				t.Fatalf("assignments: %v", direct)
			}
			if inh := strings.Contains(tt.grant, "OS-INHERIT"); inh != (str(direct[0].(map[string]any), "scope", "OS-INHERIT:inherited_to") == "projects") {
				t.Fatalf("inheritance shown wrong: %v", direct[0])
			}
			if link := str(direct[0].(map[string]any), "links", "assignment"); !strings.HasSuffix(link, tt.grant) {
				t.Fatalf("assignment link %q, want ...%s", link, tt.grant)
			}
			tc.must(204, "DELETE", tt.grant, adm, nil)
			tc.must(404, "GET", tt.grant, adm, nil)
			tc.must(404, "DELETE", tt.grant, adm, nil)
			if n := listed(); n > 0 {
				t.Fatalf("listed after revoke: %d", n)
			}
		})
	}
}

func TestGrantErrors(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	user := tc.createUser("grantee", "grantee-secret", "")
	group := tc.createTestGroup("grantees")
	project := tc.createTestProject("granted", "default", "")
	role := tc.createTestRole("granted-role", "")
	domainRole := tc.createTestRole("local-role", "default")
	member := tc.memberToken()

	for _, tt := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"unknown user", "PUT", "/v3/projects/" + project + "/users/nobody/roles/" + role, adm, 404},
		{"unknown group", "PUT", "/v3/projects/" + project + "/groups/nobody/roles/" + role, adm, 404},
		{"unknown project", "PUT", "/v3/projects/nowhere/users/" + user + "/roles/" + role, adm, 404},
		{"unknown domain", "PUT", "/v3/domains/nowhere/users/" + user + "/roles/" + role, adm, 404},
		{"unknown role", "PUT", "/v3/projects/" + project + "/users/" + user + "/roles/nothing", adm, 404},
		{"unknown role inherited", "PUT", "/v3/OS-INHERIT/domains/default/users/" + user + "/roles/nothing/inherited_to_projects", adm, 404},
		{"unknown user inherited", "PUT", "/v3/OS-INHERIT/projects/" + project + "/users/nobody/roles/" + role + "/inherited_to_projects", adm, 404},
		{"unknown domain inherited", "PUT", "/v3/OS-INHERIT/domains/nowhere/groups/" + group + "/roles/" + role + "/inherited_to_projects", adm, 404},
		{"unknown user system", "PUT", "/v3/system/users/nobody/roles/" + role, adm, 404},
		{"unknown user list", "GET", "/v3/projects/" + project + "/users/nobody/roles", adm, 404},
		{"revoke for a deleted user", "DELETE", "/v3/projects/" + project + "/users/nobody/roles/" + role, adm, 404},
		{"domain role on system", "PUT", "/v3/system/users/" + user + "/roles/" + domainRole, adm, 400},
		{"domain role on its domain", "PUT", "/v3/domains/default/users/" + user + "/roles/" + domainRole, adm, 204},
		{"member grants", "PUT", "/v3/projects/" + project + "/users/" + user + "/roles/" + role, member, 403},
		{"member checks", "GET", "/v3/projects/" + project + "/users/" + user + "/roles/" + role, member, 403},
		{"member lists", "GET", "/v3/domains/default/groups/" + group + "/roles", member, 403},
		{"member inherited unknown", "PUT", "/v3/OS-INHERIT/domains/nowhere/users/" + user + "/roles/" + role + "/inherited_to_projects", member, 403},
		{"member system", "PUT", "/v3/system/groups/" + group + "/roles/" + role, member, 403},
		{"member lists assignments", "GET", "/v3/role_assignments", member, 403},
		{"no token", "PUT", "/v3/projects/" + project + "/users/" + user + "/roles/" + role, "", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, body, _ := tc.do(tt.method, tt.path, tt.token, nil); status != tt.want {
				t.Fatalf("status %d, want %d: %v", status, tt.want, body)
			}
		})
	}
}

// assignmentKey summarises a listed assignment as "actor role@scope", with
// names resolved through names (id -> name) so the tests read.
func assignmentKey(a map[string]any, names map[string]string) string {
	n := func(id string) string {
		if v, ok := names[id]; ok {
			return v
		}
		return id
	}
	actor := "user:" + n(str(a, "user", "id"))
	if _, ok := a["group"]; ok {
		actor = "group:" + n(str(a, "group", "id"))
	}
	scope := "system"
	switch {
	case str(a, "scope", "project", "id") != "":
		scope = "project:" + n(str(a, "scope", "project", "id"))
	case str(a, "scope", "domain", "id") != "":
		scope = "domain:" + n(str(a, "scope", "domain", "id"))
	}
	if str(a, "scope", "OS-INHERIT:inherited_to") == "projects" {
		scope += "+inherited"
	}
	return actor + " " + n(str(a, "role", "id")) + "@" + scope
}

func TestRoleAssignmentListing(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	parent := tc.createTestProject("parent", "default", "")
	child := tc.createTestProject("child", "default", parent)
	alice := tc.createUser("alice", "alice-secret", "")
	bob := tc.createUser("bob", "bob-secret", "")
	team := tc.createTestGroup("team", alice, bob)
	direct, viaGroup, fromDomain, fromParent, implied := tc.createTestRole("direct", ""), tc.createTestRole("via-group", ""),
		tc.createTestRole("from-domain", ""), tc.createTestRole("from-parent", ""), tc.createTestRole("implied", "")
	names := map[string]string{parent: "parent", child: "child", alice: "alice", bob: "bob", team: "team", direct: "direct",
		viaGroup: "via-group", fromDomain: "from-domain", fromParent: "from-parent", implied: "implied"}

	tc.must(201, "PUT", "/v3/roles/"+direct+"/implies/"+implied, adm, nil)
	tc.must(204, "PUT", "/v3/projects/"+parent+"/users/"+alice+"/roles/"+direct, adm, nil)
	tc.must(204, "PUT", "/v3/projects/"+parent+"/groups/"+team+"/roles/"+viaGroup, adm, nil)
	tc.must(204, "PUT", "/v3/OS-INHERIT/domains/default/users/"+alice+"/roles/"+fromDomain+"/inherited_to_projects", adm, nil)
	tc.must(204, "PUT", "/v3/OS-INHERIT/projects/"+parent+"/groups/"+team+"/roles/"+fromParent+"/inherited_to_projects", adm, nil)

	list := func(query string) []string {
		t.Helper()
		body := tc.must(200, "GET", "/v3/role_assignments?"+query, adm, nil)
		var keys []string
		for _, a := range body["role_assignments"].([]any) {
			keys = append(keys, assignmentKey(a.(map[string]any), names))
		}
		sort.Strings(keys)
		return keys
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	for _, tt := range []struct {
		name  string
		query string
		want  []string
	}{
		{"direct for a user", q("user.id", alice), []string{
			"user:alice direct@project:parent", "user:alice from-domain@domain:default+inherited"}},
		{"direct for a group", q("group.id", team), []string{
			"group:team from-parent@project:parent+inherited", "group:team via-group@project:parent"}},
		{"direct on a project", q("scope.project.id", parent), []string{
			"group:team from-parent@project:parent+inherited", "group:team via-group@project:parent", "user:alice direct@project:parent"}},
		{"direct inherited only", q("scope.OS-INHERIT:inherited_to", "projects", "scope.project.id", parent), []string{
			"group:team from-parent@project:parent+inherited"}},
		{"direct by role", q("role.id", viaGroup), []string{"group:team via-group@project:parent"}},
		{"direct subtree", q("scope.project.id", parent, "include_subtree", "true"), []string{
			"group:team from-parent@project:parent+inherited", "group:team via-group@project:parent", "user:alice direct@project:parent"}},
		{"effective on parent", q("effective", "true", "user.id", alice, "scope.project.id", parent), []string{
			"user:alice direct@project:parent", "user:alice from-domain@project:parent+inherited",
			"user:alice implied@project:parent", "user:alice via-group@project:parent"}},
		{"effective on child", q("effective", "true", "user.id", alice, "scope.project.id", child), []string{
			"user:alice from-domain@project:child+inherited", "user:alice from-parent@project:child+inherited"}},
		{"effective for bob everywhere", q("effective", "true", "user.id", bob), []string{
			"user:bob from-parent@project:child+inherited", "user:bob via-group@project:parent"}},
		{"effective on child for everyone", q("effective", "true", "scope.project.id", child), []string{
			"user:alice from-domain@project:child+inherited", "user:alice from-parent@project:child+inherited",
			"user:bob from-parent@project:child+inherited"}},
		{"effective implied role filter", q("effective", "true", "role.id", implied), []string{"user:alice implied@project:parent"}},
		{"effective on the domain", q("effective", "true", "scope.domain.id", "default", "user.id", alice), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := list(tt.query)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}

	// Effective assignments are what tokens carry.
	for _, p := range []string{parent, child} {
		_, body := tc.passwordToken("alice", "alice-secret", projectScope(p))
		var want []string
		for _, k := range list(q("effective", "true", "user.id", alice, "scope.project.id", p)) {
			want = append(want, strings.SplitN(strings.Fields(k)[1], "@", 2)[0])
		}
		sort.Strings(want)
		if got := tokenRoleNames(body); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("token roles on %s: %v, effective listing %v", names[p], got, want)
		}
	}

	// Links say where an effective assignment comes from.
	groupRows := tc.must(200, "GET", "/v3/role_assignments?"+q("effective", "true", "user.id", bob, "scope.project.id", child), adm, nil)["role_assignments"].([]any)
	impliedRows := tc.must(200, "GET", "/v3/role_assignments?"+q("effective", "true", "role.id", implied), adm, nil)["role_assignments"].([]any)
	if len(groupRows) == 0 || len(impliedRows) == 0 {
		t.Fatalf("effective listings to check links on are empty: %d, %d", len(groupRows), len(impliedRows))
	}
	for _, a := range groupRows {
		am := a.(map[string]any)
		want := "/v3/OS-INHERIT/projects/" + parent + "/groups/" + team + "/roles/" + fromParent + "/inherited_to_projects"
		if !strings.HasSuffix(str(am, "links", "assignment"), want) || !strings.HasSuffix(str(am, "links", "membership"), "/v3/groups/"+team+"/users/"+bob) {
			t.Fatalf("links: %v", am["links"])
		}
	}
	for _, a := range impliedRows {
		if link := str(a.(map[string]any), "links", "assignment"); !strings.HasSuffix(link, "/v3/projects/"+parent+"/users/"+alice+"/roles/"+direct) {
			t.Fatalf("implied assignment link: %s", link)
		}
	}

	// include_names adds names to every part.
	named := tc.must(200, "GET", "/v3/role_assignments?"+q("user.id", alice, "scope.project.id", parent, "include_names", "true"), adm, nil)["role_assignments"].([]any)
	if len(named) != 1 {
		t.Fatalf("named: %v", named)
	}
	a := named[0].(map[string]any)
	if str(a, "user", "name") != "alice" || str(a, "user", "domain", "name") != "Default" || str(a, "role", "name") != "direct" ||
		str(a, "scope", "project", "name") != "parent" || str(a, "scope", "project", "domain", "id") != "default" {
		t.Fatalf("names: %v", a)
	}

	// System grants are listed as such.
	sys := tc.must(200, "GET", "/v3/role_assignments?"+q("scope.system", "all", "user.id", tc.adminID), adm, nil)["role_assignments"].([]any)
	if len(sys) != 1 || sys[0].(map[string]any)["scope"].(map[string]any)["system"].(map[string]any)["all"] != true {
		t.Fatalf("system: %v", sys)
	}

	for _, tt := range []struct{ name, query string }{
		{"user and group", q("user.id", alice, "group.id", team)},
		{"project and domain", q("scope.project.id", parent, "scope.domain.id", "default")},
		{"system and project", q("scope.project.id", parent, "scope.system", "all")},
		{"system and domain", q("scope.domain.id", "default", "scope.system", "all")},
		{"effective group", q("effective", "true", "group.id", team)},
		{"effective inherited domain", q("effective", "true", "scope.domain.id", "default", "scope.OS-INHERIT:inherited_to", "projects")},
		{"subtree without project", q("include_subtree", "true")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, body, _ := tc.do("GET", "/v3/role_assignments?"+tt.query, adm, nil); status != http.StatusBadRequest {
				t.Fatalf("status %d: %v", status, body)
			}
		})
	}
	tc.must(404, "GET", "/v3/role_assignments?"+q("include_subtree", "true", "scope.project.id", "nowhere"), adm, nil)
}

func TestLosingARoleEndsTheToken(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	member := tc.roleID("member")
	project := tc.createTestProject("workplace", "default", "")
	user := tc.createUser("worker", "worker-secret", project)
	group := tc.createTestGroup("workers", user)

	for _, tt := range []struct {
		name          string
		grant, revoke func()
	}{
		{"direct grant revoked",
			func() {},
			func() { tc.must(204, "DELETE", "/v3/projects/"+project+"/users/"+user+"/roles/"+member, adm, nil) }},
		{"group grant revoked",
			func() { tc.must(204, "PUT", "/v3/projects/"+project+"/groups/"+group+"/roles/"+member, adm, nil) },
			func() { tc.must(204, "DELETE", "/v3/projects/"+project+"/groups/"+group+"/roles/"+member, adm, nil) }},
		{"inherited grant revoked",
			func() {
				tc.must(204, "PUT", "/v3/OS-INHERIT/domains/default/users/"+user+"/roles/"+member+"/inherited_to_projects", adm, nil)
			},
			func() {
				tc.must(204, "DELETE", "/v3/OS-INHERIT/domains/default/users/"+user+"/roles/"+member+"/inherited_to_projects", adm, nil)
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.grant()
			tok, body := tc.passwordToken("worker", "worker-secret", projectScope(project))
			if got := strings.Join(tokenRoleNames(body), ","); got != "member,reader" {
				t.Fatalf("token roles: %s", got)
			}
			if s := tc.validateStatus(tok); s != http.StatusOK {
				t.Fatalf("validate before: %d", s)
			}
			tt.revoke()
			if s := tc.validateStatus(tok); s != http.StatusNotFound {
				t.Fatalf("validate after: %d", s)
			}
			if s, _, _ := tc.do("GET", "/v3/auth/projects", tok, nil); s != http.StatusUnauthorized {
				t.Fatalf("use after: %d", s)
			}
		})
	}

	// A token keeps working while another role remains, minus the lost one.
	reader := tc.roleID("reader")
	tc.must(204, "PUT", "/v3/projects/"+project+"/users/"+user+"/roles/"+member, adm, nil)
	tc.must(204, "PUT", "/v3/projects/"+project+"/users/"+user+"/roles/"+reader, adm, nil)
	tok, _ := tc.passwordToken("worker", "worker-secret", projectScope(project))
	tc.must(204, "DELETE", "/v3/projects/"+project+"/users/"+user+"/roles/"+member, adm, nil)
	status, body := tc.validateBody(tok)
	if status != http.StatusOK || strings.Join(tokenRoleNames(body), ",") != "reader" {
		t.Fatalf("validate with a role left: %d %v", status, body)
	}
}
