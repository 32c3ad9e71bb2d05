package compute

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
)

func (sc *simCloud) action(want int, token, id string, body any, hdr ...string) resp {
	sc.t.Helper()
	return sc.must(want, "POST", "/v2.1/servers/"+id+"/action", token, body, hdr...)
}

func (sc *simCloud) power(id string) virt.PowerState {
	sc.t.Helper()
	for _, d := range sc.drivers {
		if p, err := d.PowerState(sc.ctx(), id); err == nil {
			return p
		}
	}
	return virt.NoState
}

func TestServerPowerActionsFollowNovaStates(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "p", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	steps := []struct {
		body   any
		status string
		power  virt.PowerState
	}{
		{map[string]any{"os-stop": nil}, "SHUTOFF", virt.Shutdown},
		{map[string]any{"os-start": nil}, "ACTIVE", virt.Running},
		{map[string]any{"pause": nil}, "PAUSED", virt.Paused},
		{map[string]any{"unpause": nil}, "ACTIVE", virt.Running},
		{map[string]any{"suspend": nil}, "SUSPENDED", virt.Suspended},
		{map[string]any{"resume": nil}, "ACTIVE", virt.Running},
		{map[string]any{"reboot": map[string]any{"type": "SOFT"}}, "ACTIVE", virt.Running},
		{map[string]any{"os-stop": nil}, "SHUTOFF", virt.Shutdown},
		{map[string]any{"reboot": map[string]any{"type": "HARD"}}, "ACTIVE", virt.Running},
	}
	for _, s := range steps {
		sc.action(202, sc.alice, id, s.body)
		srv := sc.waitStatus(sc.alice, id, s.status, 10*time.Second)
		if p := sc.power(id); p != s.power || srv["OS-EXT-STS:power_state"] != float64(s.power) {
			t.Fatalf("after %v: driver power %v, API %v, want %v", s.body, p, srv["OS-EXT-STS:power_state"], s.power)
		}
	}
	// Wrong states: Nova's 409 messages.
	r := sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"os-start": nil})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'start' instance %s while it is in vm_state active", id))
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unpause": nil})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'unpause' instance %s while it is in vm_state active", id))
	sc.action(202, sc.alice, id, map[string]any{"os-stop": nil})
	sc.waitStatus(sc.alice, id, "SHUTOFF", 10*time.Second)
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"os-stop": nil})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'stop' instance %s while it is in vm_state stopped", id))
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"pause": nil})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'pause' instance %s while it is in vm_state stopped", id))
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"reboot": map[string]any{"type": "soft"}})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'reboot' instance %s while it is in vm_state stopped", id))
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"reboot": map[string]any{"type": "WARM"}})
	if r.status != 400 {
		t.Fatalf("bad reboot type: %d %s", r.status, r.raw)
	}
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"fly": nil})
	sc.fault(r, 400, "badRequest", "There is no such action: fly")
}

