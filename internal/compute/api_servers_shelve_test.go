package compute

import (
	"context"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/manager"
)

// FindImages makes the test catalogue an imageFinder (the image service
// lists snapshots by property for unshelve).
func (ic *imageCatalog) FindImages(ctx context.Context, project string, props map[string]string) ([]map[string]any, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	var out []map[string]any
	for _, im := range ic.images {
		if im.owner != project {
			continue
		}
		match := true
		for k, v := range props {
			match = match && im.props[k] == v
		}
		if match {
			m := map[string]any{"id": im.id, "name": im.name}
			for k, v := range im.props {
				m[k] = v
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// imageNamed returns the catalogue's image named name, or nil.
func (ic *imageCatalog) imageNamed(name string) *catalogImage {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	for _, im := range ic.images {
		if im.name == name {
			c := *im
			return &c
		}
	}
	return nil
}

func (sc *simCloud) actionNames(id string) []string {
	sc.t.Helper()
	r := sc.must(200, "GET", "/v2.1/servers/"+id+"/os-instance-actions", sc.alice, nil)
	var names []string
	for _, a := range r.json["instanceActions"].([]any) {
		names = append(names, a.(map[string]any)["action"].(string))
	}
	return names
}

// TestShelveUnshelveAPI: shelve answers 202 and the server ends
// SHELVED_OFFLOADED with no host, no allocation and no guest, beside an
// active image "<name>-shelved" carrying Nova's properties; the wrong
// states are Nova's 409s; unshelve's 400s and 403 by microversion; an
// unshelve schedules again, claims, boots and deletes the image.
func TestShelveUnshelveAPI(t *testing.T) {
	sc := newSimCloud(t, 1)
	ctx := context.Background()
	id := sc.boot(sc.alice, "shv", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	act := func(want int, token string, body any, mv string) resp {
		return sc.action(want, token, id, body, "mv", mv)
	}
	// Before shelving: the states Nova refuses.
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": nil}), 409, "conflictingRequest",
		"Cannot 'unshelve' instance "+id+" while it is in vm_state active")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.admin, map[string]any{"shelveOffload": nil}), 409, "conflictingRequest",
		"Cannot 'shelve_offload' instance "+id+" while it is in vm_state active")

	act(202, sc.alice, map[string]any{"shelve": nil}, "2.1")
	srv := sc.waitStatus(sc.admin, id, "SHELVED_OFFLOADED", 10*time.Second)
	if srv["OS-EXT-SRV-ATTR:host"] != nil || srv["OS-EXT-SRV-ATTR:hypervisor_hostname"] != nil ||
		srv["OS-EXT-STS:power_state"] != float64(4) || srv["OS-EXT-STS:vm_state"] != "shelved_offloaded" {
		t.Fatalf("offloaded server: host %v node %v power %v vm %v", srv["OS-EXT-SRV-ATTR:host"],
			srv["OS-EXT-SRV-ATTR:hypervisor_hostname"], srv["OS-EXT-STS:power_state"], srv["OS-EXT-STS:vm_state"])
	}
	img := sc.images.imageNamed("shv-shelved")
	if img == nil || img.status != "active" || img.props["instance_uuid"] != id || img.props["image_type"] != "snapshot" ||
		img.props["base_image_ref"] != sc.imageID || img.owner != sc.projA {
		t.Fatalf("shelved image %+v", img)
	}
	// As Nova's, the claim is released just after the state is saved.
	for i := 0; ; i++ {
		if _, err := sc.p.Allocations(ctx, id); err != nil {
			break
		}
		if i == 200 {
			t.Fatal("an offloaded server still holds an allocation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, d := range sc.drivers {
		if _, ok := d.Spec(id); ok {
			t.Fatal("an offloaded server still has a guest")
		}
	}
	if a := sc.actionNames(id); !contains(a, "shelve") {
		t.Fatalf("actions %q", a)
	}
	// Offloaded: shelve, shelveOffload and diagnostics refuse.
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"shelve": nil}), 409, "conflictingRequest",
		"Cannot 'shelve' instance "+id+" while it is in vm_state shelved_offloaded")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.admin, map[string]any{"shelveOffload": nil}), 409, "conflictingRequest",
		"Cannot 'shelve_offload' instance "+id+" while it is in vm_state shelved_offloaded")
	sc.fault(sc.req("GET", "/v2.1/servers/"+id+"/diagnostics", sc.admin, nil), 409, "conflictingRequest",
		"Instance "+id+" is not ready")

	// Unshelve's body by microversion.
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": map[string]any{"availability_zone": "nowhere"}}, "mv", "2.77"),
		400, "badRequest", "The requested availability zone is not available")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": map[string]any{"flavor": "x"}}, "mv", "2.77"),
		400, "badRequest", "")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": map[string]any{"host": "h"}}, "mv", "2.90"),
		400, "badRequest", "")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": map[string]any{"host": "nohost"}}, "mv", "2.91"),
		403, "forbidden", "Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.admin, map[string]any{"unshelve": map[string]any{"host": "nohost"}}, "mv", "2.91"),
		400, "badRequest", "Compute host nohost could not be found.")
	// Before 2.77 the body is not looked at.
	act(202, sc.alice, map[string]any{"unshelve": map[string]any{"anything": 1}}, "2.1")
	srv = sc.waitStatus(sc.admin, id, "ACTIVE", 10*time.Second)
	if srv["OS-EXT-SRV-ATTR:host"] == nil || srv["OS-EXT-STS:power_state"] != float64(1) {
		t.Fatalf("unshelved server: host %v power %v", srv["OS-EXT-SRV-ATTR:host"], srv["OS-EXT-STS:power_state"])
	}
	if _, err := sc.p.Allocations(ctx, id); err != nil {
		t.Fatalf("unshelved server has no allocation: %v", err)
	}
	// The image goes right after the instance turns active.
	for deadline := time.Now().Add(10 * time.Second); sc.images.get(img.id) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the shelved image outlived the unshelve")
		}
	}
	if a := sc.actionNames(id); !contains(a, "unshelve") {
		t.Fatalf("actions %q", a)
	}
	// An active server with an availability zone in the unshelve: still
	// the vm_state 409.
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": nil}, "mv", "2.91"), 409, "conflictingRequest",
		"Cannot 'unshelve' instance "+id+" while it is in vm_state active")
}

