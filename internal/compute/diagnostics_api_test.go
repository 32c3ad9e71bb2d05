package compute

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

// TestServerDiagnosticsAPI: admin only; before 2.48 the driver's own dict
// (libvirt's keys), from 2.48 the standard object with every key Tempest's
// schema requires; a stopped server is Nova's 409 for its power state.
func TestServerDiagnosticsAPI(t *testing.T) {
	py := tempestPython(t)
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "diag", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	path := "/v2.1/servers/" + id + "/diagnostics"
	sc.fault(sc.req("GET", path, sc.alice, nil, "mv", "2.48"), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-server-diagnostics to be performed.")

	old := sc.must(200, "GET", path, sc.admin, nil, "mv", "2.47")
	for _, k := range []string{"cpu0_time", "memory", "memory-actual", "vda_read", "vda_read_req", "vda_write",
		"vda_write_req", "vda_errors", "vdb_read"} { // vdb: the config drive
		if _, ok := old.json[k]; !ok {
			t.Fatalf("2.47 diagnostics without %s: %s", k, old.raw)
		}
	}
	if old.json["memory"] != float64(512*1024) { // flavor 1: 512 MB, in KiB
		t.Fatalf("2.47 memory %v", old.json["memory"])
	}

	r := sc.must(200, "GET", path, sc.admin, nil, "mv", "2.48")
	var body map[string]any
	if err := json.Unmarshal(r.raw, &body); err != nil {
		t.Fatal(err)
	}
	if body["driver"] != "simulated" || body["state"] != "running" || body["num_cpus"] != float64(1) ||
		body["num_disks"] != float64(2) || body["num_nics"] != float64(0) || body["config_drive"] != true {
		t.Fatalf("2.48 diagnostics %s", r.raw)
	}
	if md := body["memory_details"].(map[string]any); md["maximum"] != float64(512) {
		t.Fatalf("memory_details %v", md)
	}
	// Tempest's enum of drivers has no "simulated": the simulated host
	// says what it is, and everything else must fit the schema as it is.
	body["driver"] = "libvirt"
	cases := []tempestCase{
		{"diagnostics 2.48", "v2_48.servers", "show_server_diagnostics", r.status, body},
		{"diagnostics 2.47", "v2_1.servers", "show_server_diagnostics", old.status, old.json},
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "-W", "ignore", "-c", tempestCheck)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tempest check: %v %s", err, out)
	}
	var fails []string
	if err := json.Unmarshal(out, &fails); err != nil || len(fails) > 0 {
		t.Fatalf("tempest schemas: %v %s", fails, out)
	}
	// A schema that cannot fail would prove nothing: a missing key fails.
	delete(body, "uptime")
	in, _ = json.Marshal([]tempestCase{{"broken", "v2_48.servers", "show_server_diagnostics", 200, body}})
	cmd = exec.Command(py, "-W", "ignore", "-c", tempestCheck)
	cmd.Stdin = bytes.NewReader(in)
	if out, err = cmd.Output(); err != nil || !bytes.Contains(out, []byte("uptime")) {
		t.Fatalf("the schema check accepted a body without uptime: %v %s", err, out)
	}

	sc.action(202, sc.alice, id, map[string]any{"os-stop": nil})
	sc.waitStatus(sc.alice, id, "SHUTOFF", 10*time.Second)
	sc.fault(sc.req("GET", path, sc.admin, nil, "mv", "2.48"), 409, "conflictingRequest",
		"Cannot 'get_diagnostics' instance "+id+" while it is in power state shutdown")
}
