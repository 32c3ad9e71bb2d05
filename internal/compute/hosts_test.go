package compute

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// os-hosts as Nova's hosts.py: services by host (API services left out),
// zone filter, a compute host's resources, the 501 actions, 404 for an
// unknown host, 403 for non-admins, gone from 2.43; bodies checked with
// Tempest's schemas.
func TestHostsAPI(t *testing.T) {
	py := tempestPython(t)
	tc := newTestCloud(t)
	tc.withHypervisors()
	tc.insertInstance(newUUID(), tc.projA, "c1", 2, 1024, 5, false)
	tc.insertInstance(newUUID(), tc.projA, "c1", 1, 512, 1, false)
	tc.insertInstance(newUUID(), tc.projB, "c1", 1, 256, 1, false)
	var cases []tempestCase
	check := func(label, name string, r resp) {
		var body any = ""
		if len(bytes.TrimSpace(r.raw)) > 0 {
			_ = json.Unmarshal(r.raw, &body)
		}
		cases = append(cases, tempestCase{label, "v2_1.hosts", name, r.status, body})
	}
	r := tc.must(200, "GET", "/v2.1/os-hosts", tc.admin, nil)
	check("list", "list_hosts", r)
	got := map[string]string{}
	for _, h := range r.json["hosts"].([]any) {
		m := h.(map[string]any)
		got[m["host_name"].(string)+"/"+m["service"].(string)] = m["zone"].(string)
	}
	want := map[string]string{"ctl/scheduler": "internal", "ctl/conductor": "internal", "c1/compute": "nova", "c2/compute": "az2", "c3/compute": "nova"}
	if len(got) != len(want) {
		t.Fatalf("hosts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("hosts %v, want %v", got, want)
		}
	}
	r = tc.must(200, "GET", "/v2.1/os-hosts?zone=az2", tc.admin, nil)
	if l := r.json["hosts"].([]any); len(l) != 1 || l[0].(map[string]any)["host_name"] != "c2" {
		t.Fatalf("zone az2: %s", r.raw)
	}
	if l := tc.must(200, "GET", "/v2.1/os-hosts?zone=xxx", tc.admin, nil).json["hosts"].([]any); len(l) != 0 {
		t.Fatalf("zone xxx: %v", l)
	}
	r = tc.must(200, "GET", "/v2.1/os-hosts/c1", tc.admin, nil)
	check("show", "get_host_detail", r)
	type row struct {
		cpu, mem, disk float64
	}
	rows := map[string]row{}
	for _, e := range r.json["host"].([]any) {
		m := e.(map[string]any)["resource"].(map[string]any)
		if m["host"] != "c1" {
			t.Fatalf("resource of %v", m["host"])
		}
		rows[m["project"].(string)] = row{m["cpu"].(float64), m["memory_mb"].(float64), m["disk_gb"].(float64)}
	}
	if rows["(total)"] != (row{8, 16384, 100}) || rows["(used_now)"] != (row{3, 2048, 10}) ||
		rows["(used_max)"] != (row{4, 1792, 7}) || rows[tc.projA] != (row{3, 1536, 6}) || rows[tc.projB] != (row{1, 256, 1}) || len(rows) != 5 {
		t.Fatalf("resources %v", rows)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hosts/nope", tc.admin, nil), 404, "itemNotFound", "Compute host nope could not be found.")
	tc.fault(tc.req("GET", "/v2.1/os-hosts/c1/reboot", tc.admin, nil), 501, "notImplemented", "Virt driver does not implement host power management.")
	tc.fault(tc.req("GET", "/v2.1/os-hosts/nope/startup", tc.admin, nil), 404, "itemNotFound", "Compute host nope could not be found.")
	tc.fault(tc.req("PUT", "/v2.1/os-hosts/c1", tc.admin, map[string]any{"status": "enable"}), 501, "notImplemented", "Virt driver does not implement host disabled status.")
	tc.fault(tc.req("PUT", "/v2.1/os-hosts/c1", tc.admin, map[string]any{"maintenance_mode": "disable"}), 501, "notImplemented", "Virt driver does not implement host maintenance mode.")
	tc.fault(tc.req("PUT", "/v2.1/os-hosts/nope", tc.admin, map[string]any{"status": "enable"}), 404, "itemNotFound", "Compute host nope could not be found.")
	for _, b := range []map[string]any{{}, {"status": "invalid"}, {"maintenance_mode": "on"}, {"status": "enable", "x": 1}} {
		if r := tc.req("PUT", "/v2.1/os-hosts/c1", tc.admin, b); r.status != 400 {
			t.Fatalf("update %v: %d %s", b, r.status, r.raw)
		}
	}
	for _, p := range []string{"/v2.1/os-hosts", "/v2.1/os-hosts/c1", "/v2.1/os-hosts/c1/shutdown"} {
		if r := tc.req("GET", p, tc.alice, nil); r.status != 403 {
			t.Fatalf("%s as member: %d", p, r.status)
		}
	}
	if r := tc.req("GET", "/v2.1/os-hosts", tc.admin, nil, "mv", "2.43"); r.status != 404 {
		t.Fatalf("2.43: %d", r.status)
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
}

// The usage audit log as Nova's with the audit task off: every compute
// host not run, the last completed month before the timestamp, 400 for a
// bad timestamp, admin only.
func TestUsageAuditLog(t *testing.T) {
	tc := newTestCloud(t)
	tc.withRegistry()
	r := tc.must(200, "GET", "/v2.1/os-instance_usage_audit_log/2026-03-01%2000:00:00", tc.admin, nil)
	l := r.json["instance_usage_audit_log"].(map[string]any)
	if l["period_beginning"] != "2026-01-01 00:00:00" || l["period_ending"] != "2026-02-01 00:00:00" ||
		l["num_hosts"] != 2.0 || l["num_hosts_not_run"] != 2.0 || l["overall_status"] != "0 of 2 hosts done. 0 errors." {
		t.Fatalf("log %s", r.raw)
	}
	r = tc.must(200, "GET", "/v2.1/os-instance_usage_audit_log/2026-03-15%2010:00:00.5", tc.admin, nil)
	if l := r.json["instance_usage_audit_log"].(map[string]any); l["period_beginning"] != "2026-02-01 00:00:00" {
		t.Fatalf("log %s", r.raw)
	}
	if r := tc.must(200, "GET", "/v2.1/os-instance_usage_audit_log", tc.admin, nil); r.json["instance_usage_audit_logs"] == nil {
		t.Fatalf("list %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-instance_usage_audit_log/bad", tc.admin, nil), 400, "badRequest", "Invalid timestamp for date bad")
	if r := tc.req("GET", "/v2.1/os-instance_usage_audit_log", tc.alice, nil); r.status != 403 {
		t.Fatalf("member: %d", r.status)
	}
}
