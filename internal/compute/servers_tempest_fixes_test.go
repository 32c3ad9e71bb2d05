package compute

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Access addresses are stored in canonical form, as Nova's IPAddress
// column (Tempest's test_verify_server_details compares with netaddr's
// text): on create, update and rebuild.
func TestAccessIPsAreCanonical(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "ip", map[string]any{"accessIPv4": "1.1.1.1",
		"accessIPv6": "0000:0000:0000:0000:0000:babe:220.12.22.2"})
	srv := sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if srv["accessIPv6"] != "::babe:dc0c:1602" || srv["accessIPv4"] != "1.1.1.1" {
		t.Fatalf("created: %v %v", srv["accessIPv4"], srv["accessIPv6"])
	}
	r := sc.must(200, "PUT", "/v2.1/servers/"+id, sc.alice, map[string]any{"server": map[string]any{
		"accessIPv6": "2001:0DB8:0000:0000:0000:0000:0000:0001"}})
	if v := r.json["server"].(map[string]any)["accessIPv6"]; v != "2001:db8::1" {
		t.Fatalf("updated: %v", v)
	}
	sc.action(202, sc.alice, id, map[string]any{"rebuild": map[string]any{"imageRef": sc.imageID,
		"accessIPv6": "fe80:0:0:0:0:0:0:a"}})
	srv = sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if srv["accessIPv6"] != "fe80::a" {
		t.Fatalf("rebuilt: %v", srv["accessIPv6"])
	}
}

// A resize's OS-DCF:diskConfig becomes the server's, as in Nova
// (Tempest's test_resize_server_from_manual_to_auto).
func TestResizeTakesDiskConfig(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "dc", map[string]any{"OS-DCF:diskConfig": "MANUAL"})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "2", "OS-DCF:diskConfig": "AUTO"}})
	sc.waitStatus(sc.alice, id, "VERIFY_RESIZE", 10*time.Second)
	sc.action(204, sc.alice, id, map[string]any{"confirmResize": nil})
	srv := sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	if srv["OS-DCF:diskConfig"] != "AUTO" {
		t.Fatalf("disk config after resize %v", srv["OS-DCF:diskConfig"])
	}
	// Without one the server keeps its own.
	sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "3"}})
	srv = sc.waitStatus(sc.alice, id, "VERIFY_RESIZE", 10*time.Second)
	if srv["OS-DCF:diskConfig"] != "AUTO" {
		t.Fatalf("disk config after plain resize %v", srv["OS-DCF:diskConfig"])
	}
}

// os-server-password: the (always empty, no metadata service) password,
// 204 on clear, 404 for another project's server; bodies checked with
// Tempest's schemas.
func TestServerPassword(t *testing.T) {
	py := tempestPython(t)
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "pw", nil)
	get := sc.must(200, "GET", "/v2.1/servers/"+id+"/os-server-password", sc.alice, nil)
	if get.json["password"] != "" || len(get.json) != 1 {
		t.Fatalf("password %s", get.raw)
	}
	del := sc.must(204, "DELETE", "/v2.1/servers/"+id+"/os-server-password", sc.alice, nil)
	sc.fault(sc.req("GET", "/v2.1/servers/"+id+"/os-server-password", sc.bob, nil), 404, "itemNotFound",
		"Instance "+id+" could not be found.")
	sc.fault(sc.req("DELETE", "/v2.1/servers/"+id+"/os-server-password", sc.bob, nil), 404, "itemNotFound",
		"Instance "+id+" could not be found.")
	var body any
	_ = json.Unmarshal(get.raw, &body)
	in, _ := json.Marshal([]tempestCase{{"get", "v2_1.servers", "show_password", 200, body},
		{"delete", "v2_1.servers", "server_actions_delete_password", del.status, ""}})
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

