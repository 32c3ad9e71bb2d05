package manager

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/configdrive"
	"kumo/internal/compute/qemu"
	"kumo/internal/compute/virt"
)

// TestQEMULifecycle drives a real QEMU guest (the test guest image, TCG)
// through the manager: build → ACTIVE with the guest's READY marker on the
// console, stop → SHUTOFF, start → ACTIVE and booted again, delete →
// nothing left, neither in the driver nor on disk.
func TestQEMULifecycle(t *testing.T) {
	drv, imgPath, stateDir := newTestQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
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

	const id = "6e57c0de-0000-4000-8000-0000000000a7"
	store.add(State{UUID: id, ProjectID: "p1", VMState: VMBuilding, TaskState: TaskScheduling})
	wait := func(what string, start time.Time) {
		t.Helper()
		if err := m.Wait(ctx, id); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		st := store.get(id)
		t.Logf("%-8s %-22s %v", what, st.st.VMState+"/"+StatusOf(st.st.VMState, st.st.TaskState),
			time.Since(start).Round(time.Millisecond))
		if len(st.faults) > 0 {
			t.Fatalf("%s: fault %+v", what, st.faults)
		}
	}
	// The guest read its identity from the config drive.
	ready := regexp.MustCompile(`KUMO-GUEST-READY instance-id=` + id + ` hostname=kumo-manager boot=\d+ [^\n]*uptime=[0-9.]+\n`)
	waitReady := func(n int) {
		t.Helper()
		start := time.Now()
		for deadline := start.Add(90 * time.Second); ; {
			out, err := drv.ConsoleOutput(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if ms := ready.FindAllStringSubmatch(out, -1); len(ms) >= n {
				t.Logf("READY #%d after %v: %s", n, time.Since(start).Round(time.Millisecond),
					strings.TrimSpace(ms[len(ms)-1][0]))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no READY marker #%d within 90s:\n%s", n, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	start := time.Now()
	spec := virt.InstanceSpec{UUID: id, Name: "instance-000000a7", VCPUs: 1, MemoryMB: 128}
	// The config drive comes from the real builder, as the API will wire it.
	cd := func(context.Context) ([]byte, error) {
		return configdrive.Build(configdrive.Metadata{UUID: id, Name: "vm1", Hostname: "kumo-manager",
			ProjectID: "p1", Now: time.Now()})
	}
	if err := m.Build(ctx, BuildRequest{RequestID: "req-1", ProjectID: "p1", ImageID: "guest", Spec: spec,
		ConfigDrive: cd}); err != nil {
		t.Fatal(err)
	}
	wait("build", start)
	if st := store.get(id).st; st.VMState != VMActive || st.PowerState != virt.Running {
		t.Fatalf("after build %+v", st)
	}
	waitReady(1)

	start = time.Now()
	if err := m.Stop(ctx, id, "req-2"); err != nil {
		t.Fatal(err)
	}
	wait("stop", start)
	if st := store.get(id).st; st.VMState != VMStopped || st.PowerState != virt.Shutdown {
		t.Fatalf("after stop %+v", st)
	}

	start = time.Now()
	if err := m.Start(ctx, id, "req-3"); err != nil {
		t.Fatal(err)
	}
	wait("start", start)
	if st := store.get(id).st; st.VMState != VMActive || st.PowerState != virt.Running {
		t.Fatalf("after start %+v", st)
	}
	waitReady(2)

	start = time.Now()
	if err := m.Delete(ctx, id, "req-4"); err != nil {
		t.Fatal(err)
	}
	wait("delete", start)
	if !store.get(id).deleted {
		t.Fatal("not deleted")
	}
	if ids, _ := drv.Instances(ctx); len(ids) != 0 {
		t.Fatalf("driver still holds %q", ids)
	}
	if ents, _ := os.ReadDir(filepath.Join(stateDir, "instances")); len(ents) != 0 {
		t.Fatalf("instance files left: %v", ents)
	}
}

// testGuestImage is $KUMO_GUEST_IMAGE or build/guest/kumo-test.qcow2 at
// the repository root; missing, it fails under KUMO_REQUIRE_TOOLS=1.
func testGuestImage(t *testing.T) string {
	t.Helper()
	p := os.Getenv("KUMO_GUEST_IMAGE")
	if p == "" {
		dir, _ := os.Getwd()
		for dir != "/" {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			dir = filepath.Dir(dir)
		}
		p = filepath.Join(dir, "build", "guest", "kumo-test.qcow2")
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatalf("test guest image missing (KUMO_REQUIRE_TOOLS=1; make guest-image): %v", err)
		}
		t.Skipf("test guest image %s missing", p)
	}
	return p
}

// newTestQEMU gives a real QEMU driver (TCG) in a short temp dir (QMP
// socket paths are limited) and the test guest image's path; every guest
// it started is destroyed when the test ends. stateDir is the driver's. Without QEMU the test is
// skipped, or fails under KUMO_REQUIRE_TOOLS=1.
func newTestQEMU(t *testing.T) (drv *qemu.Driver, imgPath, stateDir string) {
	t.Helper()
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s is required (KUMO_REQUIRE_TOOLS=1): %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	imgPath = testGuestImage(t)
	dir, err := os.MkdirTemp("", "kmq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stateDir = filepath.Join(dir, "state")
	drv, err = qemu.New(qemu.Config{StateDir: stateDir, CacheDir: filepath.Join(dir, "cache"),
		Accel: "tcg", Log: quiet, ShutdownTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ids, _ := drv.Instances(context.Background())
		for _, id := range ids {
			drv.Destroy(context.Background(), id)
		}
		drv.Close()
	})
	return drv, imgPath, stateDir
}
