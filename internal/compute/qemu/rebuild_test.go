package qemu

import (
	"context"
	"os"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// A rebuild that fails while preparing the new disk leaves a rescued
// instance (Nova allows rebuild from ERROR, where a failed rescue can
// leave it) as it was: its record still boots the rescue disk, so that
// disk must still be there.
func TestRebuildFailureKeepsRescue(t *testing.T) {
	d := newTestDriver(t)
	d.cfg.ShutdownTimeout = time.Second // SeaBIOS ignores the power button
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const id = "0b1a4c00-0000-4000-8000-000000000501"
	img := blankImage(t, "img-blank")
	if err := d.Spawn(ctx, testSpec(id), img); err != nil {
		t.Fatal(err)
	}
	if err := d.Rescue(ctx, id, img); err != nil {
		t.Fatal(err)
	}
	bad := testSpec(id)
	bad.RootGB = 1 << 32 // 4 EiB: qemu-img cannot grow a qcow2 that far
	if err := d.Rebuild(ctx, bad, img); err == nil {
		t.Fatal("rebuild to a 4 EiB disk succeeded")
	}
	in := d.instance(id)
	r, err := in.load()
	if err != nil {
		t.Fatal(err)
	}
	if !r.Rescue {
		t.Fatal("the failed rebuild changed the record")
	}
	if _, err := os.Stat(in.path(rescueDisk)); err != nil {
		t.Fatalf("the record boots %s, which the failed rebuild removed: %v", rescueDisk, err)
	}
	if err := d.PowerOn(ctx, id); err != nil {
		t.Fatalf("power on after the failed rebuild: %v", err)
	}
	mustState(t, d, id, virt.Running)
}
