package compute

import (
	"testing"
)

// Bad input is the client's fault: every odd body on every write route
// gets a 4xx in Nova's fault format, never a 500.
func TestBadBodiesNeverFail500(t *testing.T) {
	tc := newTestCloud(t)
	bodies := []string{`null`, `[]`, `"x"`, `1`, `true`, `{}`, `{"flavor": null}`, `{"flavor": []}`, `{"flavor": "x"}`,
		`{"keypair": {"name": null}}`, `{"keypair": {"name": "a", "public_key": 5}}`, `{"extra_specs": null}`,
		`{"extra_specs": {"": "x"}}`, `{"addTenantAccess": null}`, `{"addTenantAccess": {"tenant": 1}}`,
		`{"removeTenantAccess": []}`, `{"flavor": {"name": "x", "ram": "1", "vcpus": "1", "disk": "0", "id": null, "swap": "", "rxtx_factor": "x"}}`,
		`{"flavor": {"name": "\u0000", "ram": 1, "vcpus": 1, "disk": 0}}`, `{"k": {"nested": 1}}`, `{"a": "1", "b": "2"}`}
	paths := []struct{ method, path string }{
		{"POST", "/v2.1/flavors"}, {"PUT", "/v2.1/flavors/1"}, {"POST", "/v2.1/flavors/1/action"},
		{"POST", "/v2.1/flavors/1/os-extra_specs"}, {"PUT", "/v2.1/flavors/1/os-extra_specs/k"},
		{"POST", "/v2.1/os-keypairs"},
	}
	for _, p := range paths {
		for _, mv := range []string{"2.1", "2.55", "2.93"} {
			for _, b := range bodies {
				r := tc.req(p.method, p.path, tc.admin, b, "mv", mv)
				if r.status < 400 || r.status >= 500 {
					if r.status < 300 {
						continue // a body that happens to be valid here
					}
					t.Errorf("%s %s %s %s: %d %s", mv, p.method, p.path, b, r.status, r.raw)
					continue
				}
				if len(r.json) != 1 {
					t.Errorf("%s %s %s: not a Nova fault: %s", p.method, p.path, b, r.raw)
				}
			}
		}
	}
	for _, q := range []string{"?limit=x", "?limit=", "?marker=", "?sort_dir=up", "?minRam=", "?is_public=", "?limit=99999999999999999999", "?limit=1&limit=x"} {
		for _, path := range []string{"/v2.1/flavors", "/v2.1/flavors/detail", "/v2.1/os-keypairs"} {
			r := tc.req("GET", path+q, tc.admin, nil, "mv", "2.93")
			if r.status >= 500 || r.status != 200 && len(r.json) != 1 {
				t.Errorf("GET %s%s: %d %s", path, q, r.status, r.raw)
			}
		}
	}
}

func TestPaginationParams(t *testing.T) {
	tc := newTestCloud(t)
	// A huge limit is capped, as Python's int has no range.
	if n := len(flavorIDs(tc.must(200, "GET", "/v2.1/flavors?limit=99999999999999999999", tc.alice, nil))); n != 7 {
		t.Fatalf("huge limit: %d flavors", n)
	}
	// limit=0 is an empty page with no next link.
	r := tc.must(200, "GET", "/v2.1/flavors?limit=0", tc.alice, nil)
	if len(flavorIDs(r)) != 0 || r.json["flavors_links"] != nil {
		t.Fatalf("limit=0: %s", r.raw)
	}
	// An empty marker names nothing.
	tc.fault(tc.req("GET", "/v2.1/flavors?marker=", tc.alice, nil), 400, "badRequest", "marker [] not found")
	tc.fault(tc.req("GET", "/v2.1/os-keypairs?marker=", tc.alice, nil, "mv", "2.35"), 400, "badRequest", "Marker  could not be found.")
}
