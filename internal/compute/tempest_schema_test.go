package compute

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// tempestCheck runs Tempest's own response validation
// (RestClient.validate_response: status code and JSON schema, with
// additionalProperties False) over real responses, in one Python process.
// It needs Tempest (apt: python3-tempest); without it the test skips,
// unless KUMO_REQUIRE_TOOLS=1.
const tempestCheck = `
import importlib, json, sys
from tempest.lib.common import rest_client
class Resp(dict):
    def __init__(self, status):
        super().__init__()
        self.status = status
fails = []
for c in json.load(sys.stdin):
    mod = importlib.import_module('tempest.lib.api_schema.response.compute.' + c['module'])
    try:
        rest_client.RestClient.validate_response(getattr(mod, c['name']), Resp(c['status']), c['body'])
    except Exception as e:
        fails.append('%s: %s' % (c['label'], e))
print(json.dumps(fails))
`

type tempestCase struct {
	Label  string `json:"label"`
	Module string `json:"module"`
	Name   string `json:"name"`
	Status int    `json:"status"`
	Body   any    `json:"body"`
}

func tempestPython(t *testing.T) string {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import tempest.lib.common.rest_client").Run(); err != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatalf("tempest is required (apt install python3-tempest): %v", err)
		}
		t.Skip("tempest not installed")
	}
	return py
}

