package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/qemu/qmp"
	"kumo/internal/compute/virt"
)

// TestGuestLifecycle walks one real guest (the kumo test image, TCG)
// through every action, reading the guest's own console markers to prove
// each one really happened inside the guest. One boot for many actions
// keeps the test under a few minutes on a 2-core machine.
func TestGuestLifecycle(t *testing.T) {
	d := newTestDriver(t)
	requireTools(t, "genisoimage")
	imgPath := guestImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const id = "6e57c0de-0000-4000-8000-00000000000a"
	const boot = 60 * time.Second
	img := fileImage(t, "img-guest", imgPath, "qcow2", nil)
	timed := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%-28s %v", what+":", time.Since(start).Round(time.Millisecond))
	}
	ready := func(what string, n int) string {
		t.Helper()
		start := time.Now()
		line := waitReady(t, d, id, n, boot)
		t.Logf("%-28s %v  %s", what+" -> READY:", time.Since(start).Round(time.Millisecond), line)
		return line
	}

	spec := testSpec(id)
	spec.ConfigDrive = configDrive(t, id, "kumo-lifecycle")
	timed("spawn", func() error { return d.Spawn(ctx, spec, img) })
	line := ready("boot", 0)
	if field(line, "boot") != "1" || field(line, "mem_kb") == "" {
		t.Fatalf("first boot: %s", line)
	}
	// The guest found the config drive (virtio, read-only) and read it.
	if field(line, "instance-id") != id || field(line, "hostname") != "kumo-lifecycle" {
		t.Fatalf("config drive not seen by the guest: %s", line)
	}
	mem128, _ := strconv.Atoi(field(line, "mem_kb"))

	// Soft reboot: ACPI shutdown, then a new QEMU on the same disk.
	timed("soft reboot", func() error { return d.Reboot(ctx, id, false) })
	if line = ready("soft reboot", 1); field(line, "boot") != "2" {
		t.Fatalf("after soft reboot: %s", line)
	}

	// Power off is a clean guest shutdown, power on boots the same disk.
	timed("power off", func() error { return d.PowerOff(ctx, id, 30*time.Second) })
	waitConsole(t, d, id, regexp.MustCompile(`KUMO-GUEST-POWEROFF`), 1, time.Second)
	mustState(t, d, id, virt.Shutdown)
	timed("power on", func() error { return d.PowerOn(ctx, id) })
	if line = ready("power on", 2); field(line, "boot") != "3" {
		t.Fatalf("after power on: %s", line)
	}

	// Suspend and resume keep the same boot: no new READY line, and the
	// guest answers on its console afterwards.
	timed("suspend", func() error { return d.Suspend(ctx, id) })
	mustState(t, d, id, virt.Suspended)
	timed("resume", func() error { return d.Resume(ctx, id) })
	mustState(t, d, id, virt.Running)
	// The restored guest runs where it left off: a shell on its serial
	// console computes, and no new boot happened.
	consoleShell(t, d, id, "$((6*7))", "42")
	if n := len(readyRE.FindAllString(consoleText(t, d, id), -1)); n != 3 {
		t.Fatalf("resume rebooted the guest: %d READY lines, want 3", n)
	}
	// A hard reboot after resume proves the restored guest runs (it boots
	// again from its disk: boot=4, not 1).
	timed("hard reboot", func() error { return d.Reboot(ctx, id, true) })
	if line = ready("hard reboot", 3); field(line, "boot") != "4" {
		t.Fatalf("after resume + hard reboot: %s", line)
	}

	// Resize (stopped): 128 -> 192 MiB, visible inside the guest.
	timed("power off (for resize)", func() error { return d.PowerOff(ctx, id, 30*time.Second) })
	big := spec
	big.MemoryMB, big.RootGB = 192, 1
	timed("resize", func() error { return d.Resize(ctx, big) })
	timed("power on (resized)", func() error { return d.PowerOn(ctx, id) })
	line = ready("resized boot", 4)
	if mem, _ := strconv.Atoi(field(line, "mem_kb")); mem < mem128+60*1024 {
		t.Fatalf("after resize to 192 MiB: mem_kb %d (was %d at 128 MiB)", mem, mem128)
	}
	if info, err := inspect(ctx, "qemu-img", d.instance(id).path(rootDisk), "qcow2"); err != nil || info.VirtualSize != gib {
		t.Fatalf("root disk after resize: %+v %v", info, err)
	}

	// Snapshot: a flattened qcow2 (no backing file) that qemu-img accepts.
	snap := filepath.Join(t.TempDir(), "snap.qcow2")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	timed("snapshot", func() error { return d.Snapshot(ctx, id, f) })
	f.Close()
	mustState(t, d, id, virt.Running)
	info, err := inspect(ctx, "qemu-img", snap, "qcow2")
	if err != nil || info.BackingFilename != "" || info.VirtualSize != gib {
		t.Fatalf("snapshot: %+v %v", info, err)
	}
	if out, err := exec.Command("qemu-img", "check", "-f", "qcow2", snap).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img check of the snapshot: %v: %s", err, out)
	}
	// The snapshot boots as an image of its own and carries the disk's
	// state (the boot counter) with it. Second guest; destroyed at once.
	const snapID = "6e57c0de-0000-4000-8000-00000000000b"
	timed("spawn from snapshot", func() error {
		return d.Spawn(ctx, testSpec(snapID), fileImage(t, "img-snap", snap, "qcow2", nil))
	})
	if line := waitReady(t, d, snapID, 0, boot); field(line, "boot") != "6" {
		t.Fatalf("guest from snapshot: %s (want boot=6: 5 boots before the snapshot)", line)
	}
	timed("destroy snapshot guest", func() error { return d.Destroy(ctx, snapID) })

	// Driver restart: a second driver on the same state finds the guest
	// running, the same QEMU process, and can drive it.
	pid, _ := d.instance(id).pid()
	d.Close() // as when kumo exits: its QMP connections go away
	start := time.Now()
	d2, err := New(Config{StateDir: d.cfg.StateDir, CacheDir: d.cfg.CacheDir, Accel: "tcg",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%-28s %v", "driver restart (re-attach):", time.Since(start).Round(time.Millisecond))
	if ids, _ := d2.Instances(ctx); len(ids) != 1 || ids[0] != id {
		t.Fatalf("instances after restart: %v", ids)
	}
	mustState(t, d2, id, virt.Running)
	if pid2, alive := d2.instance(id).pid(); !alive || pid2 != pid {
		t.Fatalf("after driver restart: pid %d alive %v, want %d", pid2, alive, pid)
	}
	timed("pause (new driver)", func() error { return d2.Pause(ctx, id) })
	mustState(t, d2, id, virt.Paused)
	timed("unpause (new driver)", func() error { return d2.Unpause(ctx, id) })
	d2.Close()

	// Revert resize puts the old spec back for the next start.
	timed("revert resize", func() error { return d.RevertResize(ctx, id) })
	var rec record
	b, _ := os.ReadFile(d.instance(id).path(specFile))
	if err := json.Unmarshal(b, &rec); err != nil || rec.MemoryMB != 128 || rec.Previous != nil {
		t.Fatalf("spec after revert: %+v %v", rec, err)
	}

	// Rebuild: a fresh overlay on the image; the boot counter starts again.
	timed("rebuild", func() error { return d.Rebuild(ctx, spec, img) })
	if line = ready("rebuild", 5); field(line, "boot") != "1" {
		t.Fatalf("after rebuild: %s", line)
	}

	// Volume hot-plug over QMP reaches the guest, and unplug completes
	// with DEVICE_DELETED once the guest let go of the disk.
	hotplug(t, d, id)

	// Rescue boots the rescue image first, with the instance disk second;
	// unrescue boots the instance's own disk again.
	// (Both disks carry the test image's root label, so which one the
	// rescue guest mounts is not fixed; the command line shows the order.)
	timed("rescue", func() error { return d.Rescue(ctx, id, img) })
	ready("rescue", 6)
	if cl := cmdline(t, d, id); !regexp.MustCompile(`disk\.rescue.*disk\.qcow2`).MatchString(cl) {
		t.Fatalf("rescue guest does not have the rescue disk first: %s", cl)
	}
	timed("unrescue", func() error { return d.Unrescue(ctx, id) })
	line = ready("unrescue", 7)
	if n, _ := strconv.Atoi(field(line, "boot")); n < 2 {
		t.Fatalf("after unrescue (own disk, booted before): %s", line)
	}
	if cl := cmdline(t, d, id); regexp.MustCompile(`disk\.rescue`).MatchString(cl) {
		t.Fatalf("unrescued guest still has the rescue disk: %s", cl)
	}
	if _, err := os.Stat(d.instance(id).path(rescueDisk)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rescue disk left after unrescue: %v", err)
	}

	out, err := d.ConsoleOutput(ctx, id, 5)
	if err != nil || len(out) == 0 || regexp.MustCompile("[\x1b\r]").MatchString(out) {
		t.Fatalf("console output: %q %v", out, err)
	}

	timed("destroy", func() error { return d.Destroy(ctx, id) })
	if qemuAlive(id) {
		t.Error("QEMU alive after destroy")
	}
	if _, err := os.Stat(d.instance(id).dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("instance dir after destroy: %v", err)
	}
}

// configDrive builds a minimal config-2 ISO as Nova's config drive.
func configDrive(t *testing.T, uuid, hostname string) []byte {
	t.Helper()
	dir := t.TempDir()
	latest := filepath.Join(dir, "cd", "openstack", "latest")
	if err := os.MkdirAll(latest, 0o755); err != nil {
		t.Fatal(err)
	}
	md, _ := json.Marshal(map[string]any{"uuid": uuid, "hostname": hostname, "name": hostname})
	if err := os.WriteFile(filepath.Join(latest, "meta_data.json"), md, 0o644); err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(dir, "cd.iso")
	if out, err := exec.Command("genisoimage", "-quiet", "-o", iso, "-V", "config-2", "-r", "-J",
		filepath.Join(dir, "cd")).CombinedOutput(); err != nil {
		t.Fatalf("genisoimage: %v: %s", err, out)
	}
	b, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cmdline is the running QEMU's command line, arguments joined by spaces.
func cmdline(t *testing.T, d *Driver, uuid string) string {
	t.Helper()
	pid, alive := d.instance(uuid).pid()
	if !alive {
		t.Fatal("guest not running")
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}

func consoleText(t *testing.T, d *Driver, uuid string) string {
	t.Helper()
	out, err := d.ConsoleOutput(context.Background(), uuid, 0)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// consoleShell logs in as root on the guest's serial console (the test
// guest has no root password) and has the shell echo expr, waiting up to
// 30 s for want to appear. The typed command shows expr, never want.
func consoleShell(t *testing.T, d *Driver, uuid, expr, want string) {
	t.Helper()
	conn, err := net.Dial("unix", d.instance(uuid).path(consoleSock))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go io.Copy(io.Discard, conn) // the log file records what the guest says
	marker := "KUMO-ECHO-" + want
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		fmt.Fprintf(conn, "root\r")
		time.Sleep(time.Second)
		fmt.Fprintf(conn, "echo KUMO-ECHO-%s\r", expr)
		for i := 0; i < 10; i++ {
			time.Sleep(300 * time.Millisecond)
			if strings.Contains(consoleText(t, d, uuid), marker) {
				return
			}
		}
	}
	t.Fatalf("no %s from the guest's shell; console tail:\n%s", marker, tailLines(consoleText(t, d, uuid), 15))
}

// hotplug attaches a qcow2 volume to the running guest, sees it inside
// (its serial under /sys/block), and detaches it again.
func hotplug(t *testing.T, d *Driver, uuid string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vol := filepath.Join(t.TempDir(), "vol.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", vol, "16M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	m, err := d.monitor(ctx, d.instance(uuid))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := m.BlockdevAddQcow2(ctx, "vol1", vol, false); err != nil {
		t.Fatal(err)
	}
	if err := m.DeviceAddVirtioBlk(ctx, "vol1dev", "vol1", "vol-0001"); err != nil {
		t.Fatal(err)
	}
	consoleShell(t, d, uuid, "$(cat /sys/block/vdc/serial)", "vol-0001")
	t.Logf("%-28s %v", "volume hot-plug -> seen:", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	ev := m.Subscribe(qmp.EventDeviceDeleted)
	defer ev.Close()
	if err := m.DeviceDel(ctx, "vol1dev"); err != nil {
		t.Fatal(err)
	}
	for {
		e, err := ev.Wait(ctx, qmp.EventDeviceDeleted)
		if err != nil {
			t.Fatalf("no DEVICE_DELETED for vol1dev: %v", err)
		}
		if qmp.DeviceDeletedID(e) == "vol1dev" {
			break
		}
	}
	if err := m.BlockdevDel(ctx, "vol1"); err != nil {
		t.Fatal(err)
	}
	t.Logf("%-28s %v", "volume unplug -> deleted:", time.Since(start).Round(time.Millisecond))
}