// os-server-external-events: per-event codes, 207 when mixed, 404 when
// none delivered, admin only, Nova's event names (schema 400).
func TestServerExternalEvents(t *testing.T) {
	py := tempestPython(t)
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "ev", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	ev := func(uuid string) map[string]any {
		return map[string]any{"name": "network-changed", "server_uuid": uuid}
	}
	r := sc.must(200, "POST", "/v2.1/os-server-external-events", sc.admin, map[string]any{"events": []any{ev(id)}})
	e := r.json["events"].([]any)[0].(map[string]any)
	if e["code"] != 200.0 || e["server_uuid"] != id || e["status"] != "completed" {
		t.Fatalf("event %s", r.raw)
	}
	var body any
	_ = json.Unmarshal(r.raw, &body)
	other := newUUID()
	r = sc.must(207, "POST", "/v2.1/os-server-external-events", sc.admin, map[string]any{"events": []any{ev(id), ev(other)}})
	if e := r.json["events"].([]any)[1].(map[string]any); e["code"] != 404.0 || e["status"] != "failed" {
		t.Fatalf("unknown server event %s", r.raw)
	}
	sc.fault(sc.req("POST", "/v2.1/os-server-external-events", sc.admin, map[string]any{"events": []any{ev(other)}}), 404, "itemNotFound", "No instances found for any event")
	if r := sc.req("POST", "/v2.1/os-server-external-events", sc.alice, map[string]any{"events": []any{ev(id)}}); r.status != 403 {
		t.Fatalf("member: %d", r.status)
	}
	if r := sc.req("POST", "/v2.1/os-server-external-events", sc.admin, map[string]any{"events": []any{
		map[string]any{"name": "power-update", "server_uuid": id}}}, "mv", "2.93"); r.status != 400 {
		t.Fatalf("power-update: %d", r.status)
	}
	in, _ := json.Marshal([]tempestCase{{"events", "v2_1.server_external_events", "create", 200, body}})
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

// migrate and os-migrateLive: Nova's 404/403/409 checks, then 202 and a
// NoValidHost fault (kumo moves no instance between hosts); the server
// stays ACTIVE on its host.
func TestMigrateActions(t *testing.T) {
	sc := newSimCloud(t, 2)
	id := sc.boot(sc.alice, "mg", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	missing := newUUID()
	sc.fault(sc.req("POST", "/v2.1/servers/"+missing+"/action", sc.admin, map[string]any{"migrate": nil}), 404, "itemNotFound",
		"Instance "+missing+" could not be found.")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"migrate": nil}), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed.")
	sc.action(202, sc.admin, id, map[string]any{"migrate": nil})
	sc.action(202, sc.admin, id, map[string]any{"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}}, "mv", "2.30")
	srv := sc.waitStatus(sc.admin, id, "ACTIVE", 10*time.Second)
	if srv["OS-EXT-SRV-ATTR:host"] == "" {
		t.Fatalf("host %v", srv)
	}
	r := sc.must(200, "GET", "/v2.1/servers/"+id+"/os-instance-actions", sc.admin, nil)
	acts := map[string]string{}
	for _, a := range r.json["instanceActions"].([]any) {
		m := a.(map[string]any)
		acts[m["action"].(string)] = m["request_id"].(string)
	}
	if acts["migrate"] == "" || acts["live-migration"] == "" {
		t.Fatalf("actions %s", r.raw)
	}
	r = sc.must(200, "GET", "/v2.1/servers/"+id+"/os-instance-actions/"+acts["migrate"], sc.admin, nil, "mv", "2.51")
	evs := r.json["instanceAction"].(map[string]any)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["event"] != "conductor_migrate_server" || evs[0].(map[string]any)["result"] != "Error" {
		t.Fatalf("migrate events %s", r.raw)
	}
	sc.action(202, sc.alice, id, map[string]any{"os-stop": nil})
	sc.waitStatus(sc.alice, id, "SHUTOFF", 10*time.Second)
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.admin, map[string]any{"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}}, "mv", "2.30"),
		409, "conflictingRequest", "Cannot 'live-migration' instance "+id+" while it is in vm_state stopped")
}

// createBackup: Nova's schema (rotation a non-negative integer), 202 with
// the image's Location before 2.45 and image_id from 2.45, a snapshot
// image marked as a backup of the server; rotation 0 takes none.
func TestCreateBackupAction(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "bk", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	for _, bad := range []map[string]any{{"name": "b", "backup_type": "daily", "rotation": -1},
		{"name": "b", "backup_type": "daily"}, {"name": "b", "rotation": 1, "backup_type": "daily", "x": 1}} {
		if r := sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"createBackup": bad}); r.status != 400 {
			t.Fatalf("%v: %d %s", bad, r.status, r.raw)
		}
	}
	r := sc.action(202, sc.alice, id, map[string]any{"createBackup": map[string]any{"name": "b1", "backup_type": "daily", "rotation": 2}})
	loc := r.header.Get("Location")
	img := sc.images.get(loc[strings.LastIndex(loc, "/")+1:])
	if img == nil || img.name != "b1" || img.props["image_type"] != "backup" || img.props["backup_type"] != "daily" || img.props["instance_uuid"] != id {
		t.Fatalf("backup image at %q: %+v", loc, img)
	}
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	r = sc.action(202, sc.alice, id, map[string]any{"createBackup": map[string]any{"name": "b2", "backup_type": "daily", "rotation": "1"}}, "mv", "2.45")
	if sc.images.get(str(r.json, "image_id")) == nil {
		t.Fatalf("2.45 answer %s", r.raw)
	}
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	count := func() int { sc.images.mu.Lock(); defer sc.images.mu.Unlock(); return len(sc.images.images) }
	n := count()
	r = sc.action(202, sc.alice, id, map[string]any{"createBackup": map[string]any{"name": "b3", "backup_type": "daily", "rotation": 0}})
	if count() != n || r.header.Get("Location") != "" {
		t.Fatalf("rotation 0 made an image")
	}
}

// shelve/unshelve/shelveOffload: Nova's checks (404, 409 for the wrong
// vm_state), then the shelve (api_servers_shelve_test.go has the rest).
func TestShelveActionsChecks(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "sh", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	missing := newUUID()
	for _, a := range []string{"shelve", "unshelve"} {
		sc.fault(sc.req("POST", "/v2.1/servers/"+missing+"/action", sc.alice, map[string]any{a: nil}), 404, "itemNotFound",
			"Instance "+missing+" could not be found.")
	}
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": nil}), 409, "conflictingRequest",
		"Cannot 'unshelve' instance "+id+" while it is in vm_state active")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.admin, map[string]any{"shelveOffload": nil}), 409, "conflictingRequest",
		"Cannot 'shelve_offload' instance "+id+" while it is in vm_state active")
	sc.action(202, sc.alice, id, map[string]any{"shelve": nil})
	sc.waitStatus(sc.alice, id, "SHELVED_OFFLOADED", 10*time.Second)
}
