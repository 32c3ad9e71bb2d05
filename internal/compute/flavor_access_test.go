package compute

import (
	"testing"
)

func TestFlavorAccess(t *testing.T) {
	tc := newTestCloud(t)
	tc.must(200, "POST", "/v2.1/flavors", tc.admin, map[string]any{"flavor": map[string]any{
		"name": "priv", "id": "p1", "ram": 64, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": false}})
	// Tempest flavors_access.py: {"flavor_access": [{"flavor_id", "tenant_id"}]}.
	item := fieldSet{required: []string{"flavor_id", "tenant_id"}}
	r := tc.must(200, "GET", "/v2.1/flavors/p1/os-flavor-access", tc.admin, nil)
	if l := r.json["flavor_access"].([]any); len(l) != 0 || len(r.json) != 1 {
		t.Fatalf("empty access list: %s", r.raw)
	}
	r = tc.must(200, "POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"addTenantAccess": map[string]any{"tenant": tc.projB}})
	l := r.json["flavor_access"].([]any)
	if len(l) != 1 || item.check(l[0]) != "" || str(l[0].(map[string]any), "tenant_id") != tc.projB || str(l[0].(map[string]any), "flavor_id") != "p1" {
		t.Fatalf("add: %s", r.raw)
	}
	tc.must(200, "GET", "/v2.1/flavors/p1", tc.bob, nil)
	tc.fault(tc.req("GET", "/v2.1/flavors/p1", tc.alice, nil), 404, "itemNotFound", "")

	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"addTenantAccess": map[string]any{"tenant": tc.projB}}),
		409, "conflictingRequest", "Flavor access already exists for flavor p1 and project "+tc.projB+" combination.")
	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"addTenantAccess": map[string]any{"tenant": "no-such-project"}}),
		400, "badRequest", "Project ID no-such-project is not a valid project.")
	tc.fault(tc.req("POST", "/v2.1/flavors/1/action", tc.admin, map[string]any{"addTenantAccess": map[string]any{"tenant": tc.projA}}, "mv", "2.7"),
		409, "conflictingRequest", "Can not add access to a public flavor.")
	tc.fault(tc.req("GET", "/v2.1/flavors/1/os-flavor-access", tc.admin, nil), 404, "itemNotFound", "Access list not available for public flavors.")
	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"addTenantAccess": map[string]any{}}), 400, "badRequest",
		"Invalid input for field/attribute addTenantAccess. Value: {}. 'tenant' is a required property")
	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"shareIt": map[string]any{}}), 400, "badRequest",
		"There is no such action: shareIt")

	// Only admins manage access. Listing it is open: Zed's rule is
	// "(rule:context_is_admin) or (rule:admin_or_owner)" against the
	// caller's own project, so anyone who can see the flavor may list.
	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.bob, map[string]any{"addTenantAccess": map[string]any{"tenant": tc.projB}}),
		403, "forbidden", "Policy doesn't allow os_compute_api:os-flavor-access:add_tenant_access to be performed.")
	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.bob, map[string]any{"removeTenantAccess": map[string]any{"tenant": tc.projB}}),
		403, "forbidden", "Policy doesn't allow os_compute_api:os-flavor-access:remove_tenant_access to be performed.")
	tc.must(200, "GET", "/v2.1/flavors/p1/os-flavor-access", tc.bob, nil)
	tc.fault(tc.req("GET", "/v2.1/flavors/p1/os-flavor-access", tc.alice, nil), 404, "itemNotFound", "Flavor p1 could not be found.")

	r = tc.must(200, "POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"removeTenantAccess": map[string]any{"tenant": tc.projB}})
	if l := r.json["flavor_access"].([]any); len(l) != 0 {
		t.Fatalf("remove: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/flavors/p1", tc.bob, nil), 404, "itemNotFound", "Flavor p1 could not be found.")
	tc.fault(tc.req("POST", "/v2.1/flavors/p1/action", tc.admin, map[string]any{"removeTenantAccess": map[string]any{"tenant": tc.projB}}),
		404, "itemNotFound", "Flavor access not found for p1 / "+tc.projB+" combination.")
}

func TestFlavorExtraSpecs(t *testing.T) {
	tc := newTestCloud(t)
	base := "/v2.1/flavors/1/os-extra_specs"
	r := tc.must(200, "POST", base, tc.admin, map[string]any{"extra_specs": map[string]any{"hw:cpu_policy": "shared", "key 2": "v2", "n": 5}})
	if len(r.json["extra_specs"].(map[string]any)) != 3 {
		t.Fatalf("create: %s", r.raw)
	}
	r = tc.must(200, "GET", base, tc.rita, nil)
	specs := r.json["extra_specs"].(map[string]any)
	if specs["hw:cpu_policy"] != "shared" || specs["key 2"] != "v2" || specs["n"] != "5" {
		t.Fatalf("list: %s", r.raw)
	}
	r = tc.must(200, "PUT", base+"/n", tc.admin, map[string]any{"n": "6"})
	if len(r.json) != 1 || r.json["n"] != "6" {
		t.Fatalf("update: %s", r.raw)
	}
	if r := tc.must(200, "GET", base+"/n", tc.alice, nil); len(r.json) != 1 || r.json["n"] != "6" {
		t.Fatalf("show: %s", r.raw)
	}
	// 2.61 puts them in the flavor.
	f := tc.must(200, "GET", "/v2.1/flavors/1", tc.alice, nil, "mv", "2.61").json["flavor"].(map[string]any)
	if es := f["extra_specs"].(map[string]any); len(es) != 3 || es["n"] != "6" {
		t.Fatalf("2.61 flavor: %v", f)
	}
	tc.must(200, "DELETE", base+"/n", tc.admin, nil)
	tc.fault(tc.req("GET", base+"/n", tc.alice, nil), 404, "itemNotFound", "Flavor 1 has no extra specs with key n.")
	tc.fault(tc.req("DELETE", base+"/n", tc.admin, nil), 404, "itemNotFound", "Flavor 1 has no extra specs with key n.")

	tc.fault(tc.req("PUT", base+"/a", tc.admin, map[string]any{"b": "1"}), 400, "badRequest", "Request body and URI mismatch")
	tc.fault(tc.req("PUT", base+"/a", tc.admin, map[string]any{"a": "1", "b": "2"}), 400, "badRequest",
		"{'a': '1', 'b': '2'} has too many properties")
	tc.fault(tc.req("POST", base, tc.admin, map[string]any{"extra_specs": map[string]any{"bad/key": "1"}}), 400, "badRequest",
		"Invalid input for field/attribute extra_specs. Value: {'bad/key': '1'}. Additional properties are not allowed ('bad/key' was unexpected)")
	tc.fault(tc.req("POST", base, tc.admin, map[string]any{"extra_specs": map[string]any{"k": true}}), 400, "badRequest",
		"Invalid input for field/attribute k. Value: True. True is not of type 'string', 'number'")
	tc.fault(tc.req("POST", base, tc.alice, map[string]any{"extra_specs": map[string]any{"k": "v"}}), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed.")
	tc.fault(tc.req("DELETE", base+"/key 2", tc.bob, nil), 403, "forbidden", "")
	tc.fault(tc.req("GET", "/v2.1/flavors/nope/os-extra_specs", tc.alice, nil), 404, "itemNotFound", "Flavor nope could not be found.")
}
