package compute

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var reqIDRe = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestVersionDocuments(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "GET", "/", "", nil)
	vs, _ := r.json["versions"].([]any)
	if len(vs) != 2 || r.header.Get("OpenStack-API-Version") != "" {
		t.Fatalf("GET /: %s %v", r.raw, r.header)
	}
	v21 := vs[1].(map[string]any)
	if v21["id"] != "v2.1" || v21["status"] != "CURRENT" || v21["version"] != "2.93" || v21["min_version"] != "2.1" ||
		str(v21, "links") != "" || v21["links"].([]any)[0].(map[string]any)["href"] != tc.srv.URL+"/v2.1/" {
		t.Fatalf("v2.1 entry: %v", v21)
	}
	if v20 := vs[0].(map[string]any); v20["id"] != "v2.0" || v20["status"] != "SUPPORTED" || v20["version"] != "" {
		t.Fatalf("v2.0 entry: %v", v20)
	}
	// Tempest v2_1/versions.py _version: only these keys.
	versionKeys := fieldSet{required: []string{"id", "links", "status", "updated"}, optional: []string{"version", "min_version", "media-types"}}
	for _, v := range vs {
		if p := versionKeys.check(v); p != "" {
			t.Errorf("GET / entry: %s", p)
		}
	}

	r = tc.must(200, "GET", "/v2.1/", "", nil)
	doc, _ := r.json["version"].(map[string]any)
	if p := versionKeys.check(doc); p != "" || doc["id"] != "v2.1" {
		t.Fatalf("GET /v2.1/: %s %s", p, r.raw)
	}
	links := doc["links"].([]any)
	if links[0].(map[string]any)["href"] != tc.srv.URL+"/v2.1/" || links[1].(map[string]any)["rel"] != "describedby" {
		t.Fatalf("links: %v", links)
	}
	if r.header.Get("OpenStack-API-Version") != "compute 2.1" {
		t.Fatalf("version headers on /v2.1/: %v", r.header)
	}
	r = tc.must(200, "GET", "/v2/", "", nil)
	if str(r.json, "version", "id") != "v2.0" || r.header.Get("OpenStack-API-Version") != "" {
		t.Fatalf("GET /v2/: %s %v", r.raw, r.header)
	}
	// Elsewhere: 300 with where the path lives in each version.
	r = tc.must(300, "GET", "/servers/x", "", nil)
	choices, _ := r.json["choices"].([]any)
	if len(choices) != 2 || choices[1].(map[string]any)["links"].([]any)[0].(map[string]any)["href"] != tc.srv.URL+"/v2.1/servers/x" {
		t.Fatalf("choices: %s", r.raw)
	}
	// Without the slash too (keystoneauth's discovery asks there and
	// follows no redirect).
	if str(tc.must(200, "GET", "/v2.1", "", nil).json, "version", "id") != "v2.1" || str(tc.must(200, "GET", "/v2", "", nil).json, "version", "id") != "v2.0" {
		t.Fatal("version documents without the slash")
	}
}

