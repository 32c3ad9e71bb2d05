package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageCLIWalk drives the image service with Debian's openstack client:
// upload a raw and a qcow2 image and download them byte-identical, share one
// with another project (member accept), make one community, deactivate and
// reactivate, set and unset custom properties, refuse a qcow2 with a backing
// file, and find it all again after a restart.
func TestImageCLIWalk(t *testing.T) {
	requireCLI(t)
	qemuImg, err := exec.LookPath("qemu-img")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("qemu-img (qemu-utils) is missing; .ci/run installs it")
		}
		t.Skip("qemu-img (qemu-utils) is not installed")
	}
	dir := t.TempDir()
	offset := freeOffset(t)
	k := startKumo(t, dir, offset, "--admin-password", randomPassword(t))
	admin := k.openrc()
	work := t.TempDir()

	raw := filepath.Join(work, "disk.raw")
	data := make([]byte, 3<<20+123)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(raw, data, 0o600); err != nil {
		t.Fatal(err)
	}
	qcow := filepath.Join(work, "disk.qcow2")
	evil := filepath.Join(work, "evil.qcow2")
	for _, args := range [][]string{
		{"create", "-q", "-f", "qcow2", qcow, "64M"},
		{"create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/passwd", evil},
	} {
		if out, err := exec.Command(qemuImg, args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v\n%s", args, err, out)
		}
	}

	imageID := func(out string) string {
		var m map[string]any
		decodeJSON(t, out, &m)
		if str(m, "id") == "" {
			t.Fatalf("no image id in %s", out)
		}
		return str(m, "id")
	}
	rawID := imageID(mustOpenstack(t, admin, "image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", raw, "cli-raw", "-f", "json"))
	qcowID := imageID(mustOpenstack(t, admin, "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", qcow, "cli-qcow2", "-f", "json"))

	checkDownload := func(vars map[string]string, id, want string) {
		t.Helper()
		got := filepath.Join(work, "download-"+id)
		os.Remove(got)
		mustOpenstack(t, vars, "image", "save", "--file", got, id)
		a, _ := os.ReadFile(want)
		b, err := os.ReadFile(got)
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("image %s downloaded differently from %s (%d vs %d bytes, %v)", id, want, len(b), len(a), err)
		}
	}
	checkDownload(admin, rawID, raw)
	checkDownload(admin, qcowID, qcow)
	var shown map[string]any
	decodeJSON(t, mustOpenstack(t, admin, "image", "show", qcowID, "-f", "json"), &shown)
	if str(shown, "status") != "active" || str(shown, "disk_format") != "qcow2" {
		t.Fatalf("qcow2 image: %v", shown)
	}
	if vs, ok := shown["virtual_size"].(float64); !ok || vs != 64<<20 {
		t.Errorf("virtual_size of the qcow2 image = %v, want %d", shown["virtual_size"], 64<<20)
	}

	// Properties through JSON-patch, then deactivate and reactivate.
	mustOpenstack(t, admin, "image", "set", "--property", "os_distro=debian", "--property", "kumo_test=yes", rawID)
	decodeJSON(t, mustOpenstack(t, admin, "image", "show", rawID, "-f", "json"), &shown)
	if !strings.Contains(strings.ToLower(toJSON(shown)), "os_distro") {
		t.Fatalf("property not set: %v", shown)
	}
	mustOpenstack(t, admin, "image", "unset", "--property", "kumo_test", rawID)
	mustOpenstack(t, admin, "image", "set", "--deactivate", rawID)
	decodeJSON(t, mustOpenstack(t, admin, "image", "show", rawID, "-f", "json"), &shown)
	if str(shown, "status") != "deactivated" {
		t.Fatalf("after --deactivate: %v", shown["status"])
	}
	mustOpenstack(t, admin, "image", "set", "--activate", rawID)

	// Share the raw image with another project; its member accepts it.
	mustOpenstack(t, admin, "project", "create", "other")
	mustOpenstack(t, admin, "user", "create", "--project", "other", "--password", "b0bpw", "bob")
	mustOpenstack(t, admin, "role", "add", "--project", "other", "--user", "bob", "member")
	bob := with(admin, "OS_USERNAME", "bob", "OS_PASSWORD", "b0bpw", "OS_PROJECT_NAME", "other")
	if r := openstack(t, bob, "image", "show", rawID); r.err == nil {
		t.Fatal("bob sees a private image of another project")
	}
	mustOpenstack(t, admin, "image", "set", "--shared", rawID)
	mustOpenstack(t, admin, "image", "add", "project", rawID, "other")
	mustOpenstack(t, bob, "image", "set", "--accept", rawID)
	if !strings.Contains(mustOpenstack(t, bob, "image", "list", "-f", "value", "-c", "ID"), rawID) {
		t.Fatal("bob does not list the image shared with him")
	}
	checkDownload(bob, rawID, raw)
	mustOpenstack(t, admin, "image", "set", "--community", qcowID)
	mustOpenstack(t, bob, "image", "show", qcowID)

	// A qcow2 whose backing file points at a host file is refused.
	if r := openstack(t, admin, "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", evil, "evil", "-f", "json"); r.err == nil {
		var m map[string]any
		decodeJSON(t, r.stdout, &m)
		if str(m, "status") == "active" {
			t.Fatal("a qcow2 with a backing file became active")
		}
	}
	out := mustOpenstack(t, admin, "image", "list", "--name", "evil", "-f", "value", "-c", "Status")
	if strings.Contains(out, "active") {
		t.Fatalf("the malicious image is active: %q", out)
	}

	// A restart keeps images and their data.
	k.stop()
	k = startKumo(t, dir, offset)
	admin = k.openrc()
	checkDownload(admin, rawID, raw)
	checkDownload(bob, rawID, raw)
	mustOpenstack(t, admin, "image", "delete", rawID, qcowID)
	if strings.Contains(mustOpenstack(t, admin, "image", "list", "-f", "value", "-c", "ID"), rawID) {
		t.Fatal("deleted image still listed")
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
