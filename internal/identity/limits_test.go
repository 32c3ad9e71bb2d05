package identity

import (
	"context"
	"testing"
)

func (tc *testCloud) systemToken() string {
	tc.t.Helper()
	tok, _ := tc.passwordToken("admin", testAdminPassword, map[string]any{"system": map[string]any{"all": true}})
	return tok
}

func TestRegisteredLimits(t *testing.T) {
	tc := newTestCloud(t)
	sys := tc.systemToken()
	compute := tc.newService("compute")
	rl := func(kv ...any) map[string]any {
		m := map[string]any{"service_id": compute, "resource_name": "cores", "default_limit": 10.0}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	post := func(items ...map[string]any) map[string]any {
		list := []any{}
		for _, it := range items {
			list = append(list, it)
		}
		return map[string]any{"registered_limits": list}
	}

	// Only a system admin writes registered limits.
	tc.must(403, "POST", "/v3/registered_limits", tc.adminToken, post(rl()))
	out := tc.must(201, "POST", "/v3/registered_limits", sys, post(rl(), rl("resource_name", "ram", "default_limit", 2048.0, "region_id", "RegionOne", "description", "MB")))
	created := out["registered_limits"].([]any)
	if len(created) != 2 {
		t.Fatalf("created: %v", out)
	}
	cores := created[0].(map[string]any)
	if cores["resource_name"] != "cores" || cores["default_limit"] != 10.0 || cores["region_id"] != nil || cores["service_id"] != compute {
		t.Fatalf("cores: %v", cores)
	}
	coresID := cores["id"].(string)

	for _, tt := range []struct {
		name string
		body any
		want int
	}{
		{"duplicate", post(rl()), 409},
		{"duplicate in one request", post(rl("resource_name", "gpus"), rl("resource_name", "gpus")), 409},
		{"unknown service", post(rl("service_id", "nope")), 400},
		{"unknown region", post(rl("region_id", "Atlantis")), 400},
		{"no resource name", post(rl("resource_name", nil)), 400},
		{"no default", post(rl("default_limit", nil)), 400},
		{"string default", post(rl("default_limit", "10")), 400},
		{"fractional default", post(rl("default_limit", 1.5)), 400},
		{"default below -1", post(rl("default_limit", -2.0)), 400},
		{"extra property", post(rl("color", "blue")), 400},
		{"empty list", post(), 400},
		{"not a list", map[string]any{"registered_limits": map[string]any{}}, 400},
	} {
		if status, body, _ := tc.do("POST", "/v3/registered_limits", sys, tt.body); status != tt.want {
			t.Errorf("%s: status %d, want %d: %v", tt.name, status, tt.want, body)
		}
	}
	// A failed batch stores nothing.
	if got := ids(tc.must(200, "GET", "/v3/registered_limits?resource_name=gpus", sys, nil), "registered_limits"); len(got) != 0 {
		t.Fatalf("gpus registered after failed batch: %v", got)
	}

	// Anyone authenticated reads them; filters apply.
	member := tc.memberToken()
	if got := ids(tc.must(200, "GET", "/v3/registered_limits", member, nil), "registered_limits"); len(got) != 2 {
		t.Fatalf("list: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v3/registered_limits?region_id=RegionOne", member, nil), "registered_limits"); len(got) != 1 {
		t.Fatalf("list by region: %v", got)
	}
	tc.must(200, "GET", "/v3/registered_limits/"+coresID, member, nil)
	tc.must(404, "GET", "/v3/registered_limits/nope", member, nil)

	out = tc.must(200, "PATCH", "/v3/registered_limits/"+coresID, sys, map[string]any{"registered_limit": map[string]any{"default_limit": 20.0, "description": "vCPUs"}})
	if str(out, "registered_limit", "description") != "vCPUs" || out["registered_limit"].(map[string]any)["default_limit"] != 20.0 {
		t.Fatalf("updated: %v", out)
	}
	tc.must(409, "PATCH", "/v3/registered_limits/"+coresID, sys, map[string]any{"registered_limit": map[string]any{"resource_name": "ram", "region_id": "RegionOne"}})
	tc.must(400, "PATCH", "/v3/registered_limits/"+coresID, sys, map[string]any{"registered_limit": map[string]any{"service_id": "nope"}})
	tc.must(400, "PATCH", "/v3/registered_limits/"+coresID, sys, map[string]any{"registered_limit": map[string]any{"id": "x"}})
	tc.must(403, "PATCH", "/v3/registered_limits/"+coresID, member, map[string]any{"registered_limit": map[string]any{"default_limit": 1.0}})
	tc.must(404, "PATCH", "/v3/registered_limits/nope", sys, map[string]any{"registered_limit": map[string]any{"default_limit": 1.0}})

	// A registered limit with project limits can neither change nor go.
	tc.must(201, "POST", "/v3/limits", sys, map[string]any{"limits": []any{map[string]any{
		"project_id": tc.adminProj, "service_id": compute, "resource_name": "cores", "resource_limit": 5.0}}})
	tc.must(403, "PATCH", "/v3/registered_limits/"+coresID, sys, map[string]any{"registered_limit": map[string]any{"default_limit": 1.0}})
	tc.must(403, "DELETE", "/v3/registered_limits/"+coresID, sys, nil)
	lim := ids(tc.must(200, "GET", "/v3/limits", sys, nil), "limits")
	tc.must(204, "DELETE", "/v3/limits/"+lim[0], sys, nil)
	tc.must(403, "DELETE", "/v3/registered_limits/"+coresID, member, nil)
	tc.must(204, "DELETE", "/v3/registered_limits/"+coresID, sys, nil)
	tc.must(404, "DELETE", "/v3/registered_limits/"+coresID, sys, nil)
}

func TestLimits(t *testing.T) {
	tc := newTestCloud(t)
	sys := tc.systemToken()
	ctx := context.Background()
	compute := tc.newService("compute")
	tc.must(201, "POST", "/v3/registered_limits", sys, map[string]any{"registered_limits": []any{
		map[string]any{"service_id": compute, "resource_name": "cores", "default_limit": 10.0},
		map[string]any{"service_id": compute, "resource_name": "cores", "region_id": "RegionOne", "default_limit": 8.0},
		map[string]any{"service_id": compute, "resource_name": "instances", "default_limit": 4.0},
	}})
	out := tc.must(201, "POST", "/v3/projects", tc.adminToken, map[string]any{"project": map[string]any{"name": "p2", "domain_id": "default"}})
	p2 := str(out, "project", "id")

	lim := func(kv ...any) map[string]any {
		m := map[string]any{"project_id": tc.adminProj, "service_id": compute, "resource_name": "cores", "resource_limit": 20.0}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return map[string]any{"limits": []any{m}}
	}
	tc.must(403, "POST", "/v3/limits", tc.adminToken, lim())
	out = tc.must(201, "POST", "/v3/limits", sys, lim())
	l := out["limits"].([]any)[0].(map[string]any)
	if l["project_id"] != tc.adminProj || l["domain_id"] != nil || l["resource_limit"] != 20.0 || l["region_id"] != nil {
		t.Fatalf("created limit: %v", l)
	}
	adminLimit := l["id"].(string)
	tc.must(201, "POST", "/v3/limits", sys, lim("project_id", p2, "region_id", "RegionOne", "resource_limit", 2.0))
	// A project id naming a domain makes a domain limit.
	out = tc.must(201, "POST", "/v3/limits", sys, lim("project_id", "default", "resource_name", "instances"))
	if l := out["limits"].([]any)[0].(map[string]any); l["domain_id"] != "default" || l["project_id"] != nil {
		t.Fatalf("domain limit: %v", l)
	}

	for _, tt := range []struct {
		name string
		body any
		want int
	}{
		{"duplicate", lim(), 409},
		{"no registered limit", lim("resource_name", "gpus"), 403},
		{"no registered limit in region", lim("resource_name", "instances", "region_id", "RegionOne", "project_id", p2), 403},
		{"project and domain", lim("domain_id", "default"), 400},
		{"neither project nor domain", lim("project_id", nil), 400},
		{"unknown project", lim("project_id", "nope"), 400},
		{"unknown domain", lim("project_id", nil, "domain_id", "nope"), 400},
		{"unknown service", lim("service_id", "nope"), 400},
		{"unknown region", lim("region_id", "Atlantis"), 400},
		{"bad limit", lim("resource_limit", "many"), 400},
		{"extra property", lim("color", "blue"), 400},
		{"empty", map[string]any{"limits": []any{}}, 400},
	} {
		if status, body, _ := tc.do("POST", "/v3/limits", sys, tt.body); status != tt.want {
			t.Errorf("%s: status %d, want %d: %v", tt.name, status, tt.want, body)
		}
	}

	// The list depends on the caller's scope.
	if got := ids(tc.must(200, "GET", "/v3/limits", sys, nil), "limits"); len(got) != 3 {
		t.Fatalf("system list: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v3/limits?project_id="+p2, sys, nil), "limits"); len(got) != 1 {
		t.Fatalf("system list of p2: %v", got)
	}
	member := tc.memberToken() // member on the admin project
	if got := ids(tc.must(200, "GET", "/v3/limits", member, nil), "limits"); len(got) != 1 || got[0] != adminLimit {
		t.Fatalf("project list: %v", got)
	}
	tc.must(200, "GET", "/v3/limits/"+adminLimit, member, nil)
	p2Limits := ids(tc.must(200, "GET", "/v3/limits?project_id="+p2, sys, nil), "limits")
	tc.must(403, "GET", "/v3/limits/"+p2Limits[0], member, nil)
	tc.must(404, "GET", "/v3/limits/nope", sys, nil)
	model := tc.must(200, "GET", "/v3/limits/model", member, nil)
	if str(model, "model", "name") != "flat" {
		t.Fatalf("model: %v", model)
	}

	out = tc.must(200, "PATCH", "/v3/limits/"+adminLimit, sys, map[string]any{"limit": map[string]any{"resource_limit": 0.0, "description": "none"}})
	if l := out["limit"].(map[string]any); l["resource_limit"] != 0.0 || l["description"] != "none" {
		t.Fatalf("updated limit: %v", l)
	}
	tc.must(400, "PATCH", "/v3/limits/"+adminLimit, sys, map[string]any{"limit": map[string]any{"resource_name": "ram"}})
	tc.must(403, "PATCH", "/v3/limits/"+adminLimit, member, map[string]any{"limit": map[string]any{"resource_limit": 1.0}})
	tc.must(404, "PATCH", "/v3/limits/nope", sys, map[string]any{"limit": map[string]any{"resource_limit": 1.0}})

	// ProjectLimit: the project's own limit, else the registered default,
	// preferring the region's registration.
	for _, tt := range []struct {
		project, region, resource string
		want                      int64
		ok                        bool
	}{
		{tc.adminProj, "", "cores", 0, true},
		{tc.adminProj, "RegionOne", "cores", 8, true},
		{p2, "RegionOne", "cores", 2, true},
		{p2, "", "cores", 10, true},
		{p2, "RegionTwo", "cores", 10, true},
		{p2, "RegionOne", "instances", 4, true},
		{p2, "", "gpus", 0, false},
	} {
		got, ok, err := tc.svc.ProjectLimit(ctx, tt.project, "compute", tt.region, tt.resource)
		if err != nil || got != tt.want || ok != tt.ok {
			t.Errorf("ProjectLimit(%s, %q, %s) = %d, %v, %v; want %d, %v", tt.project, tt.region, tt.resource, got, ok, err, tt.want, tt.ok)
		}
	}
	if _, ok, _ := tc.svc.ProjectLimit(ctx, p2, "image", "", "cores"); ok {
		t.Errorf("ProjectLimit of another service type found a limit")
	}

	tc.must(204, "DELETE", "/v3/limits/"+adminLimit, sys, nil)
	tc.must(404, "DELETE", "/v3/limits/"+adminLimit, sys, nil)
	if got, _, _ := tc.svc.ProjectLimit(ctx, tc.adminProj, "compute", "", "cores"); got != 10 {
		t.Errorf("after delete, limit %d, want the default 10", got)
	}
}
