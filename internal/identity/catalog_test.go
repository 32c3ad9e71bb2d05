package identity

import (
	"net/http"
	"slices"
	"sort"
	"testing"
)

// ids returns the "id" of every object of the list under key.
func ids(m map[string]any, key string) []string {
	out := []string{}
	list, _ := m[key].([]any)
	for _, v := range list {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o["id"].(string))
		}
	}
	sort.Strings(out)
	return out
}

func (tc *testCloud) newService(typ string) string {
	tc.t.Helper()
	out := tc.must(201, "POST", "/v3/services", tc.adminToken, map[string]any{"service": map[string]any{"type": typ, "name": typ + "-svc"}})
	return str(out, "service", "id")
}

func (tc *testCloud) newEndpoint(service, iface, region string) string {
	tc.t.Helper()
	ep := map[string]any{"service_id": service, "interface": iface, "url": "http://" + iface + ".example.com/v1"}
	if region != "" {
		ep["region_id"] = region
	}
	out := tc.must(201, "POST", "/v3/endpoints", tc.adminToken, map[string]any{"endpoint": ep})
	return str(out, "endpoint", "id")
}

func TestRegions(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken

	// Client-chosen ids, by POST or PUT; generated ones otherwise.
	out := tc.must(201, "POST", "/v3/regions", tok, map[string]any{"region": map[string]any{"id": "Earth", "description": "home", "color": "blue"}})
	if r := out["region"].(map[string]any); r["id"] != "Earth" || r["description"] != "home" || r["parent_region_id"] != nil || r["color"] != "blue" {
		t.Fatalf("created region: %v", r)
	}
	tc.must(201, "PUT", "/v3/regions/Europe", tok, map[string]any{"region": map[string]any{"parent_region_id": "Earth"}})
	out = tc.must(201, "POST", "/v3/regions", tok, map[string]any{"region": map[string]any{}})
	generated := str(out, "region", "id")
	if len(generated) != 32 || str(out, "region", "description") != "" {
		t.Fatalf("generated region: %v", out)
	}
	tc.must(201, "POST", "/v3/regions", tok, map[string]any{"region": map[string]any{"id": "Paris", "parent_region_id": "Europe"}})

	for _, tt := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"duplicate id", "POST", "/v3/regions", map[string]any{"region": map[string]any{"id": "Earth"}}, 409},
		{"duplicate put", "PUT", "/v3/regions/Earth", map[string]any{"region": map[string]any{}}, 409},
		{"conflicting ids", "PUT", "/v3/regions/Mars", map[string]any{"region": map[string]any{"id": "Venus"}}, 400},
		{"unknown parent", "POST", "/v3/regions", map[string]any{"region": map[string]any{"parent_region_id": "Atlantis"}}, 404},
		{"no region object", "POST", "/v3/regions", map[string]any{"regions": map[string]any{}}, 400},
		{"description not a string", "POST", "/v3/regions", map[string]any{"region": map[string]any{"description": 3}}, 400},
		{"empty update", "PATCH", "/v3/regions/Earth", map[string]any{"region": map[string]any{}}, 400},
		{"change id", "PATCH", "/v3/regions/Earth", map[string]any{"region": map[string]any{"id": "Moon"}}, 400},
		{"update unknown parent", "PATCH", "/v3/regions/Paris", map[string]any{"region": map[string]any{"parent_region_id": "Atlantis"}}, 404},
		{"self parent", "PATCH", "/v3/regions/Earth", map[string]any{"region": map[string]any{"parent_region_id": "Earth"}}, 400},
		{"cycle", "PATCH", "/v3/regions/Earth", map[string]any{"region": map[string]any{"parent_region_id": "Paris"}}, 400},
		{"update missing", "PATCH", "/v3/regions/Atlantis", map[string]any{"region": map[string]any{"description": "x"}}, 404},
		{"get missing", "GET", "/v3/regions/Atlantis", nil, 404},
		{"delete missing", "DELETE", "/v3/regions/Atlantis", nil, 404},
	} {
		if status, body, _ := tc.do(tt.method, tt.path, tok, tt.body); status != tt.want {
			t.Errorf("%s: status %d, want %d: %v", tt.name, status, tt.want, body)
		}
	}

	// The list (filtered by parent) shows exactly what create returned.
	created := tc.must(201, "POST", "/v3/regions", tok, map[string]any{"region": map[string]any{"id": "Lyon", "parent_region_id": "Europe"}})
	list := tc.must(200, "GET", "/v3/regions?parent_region_id=Europe", tok, nil)
	if got := ids(list, "regions"); !slices.Equal(got, []string{"Lyon", "Paris"}) {
		t.Fatalf("children of Europe: %v", got)
	}
	for _, r := range list["regions"].([]any) {
		if r.(map[string]any)["id"] == "Lyon" && str(r.(map[string]any), "links", "self") != str(created, "region", "links", "self") {
			t.Errorf("list entry %v differs from created %v", r, created["region"])
		}
	}
	out = tc.must(200, "PATCH", "/v3/regions/Lyon", tok, map[string]any{"region": map[string]any{"description": "gones", "parent_region_id": "Earth"}})
	if str(out, "region", "parent_region_id") != "Earth" || str(out, "region", "description") != "gones" {
		t.Fatalf("updated region: %v", out)
	}

	// A region with endpoints below it stays; without, its subtree goes.
	svc := tc.newService("compute")
	ep := tc.newEndpoint(svc, "public", "Paris")
	if status, body, _ := tc.do("DELETE", "/v3/regions/Europe", tok, nil); status != 403 {
		t.Fatalf("delete region with endpoint below: %d %v", status, body)
	}
	tc.must(204, "DELETE", "/v3/endpoints/"+ep, tok, nil)
	tc.must(204, "DELETE", "/v3/regions/Europe", tok, nil)
	tc.must(404, "GET", "/v3/regions/Paris", tok, nil)
	tc.must(200, "GET", "/v3/regions/Lyon", tok, nil)
	tc.must(200, "GET", "/v3/regions/"+generated, tok, nil)
}

