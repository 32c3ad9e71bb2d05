package compute

import (
	"context"
	"testing"
	"time"

	"kumo/internal/compute/manager"
)

func (sc *simCloud) sysmeta(id string) map[string]string {
	sc.t.Helper()
	m, err := sc.svc.instances().systemMetadata(context.Background(), id)
	if err != nil {
		sc.t.Fatal(err)
	}
	return m
}

func (sc *simCloud) sysmetaRows(id string) int {
	sc.t.Helper()
	var n int
	if err := sc.db.R.QueryRow(`SELECT COUNT(*) FROM instance_system_metadata WHERE instance_uuid = ?`, id).Scan(&n); err != nil {
		sc.t.Fatal(err)
	}
	return n
}

// TestShelveSystemMetadata: shelving records Nova's shelved_at,
// shelved_image_id and shelved_host; unshelve takes the image from
// shelved_image_id (the image renamed so the name no longer finds it) and
// drops the keys; unshelving an offloaded server is refused with Nova's
// 403 while its cores do not fit the project's limit (an offloaded server
// holds none), and allowed once they do.
func TestShelveSystemMetadata(t *testing.T) {
	sc := newSimCloud(t, 1, func(c *Config) {
		c.Limits = fixedLimits{resServers: 5, resVCPU: 1, resMemoryMB: 10240, resDiskGB: 100}
	})
	a := sc.boot(sc.alice, "a", nil)
	srv := sc.waitStatus(sc.admin, a, "ACTIVE", 10*time.Second)
	host := srv["OS-EXT-SRV-ATTR:host"].(string)
	sc.action(202, sc.alice, a, map[string]any{"shelve": nil})
	sc.waitStatus(sc.alice, a, "SHELVED_OFFLOADED", 10*time.Second)
	img := sc.images.imageNamed("a-shelved")
	if img == nil {
		t.Fatal("no shelved image")
	}
	sys := sc.sysmeta(a)
	if sys[manager.SysShelvedImageID] != img.id || sys[manager.SysShelvedHost] != host {
		t.Fatalf("system metadata %v, image %s host %s", sys, img.id, host)
	}
	if at, err := time.Parse("2006-01-02T15:04:05.000000", sys[manager.SysShelvedAt]); err != nil ||
		time.Since(at) > time.Minute || time.Since(at) < 0 {
		t.Fatalf("shelved_at %q: %v", sys[manager.SysShelvedAt], err)
	}

	// The offloaded server's core is free: another server takes it, and
	// the unshelve is over the limit.
	b := sc.boot(sc.alice, "b", nil)
	sc.waitStatus(sc.alice, b, "ACTIVE", 10*time.Second)
	sc.fault(sc.req("POST", "/v2.1/servers/"+a+"/action", sc.alice, map[string]any{"unshelve": nil}), 403, "forbidden",
		"Project "+sc.projA+" is over a limit for [Resource class:VCPU is over limit of 1 due to current usage 1 and delta 1]")
	srv = sc.must(200, "GET", "/v2.1/servers/"+a, sc.admin, nil).json["server"].(map[string]any)
	if srv["OS-EXT-STS:vm_state"] != "shelved_offloaded" || srv["OS-EXT-STS:task_state"] != nil {
		t.Fatalf("refused unshelve left vm %v task %v", srv["OS-EXT-STS:vm_state"], srv["OS-EXT-STS:task_state"])
	}
	sc.must(204, "DELETE", "/v2.1/servers/"+b, sc.alice, nil)
	sc.waitGone(sc.alice, b, 10*time.Second)

	sc.images.mu.Lock()
	sc.images.images[img.id].name = "renamed"
	sc.images.mu.Unlock()
	sc.action(202, sc.alice, a, map[string]any{"unshelve": nil})
	sc.waitStatus(sc.alice, a, "ACTIVE", 10*time.Second)
	// The image and the keys go right after the instance turns active.
	deadline := time.Now().Add(10 * time.Second)
	for sc.images.get(img.id) != nil || len(sc.sysmeta(a)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after unshelve: image left %v, system metadata %v", sc.images.get(img.id) != nil, sc.sysmeta(a))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeleteShelvedServerDeletesImage: deleting a shelved_offloaded
// server (no host: the API's local delete) and a shelved one (on its
// host, shelved_offload_time -1) deletes each one's shelved image and its
// system metadata, as Nova.
func TestDeleteShelvedServerDeletesImage(t *testing.T) {
	sc := newSimCloud(t, 1)
	off := sc.boot(sc.alice, "off", nil)
	sc.waitStatus(sc.alice, off, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, off, map[string]any{"shelve": nil})
	sc.waitStatus(sc.alice, off, "SHELVED_OFFLOADED", 10*time.Second)
	offImg := sc.sysmeta(off)[manager.SysShelvedImageID]
	if offImg == "" || sc.images.get(offImg) == nil {
		t.Fatalf("shelved image %q missing", offImg)
	}
	sc.must(204, "DELETE", "/v2.1/servers/"+off, sc.alice, nil)
	sc.waitGone(sc.alice, off, 10*time.Second)
	if sc.images.get(offImg) != nil {
		t.Fatal("the shelved image outlived its offloaded server")
	}
	if n := sc.sysmetaRows(off); n != 0 {
		t.Fatalf("%d system metadata rows outlived their server", n)
	}

	for name, m := range sc.mgrs {
		_ = m.Close(context.Background())
		nm := manager.New(sc.drivers[name], sc.svc.InstanceStore(), sc.images, sc.svc.compute.Claims,
			manager.Config{Host: name, ShutdownTimeout: time.Second, SnapshotDir: sc.dir, ShelvedOffloadTime: -1})
		sc.mgrs[name] = nm
		sc.svc.compute.Hosts[name] = ComputeHost{Manager: nm, Driver: sc.drivers[name]}
	}
	kept := sc.boot(sc.alice, "kept", nil)
	sc.waitStatus(sc.alice, kept, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, kept, map[string]any{"shelve": nil})
	sc.waitStatus(sc.alice, kept, "SHELVED", 10*time.Second)
	keptImg := sc.sysmeta(kept)[manager.SysShelvedImageID]
	if keptImg == "" || sc.images.get(keptImg) == nil {
		t.Fatalf("shelved image %q missing", keptImg)
	}
	sc.must(204, "DELETE", "/v2.1/servers/"+kept, sc.alice, nil)
	sc.waitGone(sc.alice, kept, 10*time.Second)
	if sc.images.get(keptImg) != nil {
		t.Fatal("the shelved image outlived its shelved server")
	}
	if n := sc.sysmetaRows(kept); n != 0 {
		t.Fatalf("%d system metadata rows outlived their server", n)
	}
}

// TestReconcileUnshelveCutShort: an offloaded server left unshelving by a
// restart during scheduling (no host yet) is put back to
// shelved_offloaded with no task by a host's reconciliation, and can be
// unshelved again.
func TestReconcileUnshelveCutShort(t *testing.T) {
	sc := newSimCloud(t, 2)
	ctx := context.Background()
	id := sc.boot(sc.alice, "cut", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"shelve": nil})
	sc.waitStatus(sc.alice, id, "SHELVED_OFFLOADED", 10*time.Second)
	task := manager.TaskUnshelving
	if err := sc.svc.instances().Update(ctx, id, manager.Update{TaskState: &task, Expected: []string{manager.TaskNone}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range sc.mgrs {
		if err := m.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sc.svc.instances().Instance(ctx, id)
	if err != nil || st.VMState != manager.VMShelvedOffloaded || st.TaskState != manager.TaskNone || st.Host != "" {
		t.Fatalf("after reconcile: %+v %v", st, err)
	}
	sc.action(202, sc.alice, id, map[string]any{"unshelve": nil})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
}
