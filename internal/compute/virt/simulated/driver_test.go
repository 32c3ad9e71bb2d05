package simulated

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

func testImage(data string) virt.Image {
	sum := md5.Sum([]byte(data))
	return virt.Image{ID: "img-1", DiskFormat: "raw", Size: int64(len(data)), Checksum: hex.EncodeToString(sum[:]),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}
}

func testSpec(uuid string) virt.InstanceSpec {
	return virt.InstanceSpec{UUID: uuid, Name: "instance-00000001", VCPUs: 1, MemoryMB: 128, RootGB: 1}
}

func mustPower(t *testing.T, d *Driver, uuid string, want virt.PowerState) {
	t.Helper()
	got, err := d.PowerState(context.Background(), uuid)
	if err != nil || got != want {
		t.Fatalf("power state of %s = %v, %v; want %v", uuid, got, err, want)
	}
}

// TestStateRules walks one instance through every operation and checks
// that each is refused in a state a real hypervisor refuses it in.
func TestStateRules(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	const id = "11111111-1111-1111-1111-111111111111"
	if err := d.Pause(ctx, id); !errors.Is(err, virt.ErrNotFound) {
		t.Fatalf("pause of unknown instance: %v, want ErrNotFound", err)
	}
	if err := d.Spawn(ctx, testSpec(id), testImage("disk")); err != nil {
		t.Fatal(err)
	}
	if err := d.Spawn(ctx, testSpec(id), testImage("disk")); err == nil {
		t.Fatal("second spawn of the same uuid succeeded")
	}
	mustPower(t, d, id, virt.Running)
	steps := []struct {
		name string
		call func() error
		ok   bool
		want virt.PowerState
	}{
		{"unpause running", func() error { return d.Unpause(ctx, id) }, false, virt.Running},
		{"resume running", func() error { return d.Resume(ctx, id) }, false, virt.Running},
		{"power on running", func() error { return d.PowerOn(ctx, id) }, false, virt.Running},
		{"resize running", func() error { return d.Resize(ctx, testSpec(id)) }, false, virt.Running},
		{"pause", func() error { return d.Pause(ctx, id) }, true, virt.Paused},
		{"soft reboot paused", func() error { return d.Reboot(ctx, id, false) }, false, virt.Paused},
		{"unpause", func() error { return d.Unpause(ctx, id) }, true, virt.Running},
		{"suspend", func() error { return d.Suspend(ctx, id) }, true, virt.Suspended},
		{"pause suspended", func() error { return d.Pause(ctx, id) }, false, virt.Suspended},
		{"resume", func() error { return d.Resume(ctx, id) }, true, virt.Running},
		{"power off", func() error { return d.PowerOff(ctx, id, time.Second) }, true, virt.Shutdown},
		{"power off again", func() error { return d.PowerOff(ctx, id, time.Second) }, true, virt.Shutdown},
		{"pause stopped", func() error { return d.Pause(ctx, id) }, false, virt.Shutdown},
		{"suspend stopped", func() error { return d.Suspend(ctx, id) }, false, virt.Shutdown},
		{"reboot stopped", func() error { return d.Reboot(ctx, id, true) }, false, virt.Shutdown},
		{"revert never resized", func() error { return d.RevertResize(ctx, id) }, false, virt.Shutdown},
		{"shrink disk", func() error { s := testSpec(id); s.RootGB = 0; return d.Resize(ctx, s) }, false, virt.Shutdown},
		{"grow", func() error { s := testSpec(id); s.VCPUs, s.RootGB = 2, 2; return d.Resize(ctx, s) }, true, virt.Shutdown},
		{"power on", func() error { return d.PowerOn(ctx, id) }, true, virt.Running},
		{"hard reboot", func() error { return d.Reboot(ctx, id, true) }, true, virt.Running},
		{"unrescue not rescued", func() error { return d.Unrescue(ctx, id) }, false, virt.Running},
		{"rescue", func() error { return d.Rescue(ctx, id, testImage("rescue")) }, true, virt.Running},
		{"rescue twice", func() error { return d.Rescue(ctx, id, testImage("rescue")) }, false, virt.Running},
		{"rebuild rescued", func() error { return d.Rebuild(ctx, testSpec(id), testImage("disk")) }, false, virt.Running},
		{"unrescue", func() error { return d.Unrescue(ctx, id) }, true, virt.Running},
		{"rebuild", func() error { return d.Rebuild(ctx, testSpec(id), testImage("disk")) }, true, virt.Running},
	}
	for _, s := range steps {
		err := s.call()
		if (err == nil) != s.ok {
			t.Fatalf("%s: err = %v, want ok=%t", s.name, err, s.ok)
		}
		mustPower(t, d, id, s.want)
	}
	if spec, _ := d.Spec(id); spec.VCPUs != 2 || spec.RootGB != 2 {
		t.Fatalf("spec after resize = %+v, want 2 vCPUs and 2 GB", spec)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(ctx, id); err != nil {
		t.Fatalf("destroy of a destroyed instance: %v", err)
	}
	if ids, _ := d.Instances(ctx); len(ids) != 0 {
		t.Fatalf("instances after destroy: %v", ids)
	}
}

// TestResizeRevert checks that a revert restores the old size but not the
// grown disk, as the contract says.
func TestResizeRevert(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	const id = "r"
	if err := d.Spawn(ctx, testSpec(id), testImage("x")); err != nil {
		t.Fatal(err)
	}
	d.PowerOff(ctx, id, 0)
	big := testSpec(id)
	big.VCPUs, big.MemoryMB, big.RootGB = 4, 512, 5
	if err := d.Resize(ctx, big); err != nil {
		t.Fatal(err)
	}
	if err := d.RevertResize(ctx, id); err != nil {
		t.Fatal(err)
	}
	spec, _ := d.Spec(id)
	if spec.VCPUs != 1 || spec.MemoryMB != 128 || spec.RootGB != 5 {
		t.Fatalf("spec after revert = %+v, want 1 vCPU, 128 MB and the grown 5 GB disk", spec)
	}
}

// TestSpawnVerifiesImage: a corrupt download fails the spawn and leaves
// nothing behind.
func TestSpawnVerifiesImage(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	img := testImage("good")
	img.Checksum = strings.Repeat("0", 32)
	if err := d.Spawn(ctx, testSpec("a"), img); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("spawn with a bad checksum: %v", err)
	}
	img = testImage("good")
	img.Size = 99
	if err := d.Spawn(ctx, testSpec("a"), img); err == nil {
		t.Fatal("spawn with a short image succeeded")
	}
	if ids, _ := d.Instances(ctx); len(ids) != 0 {
		t.Fatalf("a failed spawn left %v", ids)
	}
}