func TestMicroversionHeaders(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		hdr  []string
		want string
	}{
		{nil, "2.1"},
		{[]string{"mv", "2.55"}, "2.55"},
		{[]string{"mv", "latest"}, "2.93"},
		{[]string{"X-OpenStack-Nova-API-Version", "2.61"}, "2.61"},
		{[]string{"OpenStack-API-Version", "volume 3.5, compute 2.10"}, "2.10"},
	} {
		r := tc.must(200, "GET", "/v2.1/flavors", tc.alice, nil, c.hdr...)
		if r.header.Get("OpenStack-API-Version") != "compute "+c.want || r.header.Get("X-OpenStack-Nova-API-Version") != c.want {
			t.Errorf("%v: headers %v", c.hdr, r.header)
		}
		vary := strings.Join(r.header.Values("Vary"), ",")
		if !strings.Contains(vary, "OpenStack-API-Version") || !strings.Contains(vary, "X-OpenStack-Nova-API-Version") {
			t.Errorf("%v: Vary %q", c.hdr, vary)
		}
	}
	r := tc.req("GET", "/v2.1/flavors", tc.alice, nil, "mv", "2.94")
	tc.fault(r, 406, "computeFault", "Version 2.94 is not supported by the API. Minimum is 2.1 and maximum is 2.93.")
	r = tc.req("GET", "/v2.1/flavors", tc.alice, nil, "mv", "2.x")
	tc.fault(r, 400, "badRequest", "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.")
	// A route that starts at 2.55 is a 404 below it, with the headers.
	r = tc.req("PUT", "/v2.1/flavors/1", tc.admin, map[string]any{"flavor": map[string]any{"description": "x"}}, "mv", "2.54")
	tc.fault(r, 404, "itemNotFound", "The resource could not be found.")
	if r.header.Get("OpenStack-API-Version") != "compute 2.54" {
		t.Fatalf("error without version headers: %v", r.header)
	}
	// /v2 ignores microversion headers (legacy v2 compatibility).
	r = tc.must(200, "GET", "/v2/flavors", tc.alice, nil, "mv", "2.55")
	if r.header.Get("OpenStack-API-Version") != "" || keysOf(r.json["flavors"].([]any)[0]) != nil && strings.Contains(string(r.raw), "description") {
		t.Fatalf("/v2 honoured the microversion: %v %s", r.header, r.raw)
	}
}

func TestAuthRequestIDsAndFaults(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.req("GET", "/v2.1/flavors", "", nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") != `Keystone uri="`+tc.idsrv.URL+`/v3"` || str(r.json, "error", "title") != "Unauthorized" {
		t.Fatalf("no token: %d %v %s", r.status, r.header, r.raw)
	}
	r = tc.req("GET", "/v2.1/flavors", "bogus", nil)
	if r.status != 401 {
		t.Fatalf("bad token: %d", r.status)
	}
	r = tc.must(200, "GET", "/v2.1/flavors", tc.alice, nil)
	id := r.header.Get("X-Openstack-Request-Id")
	if !reqIDRe.MatchString(id) || r.header.Get("X-Compute-Request-Id") != id {
		t.Fatalf("request ids %q %q", id, r.header.Get("X-Compute-Request-Id"))
	}
	// Unknown path, and a known path with a method it lacks: Nova's
	// router answers 404 for both.
	tc.fault(tc.req("GET", "/v2.1/nothing-here", tc.alice, nil), 404, "itemNotFound", "The resource could not be found.")
	tc.fault(tc.req("PATCH", "/v2.1/flavors", tc.alice, nil), 404, "itemNotFound", "The resource could not be found.")
	r = tc.req("GET", "/v2.1/nothing-here", tc.alice, nil)
	if r.header.Get("X-Compute-Request-Id") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("404 headers: %v", r.header)
	}
	// Bodies: malformed JSON, a media type Nova does not take.
	tc.fault(tc.req("POST", "/v2.1/flavors", tc.admin, `{"flavor": `), 400, "badRequest", "Malformed request body")
	r = tc.req("POST", "/v2.1/flavors", tc.admin, `{}`, "Content-Type", "application/xml")
	tc.fault(r, 415, "badMediaType", "Unsupported Content-Type")
	// Policy refusal: Nova's message.
	r = tc.req("POST", "/v2.1/flavors", tc.alice, map[string]any{"flavor": map[string]any{"name": "x", "ram": 1, "vcpus": 1, "disk": 0}})
	tc.fault(r, 403, "forbidden", "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
}

func TestProjectIDInURL(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "GET", "/v2.1/"+tc.projA+"/flavors/1", tc.alice, nil)
	self := r.json["flavor"].(map[string]any)["links"].([]any)[0].(map[string]any)["href"]
	bookmark := r.json["flavor"].(map[string]any)["links"].([]any)[1].(map[string]any)["href"]
	if self != tc.srv.URL+"/v2.1/"+tc.projA+"/flavors/1" || bookmark != tc.srv.URL+"/"+tc.projA+"/flavors/1" {
		t.Fatalf("links with project id: %v %v", self, bookmark)
	}
	r = tc.must(200, "GET", "/v2.1/flavors/1", tc.alice, nil)
	self = r.json["flavor"].(map[string]any)["links"].([]any)[0].(map[string]any)["href"]
	if self != tc.srv.URL+"/v2.1/flavors/1" {
		t.Fatalf("links without project id: %v", self)
	}
	r = tc.req("GET", "/v2.1/"+tc.projB+"/flavors/1", tc.alice, nil)
	tc.fault(r, 400, "badRequest", "Malformed request URL: URL's project_id '"+tc.projB+"' doesn't match Context's project_id '"+tc.projA+"'")
}

