package manager

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"kumo/internal/compute/configdrive"
	"kumo/internal/compute/virt"
)

// TestQEMUShelveUnshelve shelves a real guest (the test guest image, TCG)
// and unshelves it: offloaded, no QEMU and no instance directory are left
// and the claim is released; the snapshot is a real image the unshelved
// guest boots from, and its boot counter (kept on its disk) says boot=2,
// so the disk's state went through the image. The driver's diagnostics
// of the running guest are real QMP and /proc figures.
func TestQEMUShelveUnshelve(t *testing.T) {
	drv, imgPath, stateDir := newTestQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	store, images, claims := newMemStore(), newMemImages(), &memClaims{}
	data, err := os.ReadFile(imgPath)
	if err != nil {
		t.Fatal(err)
	}
	images.addQCOW2("guest", data)
	m := New(drv, store, images, claims, Config{Host: testHost, ShutdownTimeout: 30 * time.Second,
		SnapshotDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer m.Close(context.Background())

	const id = "6e57c0de-0000-4000-8000-0000000000b8"
	store.add(State{UUID: id, ProjectID: "p1", VMState: VMBuilding, TaskState: TaskScheduling})
	wait := func(what string, start time.Time) {
		t.Helper()
		if err := m.Wait(ctx, id); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		st := store.get(id)
		t.Logf("%-9s %-30s %v", what, st.st.VMState+"/"+StatusOf(st.st.VMState, st.st.TaskState),
			time.Since(start).Round(time.Millisecond))
		if len(st.faults) > 0 {
			t.Fatalf("%s: fault %+v", what, st.faults)
		}
	}
	ready := regexp.MustCompile(`KUMO-GUEST-READY instance-id=` + id + ` hostname=kumo-shelve boot=(\d+) `)
	waitBoot := func() string {
		t.Helper()
		start := time.Now()
		for deadline := start.Add(90 * time.Second); ; {
			out, err := drv.ConsoleOutput(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ms := ready.FindAllStringSubmatch(out, -1); len(ms) > 0 {
				t.Logf("READY boot=%s after %v", ms[len(ms)-1][1], time.Since(start).Round(time.Millisecond))
				return ms[len(ms)-1][1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no READY marker within 90s:\n%s", out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	spec := virt.InstanceSpec{UUID: id, Name: "instance-000000b8", VCPUs: 1, MemoryMB: 128}
	cd := func(context.Context) ([]byte, error) {
		return configdrive.Build(configdrive.Metadata{UUID: id, Name: "vm-shelve", Hostname: "kumo-shelve",
			ProjectID: "p1", Now: time.Now()})
	}
	start := time.Now()
	if err := m.Build(ctx, BuildRequest{RequestID: "req-1", ProjectID: "p1", ImageID: "guest", Spec: spec,
		ConfigDrive: cd}); err != nil {
		t.Fatal(err)
	}
	wait("build", start)
	if b := waitBoot(); b != "1" {
		t.Fatalf("first boot says boot=%s", b)
	}

	// Diagnostics of the running guest.
	dg, err := drv.Diagnostics(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("diagnostics: state %v driver %s hypervisor %s uptime %v cpus %d disks %d", dg.State, dg.Driver,
		dg.Hypervisor, deref(dg.Uptime), len(dg.CPUs), len(dg.Disks))
	if dg.State != virt.Running || dg.Driver != "libvirt" || dg.Hypervisor != "qemu" || !dg.ConfigDrive ||
		deref(dg.MemoryMaxMB) != 128 || dg.Uptime == nil || len(dg.CPUs) != 1 || len(dg.NICs) != 0 {
		t.Fatalf("diagnostics %+v", dg)
	}
	if dg.CPUs[0].Time == nil || *dg.CPUs[0].Time <= 0 {
		t.Fatalf("vCPU time %v: the guest booted, so its vCPU thread ran", dg.CPUs[0].Time)
	}
	// Root disk and config drive; the guest read both while booting.
	if len(dg.Disks) != 2 || deref(dg.Disks[0].ReadBytes) <= 0 || deref(dg.Disks[0].ReadRequests) <= 0 ||
		deref(dg.Disks[1].ReadBytes) <= 0 || dg.Disks[0].Name != "vda" {
		t.Fatalf("disks %+v", dg.Disks)
	}

	start = time.Now()
	if err := m.Shelve(ctx, ShelveRequest{UUID: id, RequestID: "req-2", ProjectID: "p1", ImageID: "shelved"}); err != nil {
		t.Fatal(err)
	}
	wait("shelve", start)
	st := store.get(id)
	if st.st.VMState != VMShelvedOffloaded || st.st.PowerState != virt.Shutdown || st.st.Host != "" {
		t.Fatalf("after shelve %+v", st.st)
	}
	if ids, _ := drv.Instances(ctx); len(ids) != 0 {
		t.Fatalf("driver still holds %q", ids)
	}
	if ents, _ := os.ReadDir(filepath.Join(stateDir, "instances")); len(ents) != 0 {
		t.Fatalf("instance files left: %v", ents)
	}
	if out, _ := exec.Command("pgrep", "-f", "-uuid "+id).Output(); len(out) != 0 {
		t.Fatalf("QEMU still running: %s", out)
	}
	if c := claims.list(); !slices.Equal(c, []string{"release:" + id}) {
		t.Fatalf("claims %q", c)
	}
	images.mu.Lock()
	snap := images.uploaded["shelved"]
	images.mu.Unlock()
	if !bytes.HasPrefix(snap, []byte("QFI\xfb")) {
		t.Fatalf("shelved image is not qcow2 (%d bytes)", len(snap))
	}
	t.Logf("shelved image: %d bytes", len(snap))
	images.addQCOW2("shelved", snap)

	start = time.Now()
	if err := m.Unshelve(ctx, UnshelveRequest{RequestID: "req-3", ProjectID: "p1", ImageID: "shelved", Spec: spec,
		ConfigDrive: cd}); err != nil {
		t.Fatal(err)
	}
	wait("unshelve", start)
	if st := store.get(id).st; st.VMState != VMActive || st.PowerState != virt.Running || st.Host != testHost {
		t.Fatalf("after unshelve %+v", st)
	}
	if b := waitBoot(); b != "2" {
		t.Fatalf("unshelved guest says boot=%s, want 2 (its disk's counter from before the shelve)", b)
	}
	if !slices.Contains(images.deleted, "shelved") {
		t.Fatalf("shelved image not deleted: %q", images.deleted)
	}
	if got := store.get(id).eventList(); !slices.Equal(got, []string{"compute__do_build_and_run_instance:Success",
		"compute_shelve_instance:Success", "compute_shelve_offload_instance:Success", "compute_unshelve_instance:Success"}) {
		t.Fatalf("events %q", got)
	}

	start = time.Now()
	if err := m.Delete(ctx, id, "req-4"); err != nil {
		t.Fatal(err)
	}
	wait("delete", start)
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}
