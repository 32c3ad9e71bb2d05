package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

func TestHostInfo(t *testing.T) {
	d := newTestDriver(t)
	h, err := d.HostInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", h)
	if h.HypervisorType != "QEMU" || h.HypervisorVersion < 2000000 || h.VCPUs != runtime.NumCPU() ||
		h.MemoryMB < 64 || h.LocalGB < 1 || h.Hostname == "" {
		t.Fatalf("host info %+v", h)
	}
	var cpu struct {
		Arch     string         `json:"arch"`
		Topology map[string]int `json:"topology"`
		Features []string       `json:"features"`
	}
	if err := json.Unmarshal([]byte(h.CPUInfo), &cpu); err != nil || cpu.Arch == "" || cpu.Topology["cores"] != h.VCPUs {
		t.Fatalf("cpu_info %s: %v", h.CPUInfo, err)
	}
}

// Operations on one instance wait for each other; a caller whose context
// ends while waiting gets an error instead of hanging.
func TestInstanceLock(t *testing.T) {
	d := &Driver{locks: map[string]chan struct{}{}}
	unlock, err := d.lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := d.lock(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock of a busy instance: %v", err)
	}
	unlockB, err := d.lock(context.Background(), "b") // another instance is not held up
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	unlock()
	if u, err := d.lock(context.Background(), "a"); err != nil {
		t.Fatal(err)
	} else {
		u()
	}
}

// A guest killed behind the driver's back (stale pid file and sockets) is
// shut off for a restarted driver, which can start it again.
func TestDeadGuestAfterRestart(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const id = "0b1a4c00-0000-4000-8000-000000000301"
	if err := d.Spawn(ctx, testSpec(id), blankImage(t, "img-blank")); err != nil {
		t.Fatal(err)
	}
	pid, _ := d.instance(id).pid()
	d.Close()
	syscall.Kill(pid, syscall.SIGKILL)
	if !waitExit(pid, id, 10*time.Second) {
		t.Fatal("QEMU survived SIGKILL")
	}
	if _, err := os.Stat(d.instance(id).path(pidFile)); err != nil {
		t.Fatalf("the test needs a stale pid file: %v", err)
	}
	d2, err := New(Config{StateDir: d.cfg.StateDir, CacheDir: d.cfg.CacheDir, Accel: "tcg",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	mustState(t, d2, id, virt.Shutdown)
	if err := d2.PowerOn(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustState(t, d2, id, virt.Running)
	if err := d2.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(d.cfg.StateDir, "instances")); len(ents) != 0 {
		t.Fatalf("instances dir not empty after destroy: %d entries", len(ents))
	}
}

// A state directory too deep for a unix socket address still works: QEMU
// gets relative socket paths, the driver dials through /proc/self/fd.
func TestLongStateDir(t *testing.T) {
	requireTools(t, "qemu-system-x86_64", "qemu-img")
	base, err := os.MkdirTemp("", "kq")
	if err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(base, "a-rather-long-directory-name-for-kumo-state", "and-then-some-more-depth")
	d, err := New(Config{StateDir: long, CacheDir: filepath.Join(base, "cache"), Accel: "tcg",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupDriver(t, d, base) })
	const id = "0b1a4c00-0000-4000-8000-000000000401"
	if n := len(d.instance(id).path(consoleSock)); n <= maxSockPath {
		t.Fatalf("socket path only %d bytes; the test needs a longer one", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := d.Spawn(ctx, testSpec(id), blankImage(t, "img-blank")); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Running)
	if err := d.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Paused)
}

func TestTrimConsoleLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "console.log")
	big := make([]byte, consoleLogMax+10)
	copy(big[len(big)-5:], "tail!")
	os.WriteFile(p, big, 0o640)
	trimConsoleLog(p)
	b, _ := os.ReadFile(p)
	if len(b) != consoleLogKeep || string(b[len(b)-5:]) != "tail!" {
		t.Fatalf("trimmed log: %d bytes", len(b))
	}
	trimConsoleLog(p) // under the limit: untouched
	if b2, _ := os.ReadFile(p); len(b2) != len(b) {
		t.Fatal("a small log was trimmed")
	}
}
