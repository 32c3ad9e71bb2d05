package qemu

import (
	"context"
	"errors"
	"os"
	"strings"

	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// A guest on a blank disk (sitting in SeaBIOS) runs as a daemonized QEMU
// in its own session, pauses and unpauses, and Destroy leaves nothing.
func TestSpawnBlankPauseDestroy(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const id = "0b1a4c00-0000-4000-8000-000000000001"
	spec := testSpec(id)
	spec.RootGB = 1
	spec.ConfigDrive = []byte("not really an iso, but bytes to attach")
	start := time.Now()
	if err := d.Spawn(ctx, spec, blankImage(t, "img-blank")); err != nil {
		t.Fatal(err)
	}
	t.Logf("spawn (blank disk): %v", time.Since(start))
	mustState(t, d, id, virt.Running)

	in := d.instance(id)
	for _, f := range []string{specFile, rootDisk, configDisk, qmpSock, consoleSock, vncSock, pidFile} {
		if _, err := os.Stat(in.path(f)); err != nil {
			t.Errorf("instance file %s: %v", f, err)
		}
	}
	pid, alive := in.pid()
	if !alive {
		t.Fatal("no live QEMU after spawn")
	}
	// Daemonized into its own session: kumo's exit or its terminal's
	// signals do not reach the guest.
	mySid := statField(os.Getpid(), 3)
	if sid := statField(pid, 3); sid == 0 || sid == mySid {
		t.Errorf("QEMU session %d, want another than ours (%d)", sid, mySid)
	}
	if ppid := statField(pid, 1); ppid == os.Getpid() {
		t.Errorf("QEMU is a child of the test process; it must be daemonized")
	}
	info, err := inspect(ctx, "qemu-img", in.path(rootDisk), "qcow2")
	if err != nil {
		t.Fatal(err)
	}
	if info.BackingFilename == "" || info.VirtualSize != gib {
		t.Errorf("root disk: backing %q size %d; want an overlay grown to 1 GiB", info.BackingFilename, info.VirtualSize)
	}
	r, _ := in.load()
	if !r.HasConfig || r.BaseFormat != "qcow2" {
		t.Errorf("record: %+v", r)
	}

	if err := d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Paused)
	if err := d.Unpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Running)

	// Hard reboot of a paused guest resets it and lets it run.
	if err := d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.Reboot(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Running)

	// SeaBIOS ignores the power button: PowerOff must fall back to a hard
	// stop after its timeout.
	start = time.Now()
	if err := d.PowerOff(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("PowerOff returned after %v, before its timeout", el)
	}
	mustState(t, d, id, virt.Shutdown)
	if qemuAlive(id) {
		t.Fatal("QEMU still alive after PowerOff")
	}
	if err := d.Pause(ctx, id); !IsNotRunning(err) {
		t.Errorf("pause of a stopped guest: %v", err)
	}
	if err := d.PowerOn(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Running)

	start = time.Now()
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("destroy: %v", time.Since(start))
	if qemuAlive(id) {
		t.Error("QEMU still alive after Destroy")
	}
	if _, err := os.Stat(in.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("instance dir after Destroy: %v", err)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if _, err := d.PowerState(ctx, id); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("PowerState after Destroy: %v, want ErrNotFound", err)
	}
	if err := d.PowerOn(ctx, id); !errors.Is(err, virt.ErrNotFound) {
		t.Errorf("PowerOn after Destroy: %v, want ErrNotFound", err)
	}
}

