package configdrive

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// needTool skips a test when a reader tool is missing, unless CI asks
// for every tool (KUMO_REQUIRE_TOOLS=1), where a missing tool fails.
func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s is required (KUMO_REQUIRE_TOOLS=1): %v", n, err)
			}
			t.Skipf("%s not installed", n)
		}
	}
}

// run runs a tool with a time bound and returns its stdout.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s %v: %v\n%s", name, args, err, msg)
	}
	return out
}

func writeImage(t *testing.T, img []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.config")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
