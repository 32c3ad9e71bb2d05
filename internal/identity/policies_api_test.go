package identity

import (
	"slices"
	"sort"
	"testing"
)

func TestPolicyBlobs(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken
	out := tc.must(201, "POST", "/v3/policies", tok, map[string]any{"policy": map[string]any{"blob": `{"a": "rule:b"}`, "type": "application/json", "owner": "nova"}})
	p := out["policy"].(map[string]any)
	id := p["id"].(string)
	if p["blob"] != `{"a": "rule:b"}` || p["type"] != "application/json" || p["owner"] != "nova" || str(out, "policy", "links", "self") == "" {
		t.Fatalf("created policy: %v", p)
	}
	tc.must(201, "POST", "/v3/policies", tok, map[string]any{"policy": map[string]any{"blob": "x", "type": "text/plain"}})

	for _, tt := range []struct {
		name string
		body any
	}{
		{"no blob", map[string]any{"policy": map[string]any{"type": "t"}}},
		{"no type", map[string]any{"policy": map[string]any{"blob": "b"}}},
		{"blob not a string", map[string]any{"policy": map[string]any{"blob": map[string]any{}, "type": "t"}}},
		{"no policy object", map[string]any{"blob": "b", "type": "t"}},
	} {
		if status, body, _ := tc.do("POST", "/v3/policies", tok, tt.body); status != 400 {
			t.Errorf("%s: status %d, want 400: %v", tt.name, status, body)
		}
	}

	if got := ids(tc.must(200, "GET", "/v3/policies?type=application/json", tok, nil), "policies"); !slices.Equal(got, []string{id}) {
		t.Fatalf("policies of type: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v3/policies", tok, nil), "policies"); len(got) != 2 {
		t.Fatalf("policies: %v", got)
	}
	out = tc.must(200, "PATCH", "/v3/policies/"+id, tok, map[string]any{"policy": map[string]any{"type": "text/yaml"}})
	if str(out, "policy", "type") != "text/yaml" || str(out, "policy", "blob") != `{"a": "rule:b"}` {
		t.Fatalf("updated: %v", out)
	}
	tc.must(400, "PATCH", "/v3/policies/"+id, tok, map[string]any{"policy": map[string]any{}})
	tc.must(400, "PATCH", "/v3/policies/"+id, tok, map[string]any{"policy": map[string]any{"id": "other"}})
	tc.must(404, "PATCH", "/v3/policies/nope", tok, map[string]any{"policy": map[string]any{"type": "t"}})
	if got := tc.must(200, "GET", "/v3/policies/"+id, tok, nil); str(got, "policy", "type") != "text/yaml" {
		t.Fatalf("shown: %v", got)
	}

	member := tc.memberToken()
	for _, tt := range []struct{ method, path string }{
		{"GET", "/v3/policies"}, {"GET", "/v3/policies/" + id}, {"POST", "/v3/policies"},
		{"PATCH", "/v3/policies/" + id}, {"DELETE", "/v3/policies/" + id},
	} {
		if status, body, _ := tc.do(tt.method, tt.path, member, map[string]any{"policy": map[string]any{"blob": "b", "type": "t"}}); status != 403 {
			t.Errorf("member %s %s: %d, want 403: %v", tt.method, tt.path, status, body)
		}
	}

	tc.must(204, "DELETE", "/v3/policies/"+id, tok, nil)
	tc.must(404, "GET", "/v3/policies/"+id, tok, nil)
	tc.must(404, "DELETE", "/v3/policies/"+id, tok, nil)
}

func TestEndpointPolicy(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken
	newPolicy := func() string {
		return str(tc.must(201, "POST", "/v3/policies", tok, map[string]any{"policy": map[string]any{"blob": "{}", "type": "application/json"}}), "policy", "id")
	}
	pEndpoint, pRegion, pService := newPolicy(), newPolicy(), newPolicy()
	svc := tc.newService("compute")
	tc.must(201, "PUT", "/v3/regions/Child", tok, map[string]any{"region": map[string]any{"parent_region_id": "RegionOne"}})
	e1 := tc.newEndpoint(svc, "public", "Child")
	e2 := tc.newEndpoint(svc, "internal", "")
	e3 := tc.newEndpoint(svc, "admin", "RegionOne")
	policyOf := func(ep string) string {
		status, body, _ := tc.do("GET", "/v3/endpoints/"+ep+"/OS-ENDPOINT-POLICY/policy", tok, nil)
		if status == 404 {
			return ""
		}
		return str(body, "policy", "id")
	}
	if got := policyOf(e1); got != "" {
		t.Fatalf("policy before any association: %q", got)
	}

	base := "/v3/policies/"
	tc.must(204, "PUT", base+pService+"/OS-ENDPOINT-POLICY/services/"+svc, tok, nil)
	tc.must(204, "PUT", base+pRegion+"/OS-ENDPOINT-POLICY/services/"+svc+"/regions/RegionOne", tok, nil)
	tc.must(204, "PUT", base+pEndpoint+"/OS-ENDPOINT-POLICY/endpoints/"+e1, tok, nil)
	tc.must(404, "PUT", base+pEndpoint+"/OS-ENDPOINT-POLICY/endpoints/nope", tok, nil)
	tc.must(404, "PUT", base+"nope/OS-ENDPOINT-POLICY/services/"+svc, tok, nil)
	tc.must(404, "PUT", base+pRegion+"/OS-ENDPOINT-POLICY/services/"+svc+"/regions/Atlantis", tok, nil)
	tc.must(204, "HEAD", base+pService+"/OS-ENDPOINT-POLICY/services/"+svc, tok, nil)
	tc.must(404, "GET", base+pEndpoint+"/OS-ENDPOINT-POLICY/services/"+svc, tok, nil)

	// Endpoint first, then service in the region or a region above, then
	// the service.
	for ep, want := range map[string]string{e1: pEndpoint, e2: pService, e3: pRegion} {
		if got := policyOf(ep); got != want {
			t.Errorf("policy of %s: %s, want %s", ep, got, want)
		}
	}
	tc.must(204, "DELETE", base+pEndpoint+"/OS-ENDPOINT-POLICY/endpoints/"+e1, tok, nil)
	if got := policyOf(e1); got != pRegion {
		t.Errorf("policy of e1 (region Child below RegionOne): %s, want %s", got, pRegion)
	}

	all := []string{e1, e2, e3}
	sort.Strings(all)
	for p, want := range map[string][]string{pService: all, pRegion: sorted(e1, e3), pEndpoint: {}} {
		if got := ids(tc.must(200, "GET", base+p+"/OS-ENDPOINT-POLICY/endpoints", tok, nil), "endpoints"); !slices.Equal(got, want) {
			t.Errorf("endpoints of %s: %v, want %v", p, got, want)
		}
	}

	// Deleting the service drops its associations.
	tc.must(204, "DELETE", "/v3/services/"+svc, tok, nil)
	if got := ids(tc.must(200, "GET", base+pService+"/OS-ENDPOINT-POLICY/endpoints", tok, nil), "endpoints"); len(got) != 0 {
		t.Errorf("endpoints of service policy after delete: %v", got)
	}
	member := tc.memberToken()
	tc.must(403, "GET", base+pService+"/OS-ENDPOINT-POLICY/endpoints", member, nil)
}

func sorted(ss ...string) []string {
	sort.Strings(ss)
	return ss
}