func TestDefaultPoliciesLoad(t *testing.T) {
	tc := newTestCloud(t)
	// Every rule a route names must exist in the defaults.
	for _, rt := range tc.svc.routes {
		rules := []string{rt.rule}
		for _, a := range rt.actions {
			rules = append(rules, a.rule)
		}
		for _, rule := range rules {
			if rule != "" && !tc.svc.policy.Known(rule) {
				t.Errorf("%s %s: unknown rule %q", rt.method, rt.path, rule)
			}
		}
	}
	// Nova's context puts is_admin in the credentials: the legacy
	// "is_admin:True" rules hold for an admin on any project, not for a
	// member.
	other := map[string]any{"project_id": tc.projB, "user_id": "someone"}
	for tok, want := range map[string]bool{tc.admin: true, tc.alice: false} {
		r := httptest.NewRequest("GET", "/v2.1/flavors", nil)
		r.Header.Set("X-Auth-Token", tok)
		c := &call{s: tc.svc, r: r, ctx: r.Context()}
		if err := c.authenticate(); err != nil {
			t.Fatal(err)
		}
		if c.admin != want || c.allowed("admin_api", other) != want || c.allowed("admin_or_owner", other) != want {
			t.Errorf("admin=%v: admin_api %v admin_or_owner %v", want, c.allowed("admin_api", other), c.allowed("admin_or_owner", other))
		}
	}
	if len(DefaultPolicies) != 201 {
		t.Fatalf("Nova Zed registers 201 rules, have %d", len(DefaultPolicies))
	}
}

// Under /v2 (legacy v2 compatibility) Nova drops unknown members instead
// of refusing them and takes the v2.0 schemas (names may have spaces
// around them, which are stripped).
func TestLegacyV2Validation(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "POST", "/v2/flavors", tc.admin, map[string]any{"flavor": map[string]any{
		"name": "  spaced ", "id": "lg", "ram": 64, "vcpus": 1, "disk": 0, "unknown": true}, "also": 1})
	if str(r.json, "flavor", "name") != "spaced" {
		t.Fatalf("legacy create: %s", r.raw)
	}
	tc.fault(tc.req("POST", "/v2.1/flavors", tc.admin, map[string]any{"flavor": map[string]any{
		"name": "x", "ram": 64, "vcpus": 1, "disk": 0, "unknown": true}}), 400, "badRequest", "")
	// Action bodies name exactly one action.
	tc.fault(tc.req("POST", "/v2.1/flavors/1/action", tc.admin, map[string]any{
		"addTenantAccess": map[string]any{"tenant": tc.projA}, "removeTenantAccess": map[string]any{"tenant": tc.projA}}),
		400, "badRequest", "Malformed request body")
}

func TestMicroversionType(t *testing.T) {
	for _, c := range []struct {
		m, min, max Microversion
		want        bool
	}{
		{V(2, 55), V(2, 55), Microversion{}, true},
		{V(2, 54), V(2, 55), Microversion{}, false},
		{V(2, 9), V(2, 2), V(2, 9), true},
		{V(2, 10), V(2, 2), V(2, 9), false},
		{V(2, 1), Microversion{}, Microversion{}, true},
	} {
		if got := c.m.within(c.min, c.max); got != c.want {
			t.Errorf("%v within [%v, %v] = %v", c.m, c.min, c.max, got)
		}
	}
	if !V(2, 61).AtLeast(2, 61) || V(2, 60).AtLeast(2, 61) || !V(3, 0).AtLeast(2, 93) {
		t.Fatal("AtLeast")
	}
	if MicroversionFrom(t.Context()) != V(2, 1) {
		t.Fatal("default microversion")
	}
}
