package identity

import (
	"context"
	"strings"
	"testing"
	"time"
)

func mkGroup(tc *testCloud, attrs map[string]any) string {
	tc.t.Helper()
	return str(tc.must(201, "POST", "/v3/groups", tc.adminToken, map[string]any{"group": attrs}), "group", "id")
}

func TestGroupCRUD(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	dom := str(tc.must(201, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d2"}}), "domain", "id")
	out := tc.must(201, "POST", "/v3/groups", adm, map[string]any{"group": map[string]any{"name": " ops ", "description": "d", "domain_id": dom, "team": "red"}})["group"].(map[string]any)
	id := out["id"].(string)
	if out["name"] != "ops" || out["description"] != "d" || out["domain_id"] != dom || out["team"] != "red" || !strings.HasSuffix(str(out, "links", "self"), "/v3/groups/"+id) {
		t.Fatalf("create: %v", out)
	}
	plain := tc.must(201, "POST", "/v3/groups", adm, map[string]any{"group": map[string]any{"name": "plain"}})["group"].(map[string]any)
	if plain["domain_id"] != "default" || plain["description"] != "" {
		t.Fatalf("defaults: %v", plain)
	}
	if got := tc.must(200, "GET", "/v3/groups/"+id, adm, nil)["group"].(map[string]any); got["team"] != "red" {
		t.Fatalf("get: %v", got)
	}
	for q, want := range map[string]int{"": 2, "name=ops": 1, "domain_id=" + dom: 1, "domain_id=default": 1, "name__icontains=LAI": 1, "name=none": 0} {
		if list := tc.must(200, "GET", "/v3/groups?"+q, adm, nil)["groups"].([]any); len(list) != want {
			t.Errorf("?%s: %v", q, list)
		}
	}
	// Updating one attribute leaves the others.
	upd := tc.must(200, "PATCH", "/v3/groups/"+id, adm, map[string]any{"group": map[string]any{"name": "ops2"}})["group"].(map[string]any)
	if upd["name"] != "ops2" || upd["description"] != "d" || upd["domain_id"] != dom || upd["team"] != "red" {
		t.Fatalf("update: %v", upd)
	}
	tc.must(409, "POST", "/v3/groups", adm, map[string]any{"group": map[string]any{"name": "plain"}})
	tc.must(201, "POST", "/v3/groups", adm, map[string]any{"group": map[string]any{"name": "plain", "domain_id": dom}})
	tc.must(409, "PATCH", "/v3/groups/"+id, adm, map[string]any{"group": map[string]any{"name": "plain"}})
	tc.must(204, "DELETE", "/v3/groups/"+id, adm, nil)
	tc.must(404, "GET", "/v3/groups/"+id, adm, nil)
	tc.must(404, "DELETE", "/v3/groups/"+id, adm, nil)
	tc.must(404, "PATCH", "/v3/groups/"+id, adm, map[string]any{"group": map[string]any{"name": "x"}})
}

func TestGroupBadInput(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		body any
		want int
	}{
		{`{"group": {"name": ""}}`, 400},
		{`{"group": {"name": "  "}}`, 400},
		{`{"group": {}}`, 400},
		{`{"group": {"name": 1}}`, 400},
		{map[string]any{"group": map[string]any{"name": strings.Repeat("g", 256)}}, 400},
		{`{"group": {"name": "g", "domain_id": "missing"}}`, 404},
		{`{"group": {"name": "g", "domain_id": "not an id"}}`, 400},
		{`{"group": {"name": "g", "description": 5}}`, 400},
		{`{"group": []}`, 400},
		{`{"group": {"name": "g"`, 400},
		{`{"group": {"name": "g", "description": null}}`, 201},
	} {
		status, body, _ := tc.do("POST", "/v3/groups", tc.adminToken, c.body)
		if status != c.want {
			t.Errorf("POST %v: got %d %v, want %d", c.body, status, body, c.want)
		}
		if c.want >= 400 && str(body, "error", "title") == "" {
			t.Errorf("POST %v: no Keystone error body: %v", c.body, body)
		}
	}
	id := mkGroup(tc, map[string]any{"name": "target"})
	for _, c := range []struct {
		body any
		want int
	}{
		{`{"group": {}}`, 400},
		{`{"group": {"domain_id": "other"}}`, 400},
		{`{"group": {"id": "other"}}`, 400},
		{`{"group": {"name": ""}}`, 400},
		{`{"group": {"description": "new"}}`, 200},
	} {
		if status, body, _ := tc.do("PATCH", "/v3/groups/"+id, tc.adminToken, c.body); status != c.want {
			t.Errorf("PATCH %v: got %d %v, want %d", c.body, status, body, c.want)
		}
	}
}

func TestGroupMembership(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	ctx := context.Background()
	grp := mkGroup(tc, map[string]any{"name": "devs"})
	a := mkUser(tc, "ann", "pw", nil)
	b := mkUser(tc, "ben", "pw", map[string]any{"enabled": false})
	base := "/v3/groups/" + grp + "/users/"
	for _, u := range []string{a, b, a} { // adding twice is fine
		tc.must(204, "PUT", base+u, adm, nil)
	}
	tc.must(204, "GET", base+a, adm, nil)
	tc.must(204, "HEAD", base+a, adm, nil)
	for q, want := range map[string]int{"": 2, "name=ann": 1, "enabled=false": 1, "name__startswith=b": 1, "domain_id=other": 0} {
		if list := tc.must(200, "GET", "/v3/groups/"+grp+"/users?"+q, adm, nil)["users"].([]any); len(list) != want {
			t.Errorf("group users ?%s: %v", q, list)
		}
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"PUT", "/v3/groups/nogroup/users/" + a, 404},
		{"PUT", base + "nouser", 404},
		{"GET", "/v3/groups/nogroup/users/" + a, 404},
		{"GET", base + "nouser", 404},
		{"DELETE", base + "nouser", 404},
		{"GET", "/v3/groups/nogroup/users", 404},
	} {
		status, body, _ := tc.do(c.method, c.path, adm, nil)
		if status != c.want {
			t.Errorf("%s %s: got %d %v, want %d", c.method, c.path, status, body, c.want)
		}
	}

	// Removing a member revokes that member's tokens (as Keystone) and
	// nobody else's.
	other := mkUser(tc, "cat", "pw", nil)
	tc.must(204, "PUT", base+other, adm, nil)
	tokA, tokOther := mustAuthUserID(tc, a, "pw", nil), mustAuthUserID(tc, other, "pw", nil)
	tc.must(204, "DELETE", base+a, adm, nil)
	tc.must(404, "GET", base+a, adm, nil)
	tc.must(404, "DELETE", base+a, adm, nil)
	if s := subjectStatus(tc, tokA); s != 404 {
		t.Fatalf("removed member's token: %d", s)
	}
	if s := subjectStatus(tc, tokOther); s != 200 {
		t.Fatalf("other member's token: %d", s)
	}

	// A group's grant reaches its members; deleting the group removes both
	// the membership and the grant, and revokes the members' tokens.
	if err := tc.svc.store.AddAssignment(ctx, Assignment{Type: GroupProject, ActorID: grp, TargetID: tc.adminProj, RoleID: tc.roleID("member")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	scoped := mustAuthUserID(tc, other, "pw", projectScope(tc.adminProj))
	tc.must(204, "DELETE", "/v3/groups/"+grp, adm, nil)
	if s := subjectStatus(tc, scoped); s != 404 {
		t.Fatalf("token through a deleted group: %d", s)
	}
	if s, _ := authUserID(tc, other, "pw", projectScope(tc.adminProj)); s != 401 {
		t.Fatalf("scope through a deleted group: %d", s)
	}
	if as, _ := tc.svc.store.ListAssignments(ctx, AssignmentFilter{ActorIDs: []string{grp}}); len(as) != 0 {
		t.Fatalf("group grants survived: %v", as)
	}
	if gs := tc.must(200, "GET", "/v3/users/"+other+"/groups", adm, nil)["groups"].([]any); len(gs) != 0 {
		t.Fatalf("membership survived: %v", gs)
	}
}

func TestGroupPolicy(t *testing.T) {
	tc := newTestCloud(t)
	me := tc.createUser("member1", "pw", tc.adminProj)
	grp := mkGroup(tc, map[string]any{"name": "devs"})
	tc.must(204, "PUT", "/v3/groups/"+grp+"/users/"+me, tc.adminToken, nil)
	tok, _ := tc.passwordToken("member1", "pw", projectScope(tc.adminProj))
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v3/groups", map[string]any{"group": map[string]any{"name": "x"}}},
		{"GET", "/v3/groups", nil},
		{"GET", "/v3/groups/" + grp, nil},
		{"GET", "/v3/groups/nogroup", nil},
		{"PATCH", "/v3/groups/" + grp, map[string]any{"group": map[string]any{"name": "x"}}},
		{"DELETE", "/v3/groups/" + grp, nil},
		{"GET", "/v3/groups/" + grp + "/users", nil},
		{"GET", "/v3/groups/" + grp + "/users/" + me, nil},
		{"PUT", "/v3/groups/" + grp + "/users/" + me, nil},
		{"DELETE", "/v3/groups/" + grp + "/users/" + me, nil},
	} {
		if status, body, _ := tc.do(c.method, c.path, tok, c.body); status != 403 {
			t.Errorf("%s %s: got %d %v, want 403", c.method, c.path, status, body)
		}
	}
	// A user may list their own groups.
	if gs := tc.must(200, "GET", "/v3/users/"+me+"/groups", tok, nil)["groups"].([]any); len(gs) != 1 {
		t.Fatalf("own groups: %v", gs)
	}
}
