package compute

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flavorIDs returns the ids of a flavor list response.
func flavorIDs(r resp) []string {
	var out []string
	list, _ := r.json["flavors"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestDefaultFlavorsAndFieldSets(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "GET", "/v2.1/flavors", tc.rita, nil)
	if got := flavorIDs(r); !slices.Equal(got, []string{"1", "2", "3", "4", "42", "5", "84"}) {
		t.Fatalf("default flavors by flavorid (a string): %v", got)
	}
	if _, ok := r.json["flavors_links"]; ok {
		t.Fatalf("links without a full page: %s", r.raw)
	}
	for _, c := range []struct {
		mv            string
		basic, detail fieldSet
	}{
		{"2.1", flavorBasic21, flavorDetail21},
		{"2.55", flavorBasic255, flavorDetail255},
		{"2.61", flavorBasic255, flavorDetail261},
		{"2.93", flavorBasic255, flavorDetail261},
	} {
		for _, f := range tc.must(200, "GET", "/v2.1/flavors", tc.alice, nil, "mv", c.mv).json["flavors"].([]any) {
			if p := c.basic.check(f); p != "" {
				t.Errorf("%s list: %s", c.mv, p)
			}
		}
		for _, f := range tc.must(200, "GET", "/v2.1/flavors/detail", tc.alice, nil, "mv", c.mv).json["flavors"].([]any) {
			if p := c.detail.check(f); p != "" {
				t.Errorf("%s detail: %s", c.mv, p)
			}
		}
		if p := c.detail.check(tc.must(200, "GET", "/v2.1/flavors/42", tc.alice, nil, "mv", c.mv).json["flavor"]); p != "" {
			t.Errorf("%s show: %s", c.mv, p)
		}
	}
	nano := tc.must(200, "GET", "/v2.1/flavors/42", tc.alice, nil).json["flavor"].(map[string]any)
	want := map[string]any{"name": "m1.nano", "ram": 128.0, "vcpus": 1.0, "disk": 1.0, "swap": "", "OS-FLV-EXT-DATA:ephemeral": 0.0,
		"OS-FLV-DISABLED:disabled": false, "os-flavor-access:is_public": true, "rxtx_factor": 1.0}
	for k, v := range want {
		if nano[k] != v {
			t.Errorf("m1.nano %s = %v, want %v", k, nano[k], v)
		}
	}
	// 2.75 turns the empty swap into 0; 2.61 adds extra_specs.
	f := tc.must(200, "GET", "/v2.1/flavors/1", tc.alice, nil, "mv", "2.75").json["flavor"].(map[string]any)
	if f["swap"] != 0.0 || f["extra_specs"] == nil || f["description"] != nil {
		t.Fatalf("2.75 flavor: %v", f)
	}
	tc.fault(tc.req("GET", "/v2.1/flavors/nope", tc.alice, nil), 404, "itemNotFound", "Flavor nope could not be found.")
}

func TestFlavorListFiltersSortingAndPages(t *testing.T) {
	tc := newTestCloud(t)
	ids := func(q string, hdr ...string) []string {
		return flavorIDs(tc.must(200, "GET", "/v2.1/flavors"+q, tc.alice, nil, hdr...))
	}
	if got := ids("?minRam=4096"); !slices.Equal(got, []string{"3", "4", "5"}) {
		t.Errorf("minRam: %v", got)
	}
	if got := ids("?minDisk=40&minRam=8192"); !slices.Equal(got, []string{"4", "5"}) {
		t.Errorf("minDisk+minRam: %v", got)
	}
	if got := ids("?sort_key=memory_mb&sort_dir=desc"); !slices.Equal(got, []string{"5", "4", "3", "2", "1", "84", "42"}) {
		t.Errorf("sort by ram desc: %v", got)
	}
	if got := ids("?sort_key=name"); !slices.Equal(got, []string{"4", "3", "84", "42", "2", "1", "5"}) {
		t.Errorf("sort by name: %v", got)
	}
	tc.fault(tc.req("GET", "/v2.1/flavors?minRam=abc", tc.alice, nil), 400, "badRequest", "Invalid minRam filter [abc]")
	tc.fault(tc.req("GET", "/v2.1/flavors?minDisk=1.5", tc.alice, nil), 400, "badRequest", "Invalid minDisk filter [1.5]")
	r := tc.req("GET", "/v2.1/flavors?sort_key=bogus", tc.alice, nil)
	tc.fault(r, 400, "badRequest", "")
	if m := str(r.json, "badRequest", "message"); !strings.HasPrefix(m, "Invalid input for query parameters sort_key. Value: bogus. 'bogus' is not one of ['created_at', ") {
		t.Fatalf("sort_key message: %q", m)
	}
	tc.fault(tc.req("GET", "/v2.1/flavors?limit=-1", tc.alice, nil), 400, "badRequest",
		"Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'")
	tc.fault(tc.req("GET", "/v2.1/flavors?marker=nope", tc.alice, nil), 400, "badRequest", "marker [nope] not found")
	// Unknown query parameters: ignored before 2.75, refused from it.
	tc.must(200, "GET", "/v2.1/flavors?foo=bar", tc.alice, nil, "mv", "2.74")
	tc.fault(tc.req("GET", "/v2.1/flavors?foo=bar", tc.alice, nil, "mv", "2.75"), 400, "badRequest",
		"Additional properties are not allowed ('foo' was unexpected)")

	// Pages of 3 through the next links, detail view, project id kept.
	var all []string
	next := "/v2.1/" + tc.projA + "/flavors/detail?limit=3&minRam=100"
	for i := 0; i < 10 && next != ""; i++ {
		r := tc.must(200, "GET", next, tc.alice, nil)
		all = append(all, flavorIDs(r)...)
		next = ""
		if links, ok := r.json["flavors_links"].([]any); ok {
			l := links[0].(map[string]any)
			href := l["href"].(string)
			if l["rel"] != "next" || !strings.HasPrefix(href, tc.srv.URL+"/v2.1/"+tc.projA+"/flavors/detail?") {
				t.Fatalf("next link %v", l)
			}
			u, _ := url.Parse(href)
			if u.Query().Get("limit") != "3" || u.Query().Get("minRam") != "100" {
				t.Fatalf("next link lost the query: %s", href)
			}
			next = strings.TrimPrefix(href, tc.srv.URL)
		}
	}
	if !slices.Equal(all, []string{"1", "2", "3", "4", "42", "5", "84"}) {
		t.Fatalf("paged: %v", all)
	}
}

func TestFlavorCreateUpdateDelete(t *testing.T) {
	tc := newTestCloud(t)
	body := func(extra map[string]any) map[string]any {
		f := map[string]any{"name": "k1.test", "ram": 256, "vcpus": 2, "disk": 3}
		for k, v := range extra {
			f[k] = v
		}
		return map[string]any{"flavor": f}
	}
	// Create answers 200 with the detail view (Tempest: status 200).
	r := tc.must(200, "POST", "/v2.1/flavors", tc.admin, body(map[string]any{"id": 10, "swap": "512", "rxtx_factor": 2.5,
		"OS-FLV-EXT-DATA:ephemeral": 4, "os-flavor-access:is_public": "false"}))
	f := r.json["flavor"].(map[string]any)
	if p := flavorDetail21.check(f); p != "" || f["id"] != "10" || f["swap"] != 512.0 || f["rxtx_factor"] != 2.5 ||
		f["OS-FLV-EXT-DATA:ephemeral"] != 4.0 || f["os-flavor-access:is_public"] != false || f["ram"] != 256.0 {
		t.Fatalf("created: %s %v", p, f)
	}
	r = tc.must(200, "POST", "/v2.1/flavors", tc.admin, body(map[string]any{"name": "k2", "description": "small one"}), "mv", "2.55")
	f = r.json["flavor"].(map[string]any)
	uuid := f["id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(uuid) ||
		f["description"] != "small one" || flavorDetail255.check(f) != "" {
		t.Fatalf("auto id / description: %v", f)
	}
	r = tc.must(200, "POST", "/v2.1/flavors", tc.admin, body(map[string]any{"name": "k3", "id": "my flavor.1"}), "mv", "2.61")
	if f = r.json["flavor"].(map[string]any); f["id"] != "my flavor.1" || len(f["extra_specs"].(map[string]any)) != 0 {
		t.Fatalf("string id / extra_specs: %v", f)
	}
	tc.fault(tc.req("POST", "/v2.1/flavors", tc.admin, body(map[string]any{"id": "x1"})), 409, "conflictingRequest", "Flavor with name k1.test already exists.")
	tc.fault(tc.req("POST", "/v2.1/flavors", tc.admin, body(map[string]any{"name": "other", "id": "1"})), 409, "conflictingRequest", "Flavor with ID 1 already exists.")

	// Description update (2.55) and delete.
	r = tc.must(200, "PUT", "/v2.1/flavors/10", tc.admin, map[string]any{"flavor": map[string]any{"description": "now described"}}, "mv", "2.55")
	if str(r.json, "flavor", "description") != "now described" {
		t.Fatalf("update: %s", r.raw)
	}
	if str(tc.must(200, "GET", "/v2.1/flavors/10", tc.admin, nil, "mv", "2.55").json, "flavor", "description") != "now described" {
		t.Fatal("description not stored")
	}
	tc.fault(tc.req("PUT", "/v2.1/flavors/10", tc.alice, map[string]any{"flavor": map[string]any{"description": "x"}}, "mv", "2.55"),
		403, "forbidden", "Policy doesn't allow os_compute_api:os-flavor-manage:update to be performed.")
	tc.fault(tc.req("DELETE", "/v2.1/flavors/10", tc.alice, nil), 403, "forbidden", "")
	tc.must(202, "DELETE", "/v2.1/flavors/10", tc.admin, nil)
	tc.fault(tc.req("GET", "/v2.1/flavors/10", tc.admin, nil), 404, "itemNotFound", "Flavor 10 could not be found.")
	tc.fault(tc.req("DELETE", "/v2.1/flavors/10", tc.admin, nil), 404, "itemNotFound", "Flavor 10 could not be found.")
}

func TestFlavorCreateBadInput(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		body any
		mv   string
		msg  string
	}{
		{map[string]any{}, "2.1", "'flavor' is a required property"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1}}, "2.1",
			"Invalid input for field/attribute flavor. Value: {'name': 'a', 'ram': 1, 'vcpus': 1}. 'disk' is a required property"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 0, "vcpus": 1, "disk": 0}}, "2.1",
			"Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": "ten", "vcpus": 1, "disk": 0}}, "2.1",
			"Invalid input for field/attribute ram. Value: ten. 'ten' does not match '^[0-9]+$'"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1.5, "disk": 0}}, "2.1",
			"Invalid input for field/attribute vcpus. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 2147483648}}, "2.1",
			"Invalid input for field/attribute disk. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"},
		{map[string]any{"flavor": map[string]any{"name": " a", "ram": 1, "vcpus": 1, "disk": 0}}, "2.1",
			"An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0}}, "2.1",
			"Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less than or equal to the minimum of 0"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 0, "id": " x"}}, "2.1",
			"Invalid input for field/attribute id. Value:  x. ' x' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "maybe"}}, "2.1",
			"Invalid input for field/attribute os-flavor-access:is_public. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
		// description exists only from 2.55.
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 0, "description": "d"}}, "2.54",
			"Invalid input for field/attribute flavor. Value: {'description': 'd', 'disk': 0, 'name': 'a', 'ram': 1, 'vcpus': 1}. Additional properties are not allowed ('description' was unexpected)"},
		{map[string]any{"flavor": map[string]any{"name": "a", "ram": 1, "vcpus": 1, "disk": 0}, "extra": 1}, "2.1",
			"Additional properties are not allowed ('extra' was unexpected)"},
	} {
		r := tc.req("POST", "/v2.1/flavors", tc.admin, c.body, "mv", c.mv)
		tc.fault(r, 400, "badRequest", c.msg)
	}
	tc.fault(tc.req("PUT", "/v2.1/flavors/1", tc.admin, map[string]any{"flavor": map[string]any{}}, "mv", "2.55"), 400, "badRequest",
		"Invalid input for field/attribute flavor. Value: {}. 'description' is a required property")
	// Validation comes before the rule, as in Nova.
	tc.fault(tc.req("POST", "/v2.1/flavors", tc.alice, map[string]any{}), 400, "badRequest", "'flavor' is a required property")
}

