package manager

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"kumo/internal/compute/virt"
)

// TestResizeEffects: resize applies the new size in the driver and swaps
// the flavor; confirm drops the old claim; revert restores the old size,
// flavor and claim.
func TestResizeEffects(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	bigger := func(id string) ResizeRequest {
		s := spec(id)
		s.VCPUs, s.MemoryMB, s.RootGB = 2, 256, 2
		return ResizeRequest{RequestID: "r1", Spec: s}
	}
	setNew := func(id string) { h.store.mu.Lock(); h.store.insts[id].new = "m1.small"; h.store.mu.Unlock() }

	a := h.active()
	setNew(a)
	h.do(a, func(id string) error { return h.m.Resize(ctx, bigger(id)) })
	if s, _ := h.drv.Spec(a); s.VCPUs != 2 || s.MemoryMB != 256 || s.RootGB != 2 {
		t.Fatalf("driver spec after resize %+v", s)
	}
	if in := h.store.get(a); in.flavor != "m1.small" || in.old != "m1.tiny" {
		t.Fatalf("flavor %q old %q after resize", in.flavor, in.old)
	}
	h.do(a, func(id string) error { return h.m.ConfirmResize(ctx, id, "r2") })
	if in := h.store.get(a); in.flavor != "m1.small" || in.old != "" {
		t.Fatalf("flavor %q old %q after confirm", in.flavor, in.old)
	}

	b := h.active()
	setNew(b)
	h.do(b, func(id string) error { return h.m.Resize(ctx, bigger(id)) })
	h.do(b, func(id string) error { return h.m.RevertResize(ctx, id, "r2") })
	if s, _ := h.drv.Spec(b); s.VCPUs != 1 || s.MemoryMB != 128 {
		t.Fatalf("driver spec after revert %+v", s)
	}
	if in := h.store.get(b); in.flavor != "m1.tiny" || in.old != "" || in.new != "" {
		t.Fatalf("flavor %q old %q new %q after revert", in.flavor, in.old, in.new)
	}
	if got := h.claims.list(); !slices.Equal(got, []string{"confirm:" + a, "revert:" + b}) {
		t.Fatalf("claims %q", got)
	}
}

// TestSnapshotUploads: the snapshot's qcow2 bytes reach the image service
// with their size, and the temporary file is gone.
func TestSnapshotUploads(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.do(id, func(id string) error {
		return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r1", ProjectID: "p1", ImageID: "snap"})
	})
	data := h.images.uploaded["snap"]
	if !bytes.HasPrefix(data, []byte("QFI\xfb")) || len(data) < 4*65536 {
		t.Fatalf("uploaded %d bytes, not a qcow2 image", len(data))
	}
	if left, _ := filepathGlob(h.m.cfg.SnapshotDir); len(left) != 0 {
		t.Fatalf("snapshot files left: %q", left)
	}
}

// TestDeleteEffects: nothing of a deleted instance is left: not in the
// driver, claims released, terminated_at set, gone from the store.
func TestDeleteEffects(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.do(id, func(id string) error { return h.m.Delete(ctx, id, "r1") })
	if ids, _ := h.drv.Instances(ctx); len(ids) != 0 {
		t.Fatalf("driver still holds %q", ids)
	}
	if got := h.claims.list(); !slices.Equal(got, []string{"release:" + id}) {
		t.Fatalf("claims %q", got)
	}
	in := h.store.get(id)
	if !in.deleted || in.st.TerminatedAt.IsZero() || in.st.PowerState != virt.NoState {
		t.Fatalf("after delete %+v", in.st)
	}
	if _, err := h.m.store.Instance(ctx, id); err != ErrNotFound {
		t.Fatalf("deleted instance still found: %v", err)
	}
	if err := h.m.Delete(ctx, id, "r2"); err != ErrNotFound {
		t.Fatalf("delete of a deleted instance: %v, want ErrNotFound", err)
	}
	if err := h.m.Stop(ctx, id, "r3"); err != ErrNotFound {
		t.Fatalf("stop of a deleted instance: %v, want ErrNotFound", err)
	}
}
