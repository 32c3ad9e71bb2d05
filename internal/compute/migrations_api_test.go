package compute

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

// os-migrations lists resizes with Nova's fields per microversion and its
// filters; admin only. Bodies are checked with Tempest's schemas.
// Diagnostics: 404, 403 for non-admins, then the driver's answer.
func TestMigrationsListAndDiagnostics(t *testing.T) {
	py := tempestPython(t)
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "mig", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "2"}})
	sc.waitStatus(sc.alice, id, "VERIFY_RESIZE", 10*time.Second)
	sc.action(204, sc.alice, id, map[string]any{"confirmResize": nil})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	var cases []tempestCase
	list := func(q, mv, module string) []any {
		r := sc.must(200, "GET", "/v2.1/os-migrations"+q, sc.admin, nil, "mv", mv)
		var body any
		_ = json.Unmarshal(r.raw, &body)
		cases = append(cases, tempestCase{"list " + mv + q, module, "list_migrations", 200, body})
		return r.json["migrations"].([]any)
	}
	l := list("", "2.1", "v2_1.migrations")
	if len(l) != 1 {
		t.Fatalf("migrations %v", l)
	}
	m := l[0].(map[string]any)
	if m["instance_uuid"] != id || m["status"] != "confirmed" || m["source_compute"] != "sim-host-0000" ||
		m["old_instance_type_id"] == nil || m["new_instance_type_id"] == nil || m["migration_type"] != nil {
		t.Fatalf("migration %v", m)
	}
	m = list("", "2.23", "v2_23.migrations")[0].(map[string]any)
	if m["migration_type"] != "resize" || m["uuid"] != nil {
		t.Fatalf("2.23 migration %v", m)
	}
	m = list("", "2.59", "v2_59.migrations")[0].(map[string]any)
	if m["uuid"] == nil || m["project_id"] != nil {
		t.Fatalf("2.59 migration %v", m)
	}
	// Tempest has no 2.80 schema: checked by hand.
	r := sc.must(200, "GET", "/v2.1/os-migrations", sc.admin, nil, "mv", "2.80")
	m = r.json["migrations"].([]any)[0].(map[string]any)
	if m["uuid"] == nil || m["project_id"] != sc.projA || m["user_id"] != sc.users["alice"] {
		t.Fatalf("2.80 migration %v", m)
	}
	if l := list("?status=error", "2.1", "v2_1.migrations"); len(l) != 0 {
		t.Fatalf("status filter %v", l)
	}
	if l := list("?host=sim-host-0000&instance_uuid="+id, "2.1", "v2_1.migrations"); len(l) != 1 {
		t.Fatalf("host filter %v", l)
	}
	if r := sc.req("GET", "/v2.1/os-migrations", sc.alice, nil); r.status != 403 {
		t.Fatalf("member: %d", r.status)
	}
	sc.fault(sc.req("GET", "/v2.1/servers/"+id+"/diagnostics", sc.alice, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-server-diagnostics to be performed.")
	sc.fault(sc.req("GET", "/v2.1/servers/"+newUUID()+"/diagnostics", sc.admin, nil), 404, "itemNotFound", "")
	if r := sc.req("GET", "/v2.1/servers/"+id+"/diagnostics", sc.admin, nil, "mv", "2.48"); r.status != 200 || r.json["driver"] != "simulated" {
		t.Fatalf("diagnostics: %d %s", r.status, r.raw)
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
