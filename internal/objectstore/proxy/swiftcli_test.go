package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// swiftCLI finds Debian's swift client (python3-swiftclient); it must be
// there when KUMO_REQUIRE_TOOLS=1, as in CI.
func swiftCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("swift")
	if err != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatalf("swift CLI missing (apt-get install python3-swiftclient): %v", err)
		}
		t.Skip("swift CLI not installed")
	}
	return p
}

// TestSwiftCLI uploads and downloads a file with the real `swift` client,
// which authenticates against identity and finds the proxy in the catalog.
func TestSwiftCLI(t *testing.T) {
	bin := swiftCLI(t)
	c := newCluster(t)
	dir := t.TempDir()
	data := make([]byte, 3<<20+17)
	_, _ = rand.Read(data)
	src := filepath.Join(dir, "upload.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "OS_AUTH_URL="+c.idurl, "OS_USERNAME=alice", "OS_PASSWORD=pw", "OS_PROJECT_NAME=A",
		"OS_USER_DOMAIN_ID=default", "OS_PROJECT_DOMAIN_ID=default", "OS_IDENTITY_API_VERSION=3", "OS_AUTH_VERSION=3",
		"OS_STORAGE_URL=", "OS_AUTH_TOKEN=")
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		defer func() { t.Logf("swift %s: %v", args[0], time.Since(start).Round(time.Millisecond)) }()
		if err := cmd.Run(); err != nil {
			t.Fatalf("swift %v: %v\n%s\n%s", args, err, out.String(), errb.String())
		}
		return out.String()
	}
	run("post", "cli")
	run("upload", "cli", "upload.bin", "--object-name", "dir/file.bin")
	if got := run("list", "cli"); strings.TrimSpace(got) != "dir/file.bin" {
		t.Fatalf("swift list: %q", got)
	}
	run("download", "cli", "dir/file.bin", "-o", "down.bin")
	got, err := os.ReadFile(filepath.Join(dir, "down.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, want %d (%v)", len(got), len(data), err)
	}
	stat := run("stat", "cli", "dir/file.bin")
	if !strings.Contains(stat, "Content Length: 3145745") || !strings.Contains(stat, md5hex(data)) {
		t.Fatalf("swift stat:\n%s", stat)
	}
	run("delete", "cli", "dir/file.bin")
	if got := run("list", "cli"); strings.TrimSpace(got) != "" {
		t.Fatalf("after delete: %q", got)
	}
}
