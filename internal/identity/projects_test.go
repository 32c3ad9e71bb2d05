package identity

import (
	"strings"
	"testing"
)

func TestProjectCRUDAndHierarchy(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	top := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "top", "tags": []string{"a", "b"}, "colour": "blue"}}), "project", "id")
	mid := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "mid", "parent_id": top}}), "project", "id")
	leaf := tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "leaf", "parent_id": mid}})
	if str(leaf, "project", "domain_id") != "default" || str(leaf, "project", "parent_id") != mid {
		t.Fatalf("leaf: %v", leaf)
	}
	got := tc.must(200, "GET", "/v3/projects/"+top, adm, nil)["project"].(map[string]any)
	if got["colour"] != "blue" || got["parent_id"] != "default" || got["is_domain"] != false || len(got["tags"].([]any)) != 2 {
		t.Fatalf("top: %v", got)
	}
	sub := tc.must(200, "GET", "/v3/projects/"+top+"?subtree_as_ids", adm, nil)["project"].(map[string]any)["subtree"].(map[string]any)
	if _, ok := sub[mid].(map[string]any)[str(leaf, "project", "id")]; !ok {
		t.Fatalf("subtree_as_ids: %v", sub)
	}
	parents := tc.must(200, "GET", "/v3/projects/"+str(leaf, "project", "id")+"?parents_as_list", adm, nil)["project"].(map[string]any)["parents"].([]any)
	if len(parents) != 2 {
		t.Fatalf("parents_as_list: %v", parents)
	}
	// Non-leaf projects cannot be deleted; duplicates conflict; renames work.
	tc.must(403, "DELETE", "/v3/projects/"+top, adm, nil)
	tc.must(409, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "top"}})
	tc.must(200, "PATCH", "/v3/projects/"+top, adm, map[string]any{"project": map[string]any{"name": "top2", "description": "x"}})
	tc.must(403, "PATCH", "/v3/projects/"+mid, adm, map[string]any{"project": map[string]any{"parent_id": "default"}})
	tc.must(400, "PATCH", "/v3/projects/"+mid, adm, map[string]any{"project": map[string]any{"domain_id": "other"}})
	list := tc.must(200, "GET", "/v3/projects?name=top2", adm, nil)["projects"].([]any)
	if len(list) != 1 {
		t.Fatalf("filter by name: %v", list)
	}
	tagged := tc.must(200, "GET", "/v3/projects?tags=a,b", adm, nil)["projects"].([]any)
	if len(tagged) != 1 {
		t.Fatalf("filter by tags: %v", tagged)
	}
	tc.must(204, "DELETE", "/v3/projects/"+str(leaf, "project", "id"), adm, nil)
	tc.must(404, "GET", "/v3/projects/"+str(leaf, "project", "id"), adm, nil)
	tc.must(404, "DELETE", "/v3/projects/"+str(leaf, "project", "id"), adm, nil)
}

func TestProjectBadInput(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		body any
		want int
	}{
		{`{"project": {"name": ""}}`, 400},
		{`{"project": {"name": "   "}}`, 400},
		{map[string]any{"project": map[string]any{"name": strings.Repeat("x", 65)}}, 400},
		{`{"project": {"name": "p", "enabled": "True"}}`, 400},
		{`{"project": {"name": 5}}`, 400},
		{`{"project": {"name": "p", "tags": ["a,b"]}}`, 400},
		{`{"project": {"name": "p", "domain_id": "missing"}}`, 404},
		{`{"project": {"name": "p", "parent_id": "missing"}}`, 404},
		{`{"project": "p"}`, 400},
		{`{"projects": {}}`, 400},
		{`{"project": {"name": "p"`, 400},
		{`{"project": {"name": "'; DROP TABLE projects; --"}}`, 201},
		{`{"project": {"name": "プロジェクト☁"}}`, 201},
	} {
		status, body, _ := tc.do("POST", "/v3/projects", tc.adminToken, c.body)
		if status != c.want {
			t.Errorf("%v: got %d %v, want %d", c.body, status, body, c.want)
		}
		if c.want >= 400 && str(body, "error", "title") == "" {
			t.Errorf("%v: no Keystone error body: %v", c.body, body)
		}
	}
	// The SQL-looking and unicode names round-trip.
	for _, n := range []string{"'; DROP TABLE projects; --", "プロジェクト☁"} {
		if list := tc.must(200, "GET", "/v3/projects?name="+urlQuery(n), tc.adminToken, nil)["projects"].([]any); len(list) != 1 {
			t.Errorf("%q: %v", n, list)
		}
	}
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", "'", "%27", ";", "%3B", "&", "%26", "#", "%23").Replace(s)
}