// A QEMU that refuses its command line fails the spawn with QEMU's own
// words, and leaves no process and no files; so does a missing tap, which
// is refused before QEMU starts (as root QEMU would create it, unattached).
func TestSpawnFailureLeavesNothing(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const id = "0b1a4c00-0000-4000-8000-000000000002"
	img := blankImage(t, "img-blank")
	checkNothingLeft := func(what string) {
		t.Helper()
		if qemuAlive(id) {
			t.Errorf("%s: QEMU left running", what)
		}
		if _, err := os.Stat(d.instance(id).dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: instance dir left: %v", what, err)
		}
		if ids, _ := d.Instances(ctx); len(ids) != 0 {
			t.Errorf("%s: instances left: %v", what, ids)
		}
	}

	d.cfg.TBSizeMB = -1 // QEMU refuses tb-size=-1 after reading its whole command line
	err := d.Spawn(ctx, testSpec(id), img)
	d.cfg.TBSizeMB = 32
	if err == nil {
		t.Fatal("spawn with a bad QEMU option succeeded")
	}
	t.Logf("spawn error: %v", err)
	if !strings.Contains(err.Error(), "tb-size") {
		t.Errorf("error does not carry QEMU's message: %v", err)
	}
	checkNothingLeft("bad option")

	spec := testSpec(id)
	spec.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:02", TapName: "kumo-notap0"}}
	err = d.Spawn(ctx, spec, img)
	if err == nil || !strings.Contains(err.Error(), "kumo-notap0") {
		t.Fatalf("spawn with a missing tap: %v", err)
	}
	checkNothingLeft("missing tap")
	if _, err := os.Stat("/sys/class/net/kumo-notap0"); err == nil {
		t.Error("a tap was created for the failed spawn")
	}

	// The spawn works once the option is right, on the cached base.
	if err := d.Spawn(ctx, testSpec(id), img); err != nil {
		t.Fatalf("spawn after failures: %v", err)
	}
	mustState(t, d, id, virt.Running)
}

// Suspend saves a running guest to a file and stops QEMU; Resume brings
// it back from that file.
func TestSuspendResumeBlank(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const id = "0b1a4c00-0000-4000-8000-000000000003"
	if err := d.Spawn(ctx, testSpec(id), blankImage(t, "img-blank")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := d.Suspend(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("suspend: %v", time.Since(start))
	mustState(t, d, id, virt.Suspended)
	if qemuAlive(id) {
		t.Fatal("QEMU alive after Suspend")
	}
	st, err := os.Stat(d.instance(id).path(suspendState))
	if err != nil || st.Size() == 0 {
		t.Fatalf("saved state: %v", err)
	}
	start = time.Now()
	if err := d.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("resume: %v", time.Since(start))
	mustState(t, d, id, virt.Running)
	if _, err := os.Stat(d.instance(id).path(suspendState)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("saved state left after Resume: %v", err)
	}
	if err := d.Resume(ctx, id); err == nil {
		t.Error("Resume of a running guest succeeded")
	}
}

// A save given up on (its caller's context ended) is cancelled and the
// guest runs on, instead of ending paused in postmigrate.
func TestAbandonedSaveLeavesGuestRunning(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const id = "0b1a4c00-0000-4000-8000-000000000004"
	if err := d.Spawn(ctx, testSpec(id), blankImage(t, "img-blank")); err != nil {
		t.Fatal(err)
	}
	m, err := d.running(ctx, d.instance(id))
	if err != nil {
		t.Fatal(err)
	}
	// Slow enough that the save is still going when it is abandoned.
	if err := m.SetMigrationBandwidth(ctx, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := m.Migrate(ctx, "exec:cat > /dev/null"); err != nil {
		t.Fatal(err)
	}
	mi, err := m.QueryMigrate(ctx)
	if err != nil || !migrating[mi.Status] {
		t.Fatalf("migration not under way: %+v %v", mi, err)
	}
	if err := abandonSave(ctx, m); err != nil {
		t.Fatal(err)
	}
	if mi, err = m.QueryMigrate(ctx); err != nil || mi.Status != "cancelled" {
		t.Fatalf("after abandonSave: migration %+v %v", mi, err)
	}
	mustState(t, d, id, virt.Running)

	// A save that completed just as it was given up on leaves QEMU
	// stopped in postmigrate: abandonSave lets the guest run again.
	if err := m.SetMigrationBandwidth(ctx, 1<<40); err != nil {
		t.Fatal(err)
	}
	if err := m.Migrate(ctx, "exec:cat > /dev/null"); err != nil {
		t.Fatal(err)
	}
	if err := waitMigrated(ctx, m.QueryMigrate); err != nil {
		t.Fatal(err)
	}
	if st, err := m.QueryStatus(ctx); err != nil || st.Running {
		t.Fatalf("after a completed save: %+v %v", st, err)
	}
	if err := abandonSave(ctx, m); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Running)
}