// TestConsoleMarker: every boot prints the test guest's marker line with
// the boot count, and the console says it is simulated.
func TestConsoleMarker(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	const id = "22222222-2222-2222-2222-222222222222"
	d.Spawn(ctx, testSpec(id), testImage("x"))
	d.Reboot(ctx, id, false)
	out, err := d.ConsoleOutput(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"KUMO-GUEST-READY instance-id=" + id + " hostname=instance-00000001 boot=1 mem_kb=131072 cpus=1 ip=none uptime=0 simulated=1",
		"KUMO-GUEST-READY instance-id=" + id + " hostname=instance-00000001 boot=2 ",
		"kumo simulated driver: no real guest runs",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("console lacks %q:\n%s", want, out)
		}
	}
	tail, _ := d.ConsoleOutput(ctx, id, 1)
	if strings.Count(tail, "\n") != 1 || !strings.Contains(tail, "boot=2") {
		t.Fatalf("last line = %q", tail)
	}
}

// TestInjectedFailuresAndDelays: a failure hits only its op and instance
// and only as often as asked; a delay is honoured and bounded by ctx.
func TestInjectedFailuresAndDelays(t *testing.T) {
	ctx := context.Background()
	d := New(Config{Host: virt.HostInfo{Hostname: "h1", VCPUs: 8}})
	if h, _ := d.HostInfo(ctx); h.Hostname != "h1" || h.VCPUs != 8 || h.HypervisorType != "QEMU" || h.MemoryMB == 0 {
		t.Fatalf("host info = %+v", h)
	}
	boom := errors.New("boom")
	d.Fail(OpSpawn, "b", 2, boom)
	if err := d.Spawn(ctx, testSpec("a"), testImage("x")); err != nil {
		t.Fatalf("failure for b hit a: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := d.Spawn(ctx, testSpec("b"), testImage("x")); !errors.Is(err, boom) {
			t.Fatalf("spawn %d of b: %v, want boom", i, err)
		}
	}
	if err := d.Spawn(ctx, testSpec("b"), testImage("x")); err != nil {
		t.Fatalf("third spawn of b: %v", err)
	}
	d.Delay(OpPause, 50*time.Millisecond)
	start := time.Now()
	if err := d.Pause(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("pause took %v with a 50ms delay", el)
	}
	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if err := d.Pause(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed call past its deadline: %v", err)
	}
	d.Clear()
	d.Fail(OpPowerState, "", -1, nil)
	for i := 0; i < 3; i++ {
		if _, err := d.PowerState(ctx, "a"); !errors.Is(err, errInjected) {
			t.Fatalf("always-failure call %d: %v", i, err)
		}
	}
}