func TestServerVisibilityAcrossProjects(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "mine", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	notFound := fmt.Sprintf("Instance %s could not be found.", id)
	sc.fault(sc.req("GET", "/v2.1/servers/"+id, sc.bob, nil), 404, "itemNotFound", notFound)
	sc.fault(sc.req("DELETE", "/v2.1/servers/"+id, sc.bob, nil), 404, "itemNotFound", notFound)
	sc.fault(sc.req("PUT", "/v2.1/servers/"+id, sc.bob, map[string]any{"server": map[string]any{"name": "x"}}), 404, "itemNotFound", notFound)
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.bob, map[string]any{"os-stop": nil}), 404, "itemNotFound", notFound)
	sc.fault(sc.req("GET", "/v2.1/servers/"+id+"/metadata", sc.bob, nil), 404, "itemNotFound", notFound)
	if l := sc.must(200, "GET", "/v2.1/servers", sc.bob, nil).json["servers"].([]any); len(l) != 0 {
		t.Fatalf("bob lists %v", l)
	}
	// carol, another member of project A, sees it.
	sc.must(200, "GET", "/v2.1/servers/"+id, sc.carol, nil)
	// An admin's list is its own project unless all_tenants.
	if l := sc.must(200, "GET", "/v2.1/servers", sc.admin, nil).json["servers"].([]any); len(l) != 0 {
		t.Fatalf("admin's own list %v", l)
	}
	if l := sc.must(200, "GET", "/v2.1/servers?all_tenants=1", sc.admin, nil).json["servers"].([]any); len(l) != 1 {
		t.Fatalf("admin all_tenants %v", l)
	}
	if l := sc.must(200, "GET", "/v2.1/servers/detail?all_tenants&project_id="+sc.projB, sc.admin, nil).json["servers"].([]any); len(l) != 0 {
		t.Fatalf("admin all_tenants for B %v", l)
	}
	sc.fault(sc.req("GET", "/v2.1/servers?all_tenants=1", sc.alice, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.")
	sc.must(200, "GET", "/v2.1/servers/"+id, sc.admin, nil)
}

// Zed's defaults (enforce_new_defaults False) let a project reader write,
// as Nova does; with the new defaults in a policy file a reader reads
// only.
func TestServerReaderUnderNewDefaultPolicies(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pf, []byte(`{
		"project_member_api": "role:member and project_id:%(project_id)s",
		"project_member_or_admin": "rule:project_member_api or rule:context_is_admin",
		"project_reader_api": "role:reader and project_id:%(project_id)s",
		"project_reader_or_admin": "rule:project_reader_api or rule:context_is_admin"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sc := newSimCloud(t, 1, func(c *Config) { c.PolicyFile = pf })
	id := sc.boot(sc.alice, "r", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.must(200, "GET", "/v2.1/servers/"+id, sc.rita, nil)
	sc.must(200, "GET", "/v2.1/servers/"+id+"/metadata", sc.rita, nil)
	for _, c := range []struct {
		method, path, rule string
		body               any
	}{
		{"POST", "/v2.1/servers/" + id + "/action", "os_compute_api:servers:stop", map[string]any{"os-stop": nil}},
		{"DELETE", "/v2.1/servers/" + id, "os_compute_api:servers:delete", nil},
		{"PUT", "/v2.1/servers/" + id, "os_compute_api:servers:update", map[string]any{"server": map[string]any{"name": "x"}}},
		{"POST", "/v2.1/servers/" + id + "/metadata", "os_compute_api:server-metadata:create", map[string]any{"metadata": map[string]any{"a": "b"}}},
		{"POST", "/v2.1/servers", "os_compute_api:servers:create", map[string]any{"server": map[string]any{
			"name": "s", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}}},
	} {
		r := sc.req(c.method, c.path, sc.rita, c.body, "mv", "2.37")
		sc.fault(r, 403, "forbidden", "Policy doesn't allow "+c.rule+" to be performed.")
	}
}

func TestServerLockAndDelete(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "l", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"lock": map[string]any{"locked_reason": "maintenance"}}, "mv", "2.73")
	r := sc.must(200, "GET", "/v2.1/servers/"+id, sc.alice, nil, "mv", "2.73")
	if r.json["server"].(map[string]any)["locked"] != true || str(r.json, "server", "locked_reason") != "maintenance" {
		t.Fatalf("locked: %s", r.raw)
	}
	if l := sc.must(200, "GET", "/v2.1/servers?locked=true", sc.alice, nil, "mv", "2.73").json["servers"].([]any); len(l) != 1 {
		t.Fatalf("locked filter %v", l)
	}
	locked := fmt.Sprintf("Instance %s is locked", id)
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"os-stop": nil}), 409, "conflictingRequest", locked)
	sc.fault(sc.req("DELETE", "/v2.1/servers/"+id, sc.carol, nil), 409, "conflictingRequest", locked)
	sc.action(202, sc.alice, id, map[string]any{"unlock": nil})
	sc.must(204, "DELETE", "/v2.1/servers/"+id, sc.alice, nil)
	sc.waitGone(sc.alice, id, 10*time.Second)
	if _, ok := sc.drivers["sim-host-0000"].Spec(id); ok {
		t.Fatalf("the driver still has %s", id)
	}
	u, err := sc.p.Usages(sc.ctx(), "51a7e000-0000-4000-8000-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	for rc, n := range u {
		if n != 0 {
			t.Fatalf("usage %s=%d after delete", rc, n)
		}
	}
	// An admin lists it as deleted.
	r = sc.must(200, "GET", "/v2.1/servers/detail?all_tenants=1&deleted=true", sc.admin, nil)
	l := r.json["servers"].([]any)
	if len(l) != 1 || l[0].(map[string]any)["status"] != "DELETED" || l[0].(map[string]any)["OS-SRV-USG:terminated_at"] == nil {
		t.Fatalf("deleted list %s", r.raw)
	}
	// forceDelete of a live server is a delete; restore of one that is not
	// soft-deleted is Nova's 409.
	id2 := sc.boot(sc.alice, "f", nil)
	sc.waitStatus(sc.alice, id2, "ACTIVE", 10*time.Second)
	sc.fault(sc.req("POST", "/v2.1/servers/"+id2+"/action", sc.alice, map[string]any{"restore": nil}), 409, "conflictingRequest",
		fmt.Sprintf("Cannot 'restore' instance %s while it is in vm_state active", id2))
	sc.action(202, sc.alice, id2, map[string]any{"forceDelete": nil})
	sc.waitGone(sc.alice, id2, 10*time.Second)
}

func TestServerResizeConfirmAndRevert(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "rz", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	r := sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"resize": map[string]any{"flavorRef": "1"}})
	sc.fault(r, 400, "badRequest", "When resizing, instances must change flavor!")
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"confirmResize": nil})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'confirmResize' instance %s while it is in vm_state active", id))
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "2"}})
	srv := sc.waitStatus(sc.alice, id, "VERIFY_RESIZE", 10*time.Second)
	if fl := srv["flavor"].(map[string]any); fl["original_name"] != "m1.small" {
		t.Fatalf("flavor while resized %v", fl)
	}
	usage := func() map[string]int64 {
		u, err := sc.p.Usages(sc.ctx(), "51a7e000-0000-4000-8000-000000000000")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// Both sizes are held until the resize is confirmed (512 + 2048 MB).
	if u := usage(); u["MEMORY_MB"] != 512+2048 {
		t.Fatalf("usage while resized %v", u)
	}
	sc.action(204, sc.alice, id, map[string]any{"confirmResize": nil})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if u := usage(); u["MEMORY_MB"] != 2048 || u["VCPU"] != 1 {
		t.Fatalf("usage after confirm %v", u)
	}
	if spec, _ := sc.drivers["sim-host-0000"].Spec(id); spec.MemoryMB != 2048 {
		t.Fatalf("driver spec after confirm %+v", spec)
	}
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "3"}})
	sc.waitStatus(sc.alice, id, "VERIFY_RESIZE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"revertResize": nil})
	srv = sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if fl := srv["flavor"].(map[string]any); fl["original_name"] != "m1.small" {
		t.Fatalf("flavor after revert %v", fl)
	}
	if u := usage(); u["MEMORY_MB"] != 2048 {
		t.Fatalf("usage after revert %v", u)
	}
	if spec, _ := sc.drivers["sim-host-0000"].Spec(id); spec.MemoryMB != 2048 {
		t.Fatalf("driver spec after revert %+v", spec)
	}
	// A flavor that does not fit beside the old one: accepted, then the
	// instance stays as it was with a fault, as Nova's conductor does.
	sc.must(200, "POST", "/v2.1/flavors", sc.admin, map[string]any{"flavor": map[string]any{
		"name": "huge", "ram": 70000, "vcpus": 1, "disk": 20, "id": "huge"}})
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "huge"}})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if u := usage(); u["MEMORY_MB"] != 2048 {
		t.Fatalf("usage after failed resize %v", u)
	}
	acts := sc.must(200, "GET", "/v2.1/servers/"+id+"/os-instance-actions", sc.alice, nil).json["instanceActions"].([]any)
	if a := acts[0].(map[string]any); a["action"] != "resize" || a["message"] != "Error" {
		t.Fatalf("failed resize action %v", a)
	}
}

func TestServerRebuildRescueSnapshotConsole(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "rb", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	other := sc.images.add("", true, "active", 0, 0, []byte("another image"))
	r := sc.action(202, sc.alice, id, map[string]any{"rebuild": map[string]any{"imageRef": other, "name": "rebuilt",
		"metadata": map[string]any{"k": "v"}}}, "mv", "2.57")
	srv := r.json["server"].(map[string]any)
	if srv["adminPass"] == "" || srv["name"] != "rebuilt" || srv["image"].(map[string]any)["id"] != other {
		t.Fatalf("rebuild answer %s", r.raw)
	}
	if _, ok := srv["key_name"]; !ok {
		t.Fatalf("2.54 rebuild answer has no key_name: %s", r.raw)
	}
	if _, ok := srv["user_data"]; !ok {
		t.Fatalf("2.57 rebuild answer has no user_data: %s", r.raw)
	}
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if m := sc.must(200, "GET", "/v2.1/servers/"+id+"/metadata", sc.alice, nil).json["metadata"].(map[string]any); len(m) != 1 || m["k"] != "v" {
		t.Fatalf("metadata after rebuild %v", m)
	}
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"rebuild": map[string]any{"imageRef": newUUID()}})
	sc.fault(r, 400, "badRequest", "Cannot find image for rebuild")

	r = sc.action(200, sc.alice, id, map[string]any{"rescue": nil})
	if str(r.json, "adminPass") == "" || len(r.json) != 1 {
		t.Fatalf("rescue answer %s", r.raw)
	}
	sc.waitStatus(sc.alice, id, "RESCUE", 10*time.Second)
	if !sc.drivers["sim-host-0000"].Rescued(id) {
		t.Fatal("driver: not rescued")
	}
	sc.action(202, sc.alice, id, map[string]any{"unrescue": nil})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)

	r = sc.action(202, sc.alice, id, map[string]any{"createImage": map[string]any{"name": "snap"}}, "mv", "2.45")
	img := str(r.json, "image_id")
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if im := sc.images.get(img); im == nil || im.status != "active" || len(im.data) == 0 || im.props["instance_uuid"] != id {
		t.Fatalf("snapshot image %+v", im)
	}
	r = sc.action(202, sc.alice, id, map[string]any{"createImage": map[string]any{"name": "snap2"}})
	if loc := r.header.Get("Location"); !strings.Contains(loc, "/images/") || len(r.raw) != 0 {
		t.Fatalf("createImage before 2.45: Location %q body %q", loc, r.raw)
	}
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)

	r = sc.action(200, sc.alice, id, map[string]any{"os-getConsoleOutput": map[string]any{"length": 1}})
	out := str(r.json, "output")
	if out == "" || strings.Count(strings.TrimSuffix(out, "\n"), "\n") != 0 {
		t.Fatalf("console length 1: %q", out)
	}
	r = sc.action(200, sc.alice, id, map[string]any{"os-getConsoleOutput": map[string]any{"length": -1}})
	if full := str(r.json, "output"); len(full) <= len(out) {
		t.Fatalf("full console %q not longer than its last line %q", full, out)
	}
	// Only an admin resets the state.
	r = sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"os-resetState": map[string]any{"state": "error"}})
	sc.fault(r, 403, "forbidden", "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.")
	sc.action(202, sc.admin, id, map[string]any{"os-resetState": map[string]any{"state": "error"}})
	sc.waitStatus(sc.alice, id, "ERROR", time.Second)
	sc.action(202, sc.admin, id, map[string]any{"os-resetState": map[string]any{"state": "active"}})
	sc.waitStatus(sc.alice, id, "ACTIVE", time.Second)
}

func TestServerFailuresLeaveFaultsAndNoClaims(t *testing.T) {
	sc := newSimCloud(t, 1)
	drv := sc.drivers["sim-host-0000"]
	usage := func() map[string]int64 {
		u, err := sc.p.Usages(sc.ctx(), "51a7e000-0000-4000-8000-000000000000")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// A spawn that fails: ERROR, Nova's build fault, the claim released.
	drv.Fail(simulated.OpSpawn, "", 1, nil)
	id := sc.boot(sc.alice, "broken", nil)
	// The fault is written with the ERROR state: the first answer in ERROR
	// has it.
	srv := sc.waitStatus(sc.admin, id, "ERROR", 10*time.Second)
	f, _ := srv["fault"].(map[string]any)
	if msg, _ := f["message"].(string); !strings.HasPrefix(msg, "Build of instance "+id+" aborted: ") || f["details"] == nil {
		t.Fatalf("build fault (admin view) %v", srv["fault"])
	}
	if u := usage(); u["MEMORY_MB"] != 0 {
		t.Fatalf("usage after failed build %v", u)
	}
	// An ERROR server is deleted like any other.
	sc.must(204, "DELETE", "/v2.1/servers/"+id, sc.alice, nil)
	sc.waitGone(sc.alice, id, 10*time.Second)

	// A resize the driver refuses (a smaller disk) rolls back, as Nova's
	// InstanceFaultRollback: ACTIVE again, a fault, the new claim dropped.
	id = sc.boot(sc.alice, "small", map[string]any{"flavorRef": "2"})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "1"}})
	for i := 0; i < 400; i++ {
		if acts := sc.must(200, "GET", "/v2.1/servers/"+id+"/os-instance-actions", sc.alice, nil).json["instanceActions"].([]any); acts[0].(map[string]any)["message"] == "Error" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv = sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if srv["flavor"].(map[string]any)["original_name"] != "m1.small" {
		t.Fatalf("flavor after refused resize %v", srv["flavor"])
	}
	if u := usage(); u["MEMORY_MB"] != 2048 {
		t.Fatalf("usage after refused resize %v", u)
	}
	// A stop the driver fails: the state stays, the action records Error.
	drv.Fail(simulated.OpPowerOff, id, 1, nil)
	r := sc.action(202, sc.alice, id, map[string]any{"os-stop": nil})
	rid := r.header.Get("X-Compute-Request-Id")
	var ev map[string]any
	for i := 0; i < 400; i++ {
		a := sc.must(200, "GET", "/v2.1/servers/"+id+"/os-instance-actions/"+rid, sc.admin, nil).json["instanceAction"].(map[string]any)
		if evs, _ := a["events"].([]any); len(evs) == 1 && evs[0].(map[string]any)["finish_time"] != nil {
			ev = evs[0].(map[string]any)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ev == nil || ev["result"] != "Error" || ev["traceback"] == nil {
		t.Fatalf("failed stop event %v", ev)
	}
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
}

// TestServersSurviveAManagerRestart replaces the compute manager of a host
// (as a restart of kumo does) while one server is being stopped: the new
// manager's Reconcile over this service's store finishes the stop, and
// the servers answer actions again.
func TestServersSurviveAManagerRestart(t *testing.T) {
	sc := newSimCloud(t, 1)
	a := sc.boot(sc.alice, "a", nil)
	b := sc.boot(sc.alice, "b", nil)
	sc.waitStatus(sc.alice, a, "ACTIVE", 10*time.Second)
	sc.waitStatus(sc.alice, b, "ACTIVE", 10*time.Second)
	const host = "sim-host-0000"
	drv := sc.drivers[host]
	drv.Delay(simulated.OpPowerOff, 2*time.Second)
	sc.action(202, sc.alice, b, map[string]any{"os-stop": nil})
	// Kill the manager mid-stop: its running action is cancelled.
	ctx, cancel := context.WithTimeout(sc.ctx(), 50*time.Millisecond)
	_ = sc.mgrs[host].Close(ctx)
	cancel()
	drv.Clear()
	if s := str(sc.must(200, "GET", "/v2.1/servers/"+b, sc.alice, nil).json, "server", "OS-EXT-STS:task_state"); s != "powering-off" {
		t.Fatalf("task state after the crash %q", s)
	}
	m := manager.New(drv, sc.svc.InstanceStore(), sc.images, sc.svc.PlacementClaims(sc.p), manager.Config{Host: host,
		ShutdownTimeout: time.Second, SnapshotDir: sc.dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sc.mgrs[host] = m
	d := *sc.svc.deps()
	d.Hosts = map[string]ComputeHost{host: {Manager: m, Driver: drv}}
	sc.svc.UseCompute(d)
	if err := m.Reconcile(sc.ctx()); err != nil {
		t.Fatal(err)
	}
	sc.waitStatus(sc.alice, b, "SHUTOFF", 10*time.Second)
	sc.waitStatus(sc.alice, a, "ACTIVE", time.Second)
	sc.action(202, sc.alice, b, map[string]any{"os-start": nil})
	sc.waitStatus(sc.alice, b, "ACTIVE", 10*time.Second)
}