func TestServices(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken
	out := tc.must(201, "POST", "/v3/services", tok, map[string]any{"service": map[string]any{"type": "volumev3", "description": "blocks", "x": 1}})
	sv := out["service"].(map[string]any)
	if sv["type"] != "volumev3" || sv["name"] != "" || sv["enabled"] != true || sv["description"] != "blocks" || sv["x"] != 1.0 {
		t.Fatalf("created service: %v", sv)
	}
	id := sv["id"].(string)
	tc.must(201, "POST", "/v3/services", tok, map[string]any{"service": map[string]any{"type": "image", "name": "glance"}})

	for _, tt := range []struct {
		name string
		body any
	}{
		{"no type", map[string]any{"service": map[string]any{"name": "x"}}},
		{"empty type", map[string]any{"service": map[string]any{"type": ""}}},
		{"blank name", map[string]any{"service": map[string]any{"type": "t", "name": "  "}}},
		{"string enabled", map[string]any{"service": map[string]any{"type": "t", "enabled": "True"}}},
	} {
		if status, body, _ := tc.do("POST", "/v3/services", tok, tt.body); status != 400 {
			t.Errorf("%s: status %d, want 400: %v", tt.name, status, body)
		}
	}
	tc.must(400, "PATCH", "/v3/services/"+id, tok, map[string]any{"service": map[string]any{}})
	tc.must(400, "PATCH", "/v3/services/"+id, tok, map[string]any{"service": map[string]any{"id": "other"}})
	tc.must(404, "PATCH", "/v3/services/nope", tok, map[string]any{"service": map[string]any{"name": "x"}})

	if got := ids(tc.must(200, "GET", "/v3/services?type=volumev3", tok, nil), "services"); !slices.Equal(got, []string{id}) {
		t.Fatalf("services of type volumev3: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v3/services?name=glance", tok, nil), "services"); len(got) != 1 {
		t.Fatalf("services named glance: %v", got)
	}
	out = tc.must(200, "PATCH", "/v3/services/"+id, tok, map[string]any{"service": map[string]any{"name": "cinder", "enabled": false}})
	if str(out, "service", "name") != "cinder" || out["service"].(map[string]any)["enabled"] != false || str(out, "service", "description") != "blocks" {
		t.Fatalf("updated service: %v", out)
	}
	got := tc.must(200, "GET", "/v3/services/"+id, tok, nil)
	if str(got, "service", "name") != "cinder" {
		t.Fatalf("shown service: %v", got)
	}

	// Deleting a service deletes its endpoints.
	ep := tc.newEndpoint(id, "internal", "")
	tc.must(204, "DELETE", "/v3/services/"+id, tok, nil)
	tc.must(404, "GET", "/v3/services/"+id, tok, nil)
	tc.must(404, "GET", "/v3/endpoints/"+ep, tok, nil)
	tc.must(404, "DELETE", "/v3/services/"+id, tok, nil)
}