// TestSnapshotIsValidQcow2 checks the snapshot with qemu-img.
func TestSnapshotIsValidQcow2(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	spec := testSpec("s")
	spec.RootGB = 3
	d.Spawn(ctx, spec, testImage("x"))
	var buf bytes.Buffer
	if err := d.Snapshot(ctx, "s", &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("QFI\xfb")) {
		t.Fatal("snapshot is not qcow2")
	}
	qimg, err := exec.LookPath("qemu-img")
	if err != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatal("qemu-img not found (KUMO_REQUIRE_TOOLS=1)")
		}
		t.Skip("qemu-img not installed")
	}
	f := filepath.Join(t.TempDir(), "snap.qcow2")
	os.WriteFile(f, buf.Bytes(), 0o600)
	if out, err := exec.Command(qimg, "check", f).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img check: %v\n%s", err, out)
	}
	out, err := exec.Command(qimg, "info", "--output=json", f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"virtual-size": 3221225472`) ||
		!strings.Contains(string(out), `"format": "qcow2"`) {
		t.Fatalf("qemu-img info: %v\n%s", err, out)
	}
}

// TestFailZeroTimesInjectsNothing: Fail with times 0 used to add a fault
// that enter never counted down, so every later call failed.
func TestFailZeroTimesInjectsNothing(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	d.Fail(OpSpawn, "", 0, nil)
	if err := d.Spawn(ctx, testSpec("z"), testImage("x")); err != nil {
		t.Fatalf("spawn after Fail(..., 0, ...): %v", err)
	}
}

// TestSnapshotBeyondQcow2Limits: a root disk past QEMU's qcow2 limit (2 PiB
// with 64 KiB clusters) or past int64 bytes is refused, not written as an
// image with a truncated L1 size or a wrapped virtual size; a negative root
// size is refused at spawn.
func TestSnapshotBeyondQcow2Limits(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	for _, gb := range []int{1<<21 + 1, 1 << 33} {
		spec := testSpec(fmt.Sprint("big-", gb))
		spec.RootGB = gb
		if err := d.Spawn(ctx, spec, testImage("x")); err != nil {
			t.Fatal(err)
		}
		if err := d.Snapshot(ctx, spec.UUID, io.Discard); err == nil {
			t.Errorf("snapshot of a %d GB root disk succeeded", gb)
		}
	}
	// The limit itself is fine.
	spec := testSpec("limit")
	spec.RootGB = 1 << 21
	if err := d.Spawn(ctx, spec, testImage("x")); err != nil {
		t.Fatal(err)
	}
	if err := d.Snapshot(ctx, spec.UUID, io.Discard); err != nil {
		t.Fatalf("snapshot of a 2 PiB root disk: %v", err)
	}
	spec = testSpec("neg")
	spec.RootGB = -1
	if err := d.Spawn(ctx, spec, testImage("x")); err == nil {
		t.Fatal("spawn with a negative root size succeeded")
	}
}

// TestConsoleIsBounded: every boot adds console lines; a long-lived
// simulated instance used to keep all of them in memory.
func TestConsoleIsBounded(t *testing.T) {
	ctx := context.Background()
	d := New(Config{})
	const id = "33333333-3333-3333-3333-333333333333"
	if err := d.Spawn(ctx, testSpec(id), testImage("x")); err != nil {
		t.Fatal(err)
	}
	const reboots = 600 // three lines each
	for i := 0; i < reboots; i++ {
		if err := d.Reboot(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	out, err := d.ConsoleOutput(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != maxConsoleLines {
		t.Fatalf("%d console lines kept, want %d", len(lines), maxConsoleLines)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, fmt.Sprintf("boot=%d ", reboots+1)) {
		t.Fatalf("last line %q is not the latest boot", last)
	}
}

// TestSpawnVerifiesLikeQEMU: the simulation refuses what the QEMU driver's
// image cache refuses. It used to skip a multihash of an algorithm it did
// not know (sha384, an upper-case name, anything else) and to accept an
// image with no checksum at all, so a test on it passed where a real host
// fails.
func TestSpawnVerifiesLikeQEMU(t *testing.T) {
	ctx := context.Background()
	const data = "disk"
	sum384 := sha512.Sum384([]byte(data))
	good384 := hex.EncodeToString(sum384[:])
	cases := []struct {
		name       string
		algo, hash string
		md5        bool
		ok         bool
	}{
		{"sha384", "sha384", good384, false, true},
		{"upper-case name", "SHA384", strings.ToUpper(good384), false, true},
		{"wrong sha384", "sha384", strings.Repeat("0", 96), true, false},
		{"unknown algorithm", "sha3_512", strings.Repeat("0", 128), true, false},
		{"no checksum at all", "", "", false, false},
	}
	for i, c := range cases {
		d := New(Config{})
		img := testImage(data)
		if !c.md5 {
			img.Checksum = ""
		}
		img.HashAlgo, img.HashValue = c.algo, c.hash
		err := d.Spawn(ctx, testSpec(fmt.Sprint("v", i)), img)
		if (err == nil) != c.ok {
			t.Errorf("%s: spawn err = %v, want ok=%t", c.name, err, c.ok)
		}
	}
}
