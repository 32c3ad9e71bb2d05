package image

import (
	"os"
	"os/exec"
	"testing"
)

// A non-admin cannot hand an image to another project with any JSON-patch
// op; an admin can.
func TestOwnerChangeNeedsAdmin(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"name": "mine"})
	for _, op := range []string{"add", "replace"} {
		tc.patch(403, id, tc.alice, map[string]any{"op": op, "path": "/owner", "value": tc.projB})
	}
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["owner"] != tc.projA {
		t.Fatalf("owner changed to %v", r.json["owner"])
	}
	tc.patch(200, id, tc.admin, map[string]any{"op": "add", "path": "/owner", "value": tc.projB})
}

// Formats are frozen once an image has left queued: its data was inspected
// against them.
func TestFormatsFrozenAfterQueued(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, []byte("staged"))
	tc.patch(403, id, tc.alice, map[string]any{"op": "replace", "path": "/disk_format", "value": "qcow2"})
	tc.patch(403, id, tc.alice, map[string]any{"op": "add", "path": "/container_format", "value": "ovf"})
}

// requireQemuImg skips a test that needs qemu-img, except in CI, where
// .ci/run installs it: there its absence must fail, not silently skip the
// malicious-image checks.
func requireQemuImg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("qemu-img (qemu-utils) is missing; .ci/run installs it")
		}
		t.Skip("qemu-img not installed")
	}
}