// TestUnshelveKeepsAffinity: an unshelved member of an affinity group
// goes back to its group's host, though the spread weigher alone would
// choose the empty one.
func TestUnshelveKeepsAffinity(t *testing.T) {
	sc := newSimCloud(t, 2)
	g := sc.must(200, "POST", "/v2.1/os-server-groups", sc.alice,
		map[string]any{"server_group": map[string]any{"name": "aff", "policies": []string{"affinity"}}})
	gid := str(g.json, "server_group", "id")
	boot := func(name string) string {
		r := sc.must(202, "POST", "/v2.1/servers", sc.alice, map[string]any{
			"server":             map[string]any{"name": name, "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"},
			"os:scheduler_hints": map[string]any{"group": gid}}, "mv", "2.37")
		id := str(r.json, "server", "id")
		sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
		return id
	}
	a, b := boot("a"), boot("b")
	host := func(id string) string {
		return str(sc.must(200, "GET", "/v2.1/servers/"+id, sc.admin, nil).json, "server", "OS-EXT-SRV-ATTR:host")
	}
	h := host(a)
	if host(b) != h {
		t.Fatalf("affinity members on %s and %s", h, host(b))
	}
	sc.action(202, sc.alice, b, map[string]any{"shelve": nil})
	sc.waitStatus(sc.alice, b, "SHELVED_OFFLOADED", 10*time.Second)
	sc.action(202, sc.alice, b, map[string]any{"unshelve": nil})
	sc.waitStatus(sc.alice, b, "ACTIVE", 10*time.Second)
	if got := host(b); got != h {
		t.Fatalf("unshelved affinity member on %s, group on %s", got, h)
	}
}

// TestUnshelveOfShelvedServer: with shelved_offload_time -1 a shelved
// server keeps its host and guest; unshelve with an availability zone is
// Nova's 409 for a server not offloaded; shelveOffload offloads it (admin
// only).
func TestUnshelveOfShelvedServer(t *testing.T) {
	sc := newSimCloud(t, 1)
	for name, m := range sc.mgrs {
		_ = m.Close(context.Background())
		nm := manager.New(sc.drivers[name], sc.svc.InstanceStore(), sc.images, sc.svc.compute.Claims,
			manager.Config{Host: name, ShutdownTimeout: time.Second, SnapshotDir: sc.dir, ShelvedOffloadTime: -1})
		sc.mgrs[name] = nm
		sc.svc.compute.Hosts[name] = ComputeHost{Manager: nm, Driver: sc.drivers[name]}
	}
	id := sc.boot(sc.alice, "keep", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	sc.action(202, sc.alice, id, map[string]any{"shelve": nil})
	srv := sc.waitStatus(sc.admin, id, "SHELVED", 10*time.Second)
	if srv["OS-EXT-SRV-ATTR:host"] == nil || srv["OS-EXT-STS:power_state"] != float64(4) {
		t.Fatalf("shelved server: host %v power %v", srv["OS-EXT-SRV-ATTR:host"], srv["OS-EXT-STS:power_state"])
	}
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": map[string]any{"availability_zone": "nova"}}, "mv", "2.77"),
		409, "conflictingRequest", "Specifying an availability zone or a host when unshelving server "+id+
			" with status shelved is not supported. The server status must be SHELVED_OFFLOADED.")
	sc.fault(sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"shelveOffload": nil}), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed.")
	sc.action(202, sc.admin, id, map[string]any{"shelveOffload": nil})
	sc.waitStatus(sc.alice, id, "SHELVED_OFFLOADED", 10*time.Second)
	if a := sc.actionNames(id); !contains(a, "shelveOffload") {
		t.Fatalf("actions %q", a)
	}
	// Locked: Nova's 409 before anything else.
	sc.action(202, sc.admin, id, map[string]any{"lock": nil})
	r := sc.req("POST", "/v2.1/servers/"+id+"/action", sc.alice, map[string]any{"unshelve": nil})
	if r.status != 409 || !strings.Contains(string(r.raw), "locked") {
		t.Fatalf("unshelve of a locked server: %d %s", r.status, r.raw)
	}
}
