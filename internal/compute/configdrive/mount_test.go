package configdrive

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestISOMountLoop reads the image through the kernel's isofs, once
// with Rock Ridge (the default) and once through Joliet (norock). It
// needs root, loop devices and isofs in the kernel; without them it
// skips, since no package install can provide them.
func TestISOMountLoop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mount needs root")
	}
	needTool(t, "mount", "umount")
	files := sampleFiles()
	img, err := BuildISO(files, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	p := writeImage(t, img)
	for _, opts := range []string{"loop,ro", "loop,ro,norock"} {
		dir := filepath.Join(t.TempDir(), "mnt")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, "mount", "-o", opts, p, dir).CombinedOutput()
		cancel()
		if err != nil {
			if msg := string(out); strings.Contains(msg, "unknown filesystem type") ||
				strings.Contains(msg, "failed to setup loop device") || strings.Contains(msg, "could not find any free loop device") {
				t.Skipf("kernel cannot loop-mount iso9660 here: %s", out)
			}
			t.Fatalf("mount -o %s: %v\n%s", opts, err, out)
		}
		for _, f := range files {
			got, err := os.ReadFile(filepath.Join(dir, f.Path))
			if err != nil || !bytes.Equal(got, f.Data) {
				t.Errorf("%s: read %s: %v (%d bytes, want %d)", opts, f.Path, err, len(got), len(f.Data))
			}
		}
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Fatalf("umount: %v\n%s", err, out)
		}
	}
}
