package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
)

// os-aggregates as Nova: create (no hosts/metadata in the answer), show,
// list, update, hosts, metadata, the availability zone reaching the AZ
// and hosts APIs, the 400/403/404/409 cases; bodies checked with
// Tempest's schemas (2.1 and 2.41).
func TestAggregatesAPI(t *testing.T) {
	py := tempestPython(t)
	tc := newTestCloud(t)
	reg, _ := tc.withRegistry()
	var cases []tempestCase
	call := func(want int, module, name, method, path string, body any, hdr ...string) resp {
		t.Helper()
		r := tc.must(want, method, path, tc.admin, body, hdr...)
		var b any = ""
		if len(bytes.TrimSpace(r.raw)) > 0 {
			_ = json.Unmarshal(r.raw, &b)
		}
		cases = append(cases, tempestCase{method + " " + path, module, name, r.status, b})
		return r
	}
	r := call(200, "v2_1.aggregates", "create_aggregate", "POST", "/v2.1/os-aggregates", map[string]any{"aggregate": map[string]any{"name": "agg1", "availability_zone": "zone1"}})
	a := r.json["aggregate"].(map[string]any)
	if a["name"] != "agg1" || a["availability_zone"] != "zone1" || a["hosts"] != nil || a["uuid"] != nil {
		t.Fatalf("created %s", r.raw)
	}
	id := fmt.Sprint(a["id"])
	tc.fault(tc.req("POST", "/v2.1/os-aggregates", tc.admin, map[string]any{"aggregate": map[string]any{"name": "agg1"}}), 409, "conflictingRequest", "Aggregate agg1 already exists.")
	for _, bad := range []map[string]any{{"name": ""}, {"name": string(bytes.Repeat([]byte("a"), 256))}, {"name": "x", "availability_zone": "a:b"}, {"name": "x", "foo": 1}} {
		if r := tc.req("POST", "/v2.1/os-aggregates", tc.admin, map[string]any{"aggregate": bad}); r.status != 400 {
			t.Fatalf("create %v: %d", bad, r.status)
		}
	}
	r = call(200, "v2_41.aggregates", "create_aggregate", "POST", "/v2.1/os-aggregates", map[string]any{"aggregate": map[string]any{"name": "agg2"}}, "mv", "2.41")
	if a := r.json["aggregate"].(map[string]any); a["uuid"] == nil || a["availability_zone"] != nil {
		t.Fatalf("2.41 create %s", r.raw)
	}
	id2 := fmt.Sprint(r.json["aggregate"].(map[string]any)["id"])
	r = call(200, "v2_1.aggregates", "aggregate_add_remove_host", "POST", "/v2.1/os-aggregates/"+id+"/action", map[string]any{"add_host": map[string]any{"host": "c1"}})
	if h := r.json["aggregate"].(map[string]any)["hosts"].([]any); len(h) != 1 || h[0] != "c1" {
		t.Fatalf("add_host %s", r.raw)
	}
	tc.fault(tc.req("POST", "/v2.1/os-aggregates/"+id+"/action", tc.admin, map[string]any{"add_host": map[string]any{"host": "c1"}}), 409, "conflictingRequest", "Aggregate "+id+" already has host c1.")
	tc.fault(tc.req("POST", "/v2.1/os-aggregates/"+id+"/action", tc.admin, map[string]any{"add_host": map[string]any{"host": "ctl"}}), 404, "itemNotFound", "Compute host ctl could not be found.")
	tc.fault(tc.req("POST", "/v2.1/os-aggregates/"+id2+"/action", tc.admin, map[string]any{"remove_host": map[string]any{"host": "c1"}}), 404, "itemNotFound", "Cannot remove host c1 in aggregate "+id2)
	// c1 is now in zone1 for the other APIs.
	hosts := tc.must(200, "GET", "/v2.1/os-hosts?zone=zone1", tc.admin, nil).json["hosts"].([]any)
	if len(hosts) != 1 || hosts[0].(map[string]any)["host_name"] != "c1" {
		t.Fatalf("hosts in zone1 %v", hosts)
	}
	azs := tc.must(200, "GET", "/v2.1/os-availability-zone", tc.alice, nil).json["availabilityZoneInfo"].([]any)
	found := false
	for _, z := range azs {
		found = found || z.(map[string]any)["zoneName"] == "zone1"
	}
	if !found {
		t.Fatalf("zones %v", azs)
	}
	// ...and for the scheduler.
	src := SchedulerHosts{Registry: reg, Provider: func(host string) string { return "rp-" + host }}
	sh, err := src.Hosts(context.Background())
	if err != nil || len(sh) != 2 || sh[0].Name != "c1" || sh[0].AvailabilityZone != "zone1" || sh[1].AvailabilityZone != "az2" {
		t.Fatalf("scheduler hosts %+v %v", sh, err)
	}
	r = call(200, "v2_1.aggregates", "aggregate_set_metadata", "POST", "/v2.1/os-aggregates/"+id+"/action", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"k": "v", "k2": "v2"}}})
	r = call(200, "v2_1.aggregates", "aggregate_set_metadata", "POST", "/v2.1/os-aggregates/"+id+"/action", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"k2": nil}}})
	if m := r.json["aggregate"].(map[string]any)["metadata"].(map[string]any); len(m) != 2 || m["k"] != "v" || m["availability_zone"] != "zone1" {
		t.Fatalf("metadata %s", r.raw)
	}
	r = call(200, "v2_1.aggregates", "update_aggregate", "PUT", "/v2.1/os-aggregates/"+id, map[string]any{"aggregate": map[string]any{"name": "renamed", "availability_zone": "zone2"}})
	if a := r.json["aggregate"].(map[string]any); a["name"] != "renamed" || a["availability_zone"] != "zone2" || a["updated_at"] == nil {
		t.Fatalf("updated %s", r.raw)
	}
	tc.fault(tc.req("PUT", "/v2.1/os-aggregates/"+id2, tc.admin, map[string]any{"aggregate": map[string]any{"name": "renamed"}}), 409, "conflictingRequest", "Aggregate renamed already exists.")
	call(200, "v2_1.aggregates", "get_aggregate", "GET", "/v2.1/os-aggregates/"+id, nil)
	r = call(200, "v2_1.aggregates", "list_aggregates", "GET", "/v2.1/os-aggregates", nil)
	if l := r.json["aggregates"].([]any); len(l) != 2 {
		t.Fatalf("list %s", r.raw)
	}
	call(200, "v2_41.aggregates", "list_aggregates", "GET", "/v2.1/os-aggregates", nil, "mv", "2.41")
	tc.fault(tc.req("DELETE", "/v2.1/os-aggregates/"+id, tc.admin, nil), 400, "badRequest",
		"Cannot perform action 'delete' on aggregate "+id+". Reason: Host aggregate is not empty.")
	call(200, "v2_1.aggregates", "aggregate_add_remove_host", "POST", "/v2.1/os-aggregates/"+id+"/action", map[string]any{"remove_host": map[string]any{"host": "c1"}})
	call(200, "v2_1.aggregates", "delete_aggregate", "DELETE", "/v2.1/os-aggregates/"+id, nil)
	tc.fault(tc.req("GET", "/v2.1/os-aggregates/"+id, tc.admin, nil), 404, "itemNotFound", "Aggregate "+id+" could not be found.")
	for _, p := range []string{"/v2.1/os-aggregates", "/v2.1/os-aggregates/" + id2} {
		if r := tc.req("GET", p, tc.alice, nil); r.status != 403 {
			t.Fatalf("%s as member: %d", p, r.status)
		}
	}
	if r := tc.req("POST", "/v2.1/os-aggregates", tc.alice, map[string]any{"aggregate": map[string]any{"name": "u"}}); r.status != 403 {
		t.Fatalf("create as member: %d", r.status)
	}
	in, _ := json.Marshal(cases)
	var out []byte
	cmd := exec.Command(py, "-W", "ignore", "-c", tempestCheck)
	cmd.Stdin = bytes.NewReader(in)
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("tempest check: %v %s", err, out)
	}
	var fails []string
	if err := json.Unmarshal(out, &fails); err != nil || len(fails) > 0 {
		t.Fatalf("tempest schemas: %v %s", fails, out)
	}
}