func TestProjectTagsAPI(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	id := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "p"}}), "project", "id")
	tc.must(201, "PUT", "/v3/projects/"+id+"/tags/blue", adm, nil)
	tc.must(204, "GET", "/v3/projects/"+id+"/tags/blue", adm, nil)
	tc.must(404, "GET", "/v3/projects/"+id+"/tags/red", adm, nil)
	out := tc.must(200, "PUT", "/v3/projects/"+id+"/tags", adm, map[string]any{"tags": []string{"x", "y"}})
	if len(out["tags"].([]any)) != 2 {
		t.Fatalf("replace: %v", out)
	}
	tc.must(204, "DELETE", "/v3/projects/"+id+"/tags/x", adm, nil)
	if tags := tc.must(200, "GET", "/v3/projects/"+id+"/tags", adm, nil)["tags"].([]any); len(tags) != 1 || tags[0] != "y" {
		t.Fatalf("after delete: %v", tags)
	}
	tc.must(204, "DELETE", "/v3/projects/"+id+"/tags", adm, nil)
}

func TestDomainLifecycleAndCascade(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	d := tc.must(201, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d1", "description": "x"}})
	id := str(d, "domain", "id")
	tc.must(409, "POST", "/v3/domains", adm, map[string]any{"domain": map[string]any{"name": "d1"}})
	p := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "p", "domain_id": id}}), "project", "id")
	// A domain is a project too.
	if got := tc.must(200, "GET", "/v3/projects/"+id, adm, nil); got["project"].(map[string]any)["is_domain"] != true {
		t.Fatalf("domain as project: %v", got)
	}
	tc.must(403, "DELETE", "/v3/domains/"+id, adm, nil)
	tc.must(200, "PATCH", "/v3/domains/"+id, adm, map[string]any{"domain": map[string]any{"enabled": false}})
	tc.must(204, "DELETE", "/v3/domains/"+id, adm, nil)
	tc.must(404, "GET", "/v3/domains/"+id, adm, nil)
	tc.must(404, "GET", "/v3/projects/"+p, adm, nil)

	// A project created with is_domain is a domain, deleted like one.
	pd := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "pd", "is_domain": true}}), "project", "id")
	if ds := tc.must(200, "GET", "/v3/domains?name=pd", adm, nil)["domains"].([]any); len(ds) != 1 {
		t.Fatalf("is_domain project not listed as a domain: %v", ds)
	}
	tc.must(403, "DELETE", "/v3/projects/"+pd, adm, nil)
	tc.must(200, "PATCH", "/v3/projects/"+pd, adm, map[string]any{"project": map[string]any{"enabled": false}})
	tc.must(204, "DELETE", "/v3/projects/"+pd, adm, nil)
}

func TestProjectPolicyForMembers(t *testing.T) {
	tc := newTestCloud(t)
	adm := tc.adminToken
	p := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "demo"}}), "project", "id")
	other := str(tc.must(201, "POST", "/v3/projects", adm, map[string]any{"project": map[string]any{"name": "other"}}), "project", "id")
	uid := str(tc.must(201, "POST", "/v3/users", adm, map[string]any{"user": map[string]any{"name": "alice", "password": "pw"}}), "user", "id")
	if err := tc.svc.store.AddAssignment(t.Context(), Assignment{Type: UserProject, ActorID: uid, TargetID: p, RoleID: tc.roleID("member")}); err != nil {
		t.Fatal(err)
	}
	tc.svc.invalidate()
	tok, _ := tc.passwordToken("alice", "pw", projectScope(p))
	tc.must(200, "GET", "/v3/projects/"+p, tok, nil)
	tc.must(403, "GET", "/v3/projects/"+other, tok, nil)
	tc.must(403, "GET", "/v3/projects", tok, nil)
	tc.must(403, "POST", "/v3/projects", tok, map[string]any{"project": map[string]any{"name": "mine"}})
	tc.must(403, "DELETE", "/v3/projects/"+p, tok, nil)
	if list := tc.must(200, "GET", "/v3/auth/projects", tok, nil)["projects"].([]any); len(list) != 1 {
		t.Fatalf("auth/projects: %v", list)
	}
}
