package qemu

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// requireTools skips a test whose tools are missing, or fails it when CI
// says they must be there (KUMO_REQUIRE_TOOLS=1).
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s is required (KUMO_REQUIRE_TOOLS=1): %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// guestImage locates the bootable test guest: $KUMO_GUEST_IMAGE, or
// build/guest/kumo-test.qcow2 at the repository root (make guest-image).
func guestImage(t *testing.T) string {
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
			t.Fatalf("test guest image missing (KUMO_REQUIRE_TOOLS=1; run make guest-image): %v", err)
		}
		t.Skipf("test guest image %s missing (make guest-image)", p)
	}
	return p
}

// newTestDriver returns a TCG driver on a fresh, short state directory
// (unix socket paths must stay under 108 bytes) and destroys every guest
// it holds when the test ends, so nothing leaks even on failure.
func newTestDriver(t *testing.T) *Driver {
	t.Helper()
	requireTools(t, "qemu-system-x86_64", "qemu-img")
	dir, err := os.MkdirTemp("", "kq")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{
		StateDir: filepath.Join(dir, "state"),
		CacheDir: filepath.Join(dir, "cache"),
		Accel:    "tcg",
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The test guest powers off in ~2 s; a stuck one should not hold
		// the test for a minute.
		ShutdownTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupDriver(t, d, dir) })
	return d
}

func cleanupDriver(t *testing.T, d *Driver, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids, _ := d.Instances(ctx)
	for _, id := range ids {
		if err := d.Destroy(ctx, id); err != nil {
			t.Errorf("cleanup: destroy %s: %v", id, err)
		}
	}
	d.Close()
	os.RemoveAll(dir)
}

// fileImage is a virt.Image served from a local file, with Glance's
// checksums computed from it; opens counts downloads.
func fileImage(t *testing.T, id, path, format string, opens *atomic.Int32) virt.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := md5.Sum(data)
	s := sha512.Sum512(data)
	return virt.Image{
		ID: id, DiskFormat: format, Size: int64(len(data)),
		Checksum: hex.EncodeToString(m[:]), HashAlgo: "sha512", HashValue: hex.EncodeToString(s[:]),
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			if opens != nil {
				opens.Add(1)
			}
			return io.NopCloser(bytes.NewReader(data)), nil
		},
	}
}

// blankImage makes an empty qcow2 disk: a guest on it sits in SeaBIOS,
// which is enough to test everything but the guest OS.
func blankImage(t *testing.T, id string) virt.Image {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blank.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", p, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v: %s", err, out)
	}
	return fileImage(t, id, p, "qcow2", nil)
}

func testSpec(uuid string) virt.InstanceSpec {
	return virt.InstanceSpec{UUID: uuid, Name: "instance-" + uuid[:8], VCPUs: 1, MemoryMB: 128}
}

// readyRE matches whole marker lines only, never one still being written.
var readyRE = regexp.MustCompile(`KUMO-GUEST-READY [^\n]*uptime=[0-9.]+\n`)

// waitReady waits until the console shows more than after READY lines and
// returns the newest one.
func waitReady(t *testing.T, d *Driver, uuid string, after int, timeout time.Duration) string {
	t.Helper()
	return waitConsole(t, d, uuid, readyRE, after, timeout)
}

// waitConsole waits until re matches more than after times in the console
// output and returns the last match.
func waitConsole(t *testing.T, d *Driver, uuid string, re *regexp.Regexp, after int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := d.ConsoleOutput(context.Background(), uuid, 0)
		if err != nil {
			t.Fatalf("console output: %v", err)
		}
		if m := re.FindAllString(out, -1); len(m) > after {
			return strings.TrimSpace(m[len(m)-1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q #%d on the console within %v; tail:\n%s", re, after+1, timeout, lastLines(out, 15))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func lastLines(s string, n int) string { return tailLines(s, n) }

// field returns key's value in a KUMO-GUEST-READY line.
func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// qemuAlive reports whether any QEMU process runs with -uuid uuid.
func qemuAlive(uuid string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte("-uuid\x00"+uuid+"\x00")) {
			if n, err := strconv.Atoi(e.Name()); err == nil && !processIsZombie(n) {
				return true
			}
		}
	}
	return false
}

func mustState(t *testing.T, d *Driver, uuid string, want virt.PowerState) {
	t.Helper()
	got, err := d.PowerState(context.Background(), uuid)
	if err != nil {
		t.Fatalf("power state: %v", err)
	}
	if got != want {
		t.Fatalf("power state %v, want %v", got, want)
	}
}

// statField reads a numeric field of /proc/<pid>/stat counted after the
// command name: 1 is the parent pid, 3 the session id.
func statField(pid, n int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) <= n {
		return 0
	}
	v, _ := strconv.Atoi(f[n])
	return v
}