func TestPrivateFlavorVisibility(t *testing.T) {
	tc := newTestCloud(t)
	tc.must(200, "POST", "/v2.1/flavors", tc.admin, map[string]any{"flavor": map[string]any{
		"name": "private.a", "id": "pa", "ram": 64, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": false}})
	tc.must(200, "POST", "/v2.1/flavors/pa/action", tc.admin, map[string]any{"addTenantAccess": map[string]any{"tenant": tc.projA}})

	has := func(token, q string) bool {
		return slices.Contains(flavorIDs(tc.must(200, "GET", "/v2.1/flavors/detail"+q, token, nil)), "pa")
	}
	if !has(tc.alice, "") || !has(tc.rita, "") || has(tc.bob, "") {
		t.Fatal("private flavor: project A must see it, project B must not")
	}
	tc.must(200, "GET", "/v2.1/flavors/pa", tc.alice, nil)
	tc.fault(tc.req("GET", "/v2.1/flavors/pa", tc.bob, nil), 404, "itemNotFound", "Flavor pa could not be found.")
	// A non-admin's is_public is ignored; an admin's chooses.
	if has(tc.bob, "?is_public=none") || has(tc.admin, "") || !has(tc.admin, "?is_public=false") || !has(tc.admin, "?is_public=None") {
		t.Fatal("is_public filter")
	}
	if got := flavorIDs(tc.must(200, "GET", "/v2.1/flavors?is_public=false", tc.admin, nil)); !slices.Equal(got, []string{"pa"}) {
		t.Fatalf("admin is_public=false: %v", got)
	}
	tc.fault(tc.req("GET", "/v2.1/flavors?is_public=perhaps", tc.admin, nil), 400, "badRequest", "Invalid is_public filter [perhaps]")
	// A marker bob cannot see is not found for him.
	tc.fault(tc.req("GET", "/v2.1/flavors?marker=pa", tc.bob, nil), 400, "badRequest", "marker [pa] not found")
}

func TestEnsureDefaultFlavorsOnce(t *testing.T) {
	tc := newTestCloud(t)
	created, err := EnsureDefaultFlavors(t.Context(), tc.db)
	if err != nil || len(created) != 0 {
		t.Fatalf("second run created %v (%v)", created, err)
	}
	for _, id := range []string{"1", "2", "3", "4", "42", "5", "84"} {
		tc.must(202, "DELETE", "/v2.1/flavors/"+id, tc.admin, nil)
	}
	// A restart on the same database does not bring them back...
	if _, err := New(t.Context(), Config{DataDir: tc.dir}, tc.db, tc.id, nil); err != nil {
		t.Fatal(err)
	}
	if got := flavorIDs(tc.must(200, "GET", "/v2.1/flavors", tc.admin, nil)); len(got) != 0 {
		t.Fatalf("restart recreated %v", got)
	}
	// ...EnsureDefaultFlavors on an empty table does.
	created, err = EnsureDefaultFlavors(t.Context(), tc.db)
	if err != nil || len(created) != 7 {
		t.Fatalf("empty table: created %v (%v)", created, err)
	}
}

// Paging with any sort key and direction walks the same list as one page:
// the marker test matches the ORDER BY, NULL descriptions included.
func TestFlavorPagingEverySortKey(t *testing.T) {
	tc := newTestCloud(t)
	tc.must(200, "POST", "/v2.1/flavors", tc.admin, map[string]any{"flavor": map[string]any{
		"name": "described", "id": "d1", "ram": 128, "vcpus": 1, "disk": 1, "description": "b", "os-flavor-access:is_public": false}}, "mv", "2.55")
	tc.must(200, "POST", "/v2.1/flavors", tc.admin, map[string]any{"flavor": map[string]any{
		"name": "described2", "id": "d2", "ram": 128, "vcpus": 1, "disk": 1, "description": "a"}}, "mv", "2.55")
	for _, key := range flavorSortKeys {
		for _, dir := range []string{"asc", "desc"} {
			q := "?is_public=none&sort_key=" + key.(string) + "&sort_dir=" + dir
			whole := flavorIDs(tc.must(200, "GET", "/v2.1/flavors"+q, tc.admin, nil))
			var paged []string
			next := "/v2.1/flavors" + q + "&limit=2"
			for i := 0; i < 20 && next != ""; i++ {
				r := tc.must(200, "GET", next, tc.admin, nil)
				paged = append(paged, flavorIDs(r)...)
				next = ""
				if links, ok := r.json["flavors_links"].([]any); ok {
					next = strings.TrimPrefix(links[0].(map[string]any)["href"].(string), tc.srv.URL)
				}
			}
			if len(whole) != 9 || !slices.Equal(whole, paged) {
				t.Errorf("%s %s: whole %v, paged %v", key, dir, whole, paged)
			}
		}
	}
}