func TestEndpoints(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken
	svc := tc.newService("compute")
	svc2 := tc.newService("network")
	tc.must(201, "POST", "/v3/regions", tok, map[string]any{"region": map[string]any{"id": "North"}})

	ep := func(kv ...any) map[string]any {
		m := map[string]any{"service_id": svc, "interface": "public", "url": "http://compute.example.com:8774/v2.1"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return map[string]any{"endpoint": m}
	}
	for _, tt := range []struct {
		name string
		body any
	}{
		{"unknown service", ep("service_id", "nope")},
		{"no service", ep("service_id", nil)},
		{"bad interface", ep("interface", "private")},
		{"no interface", ep("interface", nil)},
		{"no url", ep("url", nil)},
		{"url without scheme", ep("url", "compute.example.com")},
		{"unknown substitution", ep("url", "http://x/$(tenant)s")},
		{"positional substitution", ep("url", "http://x/%s")},
		{"unknown region_id", ep("region_id", "South")},
		{"null region_id", ep("region_id", "")},
		{"string enabled True", ep("enabled", "True")},
		{"string enabled False", ep("enabled", "False")},
	} {
		if status, body, _ := tc.do("POST", "/v3/endpoints", tok, tt.body); status != 400 {
			t.Errorf("%s: status %d, want 400: %v", tt.name, status, body)
		}
	}
	// A rejected request with the legacy "region" creates no region.
	tc.must(400, "POST", "/v3/endpoints", tok, ep("region", "Ghost", "enabled", "False"))
	tc.must(404, "GET", "/v3/regions/Ghost", tok, nil)

	out := tc.must(201, "POST", "/v3/endpoints", tok, ep("region_id", "North", "url", "http://c/v2.1/$(project_id)s"))
	e := out["endpoint"].(map[string]any)
	if e["region"] != "North" || e["region_id"] != "North" || e["enabled"] != true || e["service_id"] != svc || e["interface"] != "public" {
		t.Fatalf("created endpoint: %v", e)
	}
	e1 := e["id"].(string)
	// The legacy "region" creates the region when missing.
	out = tc.must(201, "POST", "/v3/endpoints", tok, ep("region", "West", "interface", "internal", "service_id", svc2))
	e2 := str(out, "endpoint", "id")
	if str(out, "endpoint", "region_id") != "West" || str(out, "endpoint", "region") != "West" {
		t.Fatalf("legacy region endpoint: %v", out)
	}
	tc.must(200, "GET", "/v3/regions/West", tok, nil)
	out = tc.must(201, "POST", "/v3/endpoints", tok, ep("interface", "admin"))
	e3 := str(out, "endpoint", "id")
	if r := out["endpoint"].(map[string]any); r["region"] != nil || r["region_id"] != nil {
		t.Fatalf("endpoint without region: %v", r)
	}

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{e1, e2, e3}},
		{"?service_id=" + svc, []string{e1, e3}},
		{"?interface=internal", []string{e2}},
		{"?region_id=North", []string{e1}},
		{"?service_id=" + svc + "&interface=admin", []string{e3}},
	} {
		got := ids(tc.must(200, "GET", "/v3/endpoints"+tt.query, tok, nil), "endpoints")
		// The bootstrap identity endpoints are there too.
		got = slices.DeleteFunc(got, func(id string) bool { return !slices.Contains([]string{e1, e2, e3}, id) })
		want := slices.Clone(tt.want)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("list %q: %v, want %v", tt.query, got, want)
		}
	}

	out = tc.must(200, "PATCH", "/v3/endpoints/"+e1, tok, map[string]any{"endpoint": map[string]any{
		"service_id": svc2, "interface": "internal", "url": "http://new/", "region": "East", "enabled": false}})
	if e := out["endpoint"].(map[string]any); e["service_id"] != svc2 || e["region"] != "East" || e["enabled"] != false || e["url"] != "http://new/" {
		t.Fatalf("updated endpoint: %v", e)
	}
	for _, bad := range []map[string]any{{"enabled": "True"}, {"service_id": "nope"}, {"region_id": "Nowhere"}, {"interface": "x"}, {}} {
		if status, body, _ := tc.do("PATCH", "/v3/endpoints/"+e1, tok, map[string]any{"endpoint": bad}); status != 400 {
			t.Errorf("update %v: status %d, want 400: %v", bad, status, body)
		}
	}
	tc.must(404, "PATCH", "/v3/endpoints/nope", tok, map[string]any{"endpoint": map[string]any{"url": "http://x"}})
	tc.must(200, "GET", "/v3/endpoints/"+e1, tok, nil)
	tc.must(204, "DELETE", "/v3/endpoints/"+e1, tok, nil)
	tc.must(404, "GET", "/v3/endpoints/"+e1, tok, nil)
	tc.must(404, "DELETE", "/v3/endpoints/"+e1, tok, nil)
}