func TestResponsesAgainstTempestSchemas(t *testing.T) {
	py := tempestPython(t)
	tc := newTestCloud(t)
	var cases []tempestCase
	add := func(label, module, name string, r resp) {
		var body any = ""
		if len(bytes.TrimSpace(r.raw)) > 0 {
			if err := json.Unmarshal(r.raw, &body); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
		}
		cases = append(cases, tempestCase{label, module, name, r.status, body})
	}
	call := func(label, module, name, method, path, token string, body any, hdr ...string) resp {
		r := tc.req(method, path, token, body, hdr...)
		add(label, module, name, r)
		return r
	}

	call("versions", "v2_1.versions", "list_versions", "GET", "/", "", nil)
	call("version v2.1", "v2_1.versions", "get_one_version", "GET", "/v2.1/", "", nil)
	call("version v2.0", "v2_1.versions", "get_one_version", "GET", "/v2/", "", nil)
	call("choices", "v2_1.versions", "get_version", "GET", "/elsewhere", "", nil)

	// Flavors, with the schema Tempest's flavors client picks per version.
	for _, v := range []struct{ mv, mod string }{{"2.1", "v2_1"}, {"2.55", "v2_55"}, {"2.61", "v2_61"}, {"2.75", "v2_61"}, {"2.93", "v2_61"}} {
		call("list "+v.mv, v.mod+".flavors", "list_flavors", "GET", "/v2.1/flavors", tc.alice, nil, "mv", v.mv)
		call("detail "+v.mv, v.mod+".flavors", "list_flavors_details", "GET", "/v2.1/flavors/detail?limit=2", tc.alice, nil, "mv", v.mv)
		call("show "+v.mv, v.mod+".flavors", "create_update_get_flavor_details", "GET", "/v2.1/flavors/42", tc.alice, nil, "mv", v.mv)
		body := map[string]any{"flavor": map[string]any{"name": "t" + v.mv, "ram": 64, "vcpus": 1, "disk": 0, "swap": 16,
			"os-flavor-access:is_public": false}}
		r := call("create "+v.mv, v.mod+".flavors", "create_update_get_flavor_details", "POST", "/v2.1/flavors", tc.admin, body, "mv", v.mv)
		id := str(r.json, "flavor", "id")
		if v.mv != "2.1" {
			call("update "+v.mv, v.mod+".flavors", "create_update_get_flavor_details", "PUT", "/v2.1/flavors/"+id, tc.admin,
				map[string]any{"flavor": map[string]any{"description": nil}}, "mv", v.mv)
		}
		call("access add "+v.mv, "v2_1.flavors_access", "add_remove_list_flavor_access", "POST", "/v2.1/flavors/"+id+"/action", tc.admin,
			map[string]any{"addTenantAccess": map[string]any{"tenant": tc.projA}}, "mv", v.mv)
		call("access list "+v.mv, "v2_1.flavors_access", "add_remove_list_flavor_access", "GET", "/v2.1/flavors/"+id+"/os-flavor-access", tc.admin, nil, "mv", v.mv)
		call("access remove "+v.mv, "v2_1.flavors_access", "add_remove_list_flavor_access", "POST", "/v2.1/flavors/"+id+"/action", tc.admin,
			map[string]any{"removeTenantAccess": map[string]any{"tenant": tc.projA}}, "mv", v.mv)
		call("specs set "+v.mv, "v2_1.flavors_extra_specs", "set_get_flavor_extra_specs", "POST", "/v2.1/flavors/"+id+"/os-extra_specs", tc.admin,
			map[string]any{"extra_specs": map[string]any{"hw:cpu_policy": "shared", "k": "v"}}, "mv", v.mv)
		call("specs list "+v.mv, "v2_1.flavors_extra_specs", "set_get_flavor_extra_specs", "GET", "/v2.1/flavors/"+id+"/os-extra_specs", tc.admin, nil, "mv", v.mv)
		call("spec show "+v.mv, "v2_1.flavors_extra_specs", "set_get_flavor_extra_specs_key", "GET", "/v2.1/flavors/"+id+"/os-extra_specs/k", tc.admin, nil, "mv", v.mv)
		call("spec update "+v.mv, "v2_1.flavors_extra_specs", "set_get_flavor_extra_specs_key", "PUT", "/v2.1/flavors/"+id+"/os-extra_specs/k", tc.admin,
			map[string]any{"k": "w"}, "mv", v.mv)
		call("show with specs "+v.mv, v.mod+".flavors", "create_update_get_flavor_details", "GET", "/v2.1/flavors/"+id, tc.admin, nil, "mv", v.mv)
		call("detail admin "+v.mv, v.mod+".flavors", "list_flavors_details", "GET", "/v2.1/flavors/detail?is_public=none", tc.admin, nil, "mv", v.mv)
		call("spec unset "+v.mv, "v2_1.flavors_extra_specs", "unset_flavor_extra_specs", "DELETE", "/v2.1/flavors/"+id+"/os-extra_specs/k", tc.admin, nil, "mv", v.mv)
		call("delete "+v.mv, v.mod+".flavors", "delete_flavor", "DELETE", "/v2.1/flavors/"+id, tc.admin, nil, "mv", v.mv)
	}

	// Key pairs: v2_1 schemas up to 2.1, v2_2 after.
	for _, v := range []struct{ mv, mod string }{{"2.1", "v2_1"}, {"2.2", "v2_2"}, {"2.10", "v2_2"}, {"2.93", "v2_2"}} {
		gen := map[string]any{"name": "gen" + v.mv}
		if v.mv == "2.93" {
			gen["public_key"] = testRSA
		}
		call("kp generate "+v.mv, v.mod+".keypairs", "create_keypair", "POST", "/v2.1/os-keypairs", tc.alice, map[string]any{"keypair": gen}, "mv", v.mv)
		call("kp import "+v.mv, v.mod+".keypairs", "create_keypair", "POST", "/v2.1/os-keypairs", tc.alice,
			map[string]any{"keypair": map[string]any{"name": "imp" + v.mv, "public_key": testEd25519}}, "mv", v.mv)
		call("kp list "+v.mv, v.mod+".keypairs", "list_keypairs", "GET", "/v2.1/os-keypairs", tc.alice, nil, "mv", v.mv)
		call("kp show "+v.mv, v.mod+".keypairs", "get_keypair", "GET", "/v2.1/os-keypairs/imp"+v.mv, tc.alice, nil, "mv", v.mv)
		call("kp delete "+v.mv, v.mod+".keypairs", "delete_keypair", "DELETE", "/v2.1/os-keypairs/imp"+v.mv, tc.alice, nil, "mv", v.mv)
	}
	call("kp x509", "v2_2.keypairs", "create_keypair", "POST", "/v2.1/os-keypairs", tc.alice,
		map[string]any{"keypair": map[string]any{"name": "cert", "type": "x509", "public_key": testCert}}, "mv", "2.2")

	call("az list", "v2_1.availability_zone", "list_availability_zone_list", "GET", "/v2.1/os-availability-zone", tc.alice, nil)
	call("az detail", "v2_1.availability_zone", "list_availability_zone_list_detail", "GET", "/v2.1/os-availability-zone/detail", tc.admin, nil)
	call("extensions", "v2_1.extensions", "list_extensions", "GET", "/v2.1/extensions", tc.alice, nil)

	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "-W", "ignore", "-c", tempestCheck)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tempest check: %v %s", err, out)
	}
	var fails []string
	if err := json.Unmarshal(out, &fails); err != nil {
		t.Fatalf("tempest check output %q: %v", out, err)
	}
	for _, f := range fails {
		t.Error(f)
	}
	if len(cases) < 80 {
		t.Fatalf("only %d cases checked", len(cases))
	}
}