func TestCatalogAdminOnly(t *testing.T) {
	tc := newTestCloud(t)
	member := tc.memberToken()
	svc := tc.newService("compute")
	for _, tt := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/v3/regions", map[string]any{"region": map[string]any{}}, 403},
		{"PUT", "/v3/regions/R", map[string]any{"region": map[string]any{}}, 403},
		{"GET", "/v3/regions", nil, 200}, // regions are public
		{"GET", "/v3/regions/RegionOne", nil, 200},
		{"DELETE", "/v3/regions/RegionOne", nil, 403},
		{"POST", "/v3/services", map[string]any{"service": map[string]any{"type": "x"}}, 403},
		{"GET", "/v3/services", nil, 403},
		{"GET", "/v3/services/" + svc, nil, 403},
		{"DELETE", "/v3/services/" + svc, nil, 403},
		{"POST", "/v3/endpoints", map[string]any{"endpoint": map[string]any{}}, 403},
		{"GET", "/v3/endpoints", nil, 403},
		{"GET", "/v3/OS-EP-FILTER/endpoint_groups", nil, 403},
		{"POST", "/v3/OS-EP-FILTER/endpoint_groups", map[string]any{}, 403},
		{"PUT", "/v3/OS-EP-FILTER/projects/" + tc.adminProj + "/endpoints/x", nil, 403},
		{"GET", "/v3/regions", "", 200},
	} {
		if status, body, _ := tc.do(tt.method, tt.path, member, tt.body); status != tt.want {
			t.Errorf("member %s %s: status %d, want %d: %v", tt.method, tt.path, status, tt.want, body)
		}
	}
	if status, _, _ := tc.do("GET", "/v3/regions", "", nil); status != http.StatusUnauthorized {
		t.Errorf("anonymous list regions: %d, want 401", status)
	}
}

// catalogEndpoints returns the endpoint ids of a token's catalog, by
// service type.
func catalogEndpoints(body map[string]any) map[string][]string {
	out := map[string][]string{}
	tok, _ := body["token"].(map[string]any)
	cat, _ := tok["catalog"].([]any)
	for _, s := range cat {
		sv := s.(map[string]any)
		typ := sv["type"].(string)
		out[typ] = []string{}
		for _, e := range sv["endpoints"].([]any) {
			out[typ] = append(out[typ], e.(map[string]any)["id"].(string))
		}
		sort.Strings(out[typ])
	}
	return out
}

func TestEndpointFilter(t *testing.T) {
	tc := newTestCloud(t)
	tok := tc.adminToken
	compute := tc.newService("compute")
	image := tc.newService("image")
	tc.must(201, "PUT", "/v3/regions/Two", tok, map[string]any{"region": map[string]any{}})
	cPub := tc.newEndpoint(compute, "public", "RegionOne")
	cInt := tc.newEndpoint(compute, "internal", "Two")
	iPub := tc.newEndpoint(image, "public", "RegionOne")
	out := tc.must(201, "POST", "/v3/projects", tok, map[string]any{"project": map[string]any{"name": "filtered", "domain_id": "default"}})
	proj := str(out, "project", "id")
	tc.createUser("dave", "dave-secret", proj)
	scoped := func() map[string][]string {
		_, body := tc.passwordToken("dave", "dave-secret", projectScope(proj))
		return catalogEndpoints(body)
	}
	if cat := scoped(); len(cat["compute"]) != 2 || len(cat["image"]) != 1 || len(cat["identity"]) == 0 {
		t.Fatalf("unfiltered catalog: %v", cat)
	}

	// A direct association: the project sees only that endpoint.
	base := "/v3/OS-EP-FILTER/projects/" + proj + "/endpoints/"
	tc.must(204, "PUT", base+cPub, tok, nil)
	tc.must(409, "PUT", base+cPub, tok, nil)
	tc.must(404, "PUT", base+"nope", tok, nil)
	tc.must(404, "PUT", "/v3/OS-EP-FILTER/projects/nope/endpoints/"+cPub, tok, nil)
	tc.must(204, "HEAD", base+cPub, tok, nil)
	tc.must(204, "GET", base+cPub, tok, nil)
	tc.must(404, "GET", base+cInt, tok, nil)
	if cat := scoped(); len(cat) != 1 || !slices.Equal(cat["compute"], []string{cPub}) {
		t.Fatalf("catalog with one endpoint: %v", cat)
	}
	if got := ids(tc.must(200, "GET", "/v3/OS-EP-FILTER/projects/"+proj+"/endpoints", tok, nil), "endpoints"); !slices.Equal(got, []string{cPub}) {
		t.Fatalf("endpoints of project: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v3/OS-EP-FILTER/endpoints/"+cPub+"/projects", tok, nil), "projects"); !slices.Equal(got, []string{proj}) {
		t.Fatalf("projects of endpoint: %v", got)
	}

	// Endpoint groups: filters are validated.
	eg := "/v3/OS-EP-FILTER/endpoint_groups"
	for _, tt := range []struct {
		name string
		body any
	}{
		{"unknown filter", map[string]any{"endpoint_group": map[string]any{"name": "g", "filters": map[string]any{"url": "x"}}}},
		{"empty filters", map[string]any{"endpoint_group": map[string]any{"name": "g", "filters": map[string]any{}}}},
		{"no filters", map[string]any{"endpoint_group": map[string]any{"name": "g"}}},
		{"no name", map[string]any{"endpoint_group": map[string]any{"filters": map[string]any{"interface": "public"}}}},
		{"filters not an object", map[string]any{"endpoint_group": map[string]any{"name": "g", "filters": "public"}}},
	} {
		if status, body, _ := tc.do("POST", eg, tok, tt.body); status != 400 {
			t.Errorf("%s: status %d, want 400: %v", tt.name, status, body)
		}
	}
	out = tc.must(201, "POST", eg, tok, map[string]any{"endpoint_group": map[string]any{"name": "images", "description": "all image",
		"filters": map[string]any{"service_id": image}}})
	g := str(out, "endpoint_group", "id")
	if str(out, "endpoint_group", "filters", "service_id") != image || str(out, "endpoint_group", "description") != "all image" {
		t.Fatalf("created group: %v", out)
	}
	tc.must(200, "HEAD", eg+"/"+g, tok, nil)
	if got := ids(tc.must(200, "GET", eg+"/"+g+"/endpoints", tok, nil), "endpoints"); !slices.Equal(got, []string{iPub}) {
		t.Fatalf("endpoints of group: %v", got)
	}
	tc.must(400, "PATCH", eg+"/"+g, tok, map[string]any{"endpoint_group": map[string]any{"filters": map[string]any{"enabled": true}}})
	tc.must(400, "PATCH", eg+"/"+g, tok, map[string]any{"endpoint_group": map[string]any{}})
	tc.must(404, "GET", eg+"/nope", tok, nil)

	gp := eg + "/" + g + "/projects/" + proj
	tc.must(404, "GET", gp, tok, nil)
	tc.must(204, "PUT", gp, tok, nil)
	tc.must(409, "PUT", gp, tok, nil)
	out = tc.must(200, "GET", gp, tok, nil)
	if str(out, "project_endpoint_group", "project_id") != proj || str(out, "project_endpoint_group", "endpoint_group_id") != g {
		t.Fatalf("group in project: %v", out)
	}
	if got := ids(tc.must(200, "GET", eg+"/"+g+"/projects", tok, nil), "projects"); !slices.Equal(got, []string{proj}) {
		t.Fatalf("projects of group: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v3/OS-EP-FILTER/projects/"+proj+"/endpoint_groups", tok, nil), "endpoint_groups"); !slices.Equal(got, []string{g}) {
		t.Fatalf("groups of project: %v", got)
	}
	want := []string{cPub, iPub}
	sort.Strings(want)
	if got := ids(tc.must(200, "GET", "/v3/OS-EP-FILTER/projects/"+proj+"/endpoints", tok, nil), "endpoints"); !slices.Equal(got, want) {
		t.Fatalf("endpoints of project with group: %v, want %v", got, want)
	}
	if cat := scoped(); len(cat) != 2 || !slices.Equal(cat["compute"], []string{cPub}) || !slices.Equal(cat["image"], []string{iPub}) {
		t.Fatalf("catalog with group: %v", cat)
	}

	// Repointing the group changes the catalog at once (cPub stays: it is
	// associated directly).
	tc.must(200, "PATCH", eg+"/"+g, tok, map[string]any{"endpoint_group": map[string]any{"filters": map[string]any{"region_id": "Two"}}})
	want = []string{cPub, cInt}
	sort.Strings(want)
	if cat := scoped(); len(cat) != 1 || !slices.Equal(cat["compute"], want) {
		t.Fatalf("catalog after group update: %v", cat)
	}

	// Removing every association restores the full catalog.
	tc.must(204, "DELETE", gp, tok, nil)
	tc.must(404, "DELETE", gp, tok, nil)
	tc.must(204, "DELETE", base+cPub, tok, nil)
	tc.must(404, "DELETE", base+cPub, tok, nil)
	if cat := scoped(); len(cat["compute"]) != 2 || len(cat["image"]) != 1 {
		t.Fatalf("catalog after removals: %v", cat)
	}
	tc.must(204, "DELETE", eg+"/"+g, tok, nil)
	tc.must(404, "DELETE", eg+"/"+g, tok, nil)
	if got := ids(tc.must(200, "GET", eg, tok, nil), "endpoint_groups"); len(got) != 0 {
		t.Fatalf("groups after delete: %v", got)
	}
}
