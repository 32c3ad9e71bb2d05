package manager

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// registerUploaded makes an uploaded snapshot bootable, as the image
// service does once its data is stored.
func (h *harness) registerUploaded(id string) {
	h.t.Helper()
	h.images.mu.Lock()
	data, ok := h.images.uploaded[id]
	h.images.mu.Unlock()
	if !ok {
		h.t.Fatalf("image %s was not uploaded", id)
	}
	h.images.put(id, data, 0, 0)
}

// expectOffloaded checks an instance is shelved_offloaded with no task,
// the power state it had before its guest went (shutdown), no host and no
// guest in the driver.
func (h *harness) expectOffloaded(id string) {
	h.t.Helper()
	st := h.store.get(id).st
	if st.VMState != VMShelvedOffloaded || st.TaskState != TaskNone || st.PowerState != virt.Shutdown || st.Host != "" {
		h.t.Fatalf("not offloaded: %+v", st)
	}
	if _, ok := h.drv.Spec(id); ok {
		h.t.Fatalf("offloaded instance %s still in the driver", id)
	}
}

// TestShelveOffloadSequence: with shelved_offload_time 0 a shelve walks
// Nova's states to shelved_offloaded: the snapshot uploaded, the guest
// gone, the claim released, the host cleared; unshelve builds it again
// from the shelved image on this host and deletes that image.
func TestShelveOffloadSequence(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.active()
	h.store.resetHistory(id)
	ctx := context.Background()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, RequestID: "req-shelve", ProjectID: "p1", ImageID: "shelved-1"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	h.expectHistory(id, "active/None", "active/shelving", "active/shelving_image_pending_upload",
		"active/shelving_image_uploading", "shelved/shelving_offloading", "shelved_offloaded/None")
	h.expectOffloaded(id)
	in := h.store.get(id)
	if in.st.Host != "" {
		t.Fatalf("offloaded instance still on host %q", in.st.Host)
	}
	if got := in.eventList(); !slices.Contains(got, "compute_shelve_instance:Success") ||
		!slices.Contains(got, "compute_shelve_offload_instance:Success") {
		t.Fatalf("events %q", got)
	}
	if ids, _ := h.drv.Instances(ctx); len(ids) != 0 {
		t.Fatalf("driver still holds %q", ids)
	}
	if c := h.claims.list(); !slices.Equal(c, []string{"release:" + id}) {
		t.Fatalf("claims %q", c)
	}
	// Wrong states: Nova's InstanceInvalidState.
	var inv *InvalidStateError
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "x"}); !errors.As(err, &inv) ||
		err.Error() != "Cannot 'shelve' instance "+id+" while it is in vm_state shelved_offloaded" {
		t.Fatalf("shelve of an offloaded instance: %v", err)
	}
	if err := h.m.ShelveOffload(ctx, id, ""); !errors.As(err, &inv) {
		t.Fatalf("offload of an offloaded instance: %v", err)
	}

	h.registerUploaded("shelved-1")
	h.store.resetHistory(id)
	if err := h.m.Unshelve(ctx, UnshelveRequest{RequestID: "req-unshelve", ProjectID: "p1", ImageID: "shelved-1",
		Spec: spec(id)}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	h.expectHistory(id, "shelved_offloaded/None", "shelved_offloaded/unshelving", "shelved_offloaded/spawning", "active/None")
	h.expectState(id, VMActive, TaskNone, virt.Running)
	if in := h.store.get(id); in.st.Host != testHost || !slices.Contains(in.eventList(), "compute_unshelve_instance:Success") {
		t.Fatalf("after unshelve host %q events %q", in.st.Host, in.eventList())
	}
	if !slices.Contains(h.images.deleted, "shelved-1") {
		t.Fatalf("shelved image not deleted: %q", h.images.deleted)
	}
	if sp, ok := h.drv.Spec(id); !ok || sp.MemoryMB != 128 {
		t.Fatalf("driver spec %+v %v", sp, ok)
	}
}

// TestShelveNoOffload: with shelved_offload_time -1 the instance stays
// shelved on its host with its guest powered off; shelveOffload then
// offloads it; an unshelve of a shelved one powers it on again.
func TestShelveNoOffload(t *testing.T) {
	h := newHarness(t, Config{ShelvedOffloadTime: -1})
	ctx := context.Background()
	id := h.active()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "img-a"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	h.expectState(id, VMShelved, TaskNone, virt.Shutdown)
	if p, _ := h.drv.PowerState(ctx, id); p != virt.Shutdown {
		t.Fatalf("guest power %v", p)
	}
	if h.store.get(id).st.Host != testHost || len(h.claims.list()) != 0 {
		t.Fatalf("shelved instance lost host or claim: %q %q", h.store.get(id).st.Host, h.claims.list())
	}
	// Unshelve of a shelved instance: the same guest, powered on.
	h.store.resetHistory(id)
	if err := h.m.Unshelve(ctx, UnshelveRequest{ProjectID: "p1", ImageID: "img-a", Spec: spec(id)}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	h.expectHistory(id, "shelved/None", "shelved/unshelving", "active/None")
	h.expectState(id, VMActive, TaskNone, virt.Running)
	if !slices.Contains(h.images.deleted, "img-a") {
		t.Fatalf("shelved image not deleted: %q", h.images.deleted)
	}

	id2 := h.active()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id2, ProjectID: "p1", ImageID: "img-b"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id2)
	h.store.resetHistory(id2)
	if err := h.m.ShelveOffload(ctx, id2, "req-off"); err != nil {
		t.Fatal(err)
	}
	h.wait(id2)
	h.expectHistory(id2, "shelved/None", "shelved/shelving_offloading", "shelved_offloaded/None")
	if _, ok := h.drv.Spec(id2); ok || h.store.get(id2).st.Host != "" {
		t.Fatal("offload left the guest or the host")
	}
}

// TestUnshelveFailure: a spawn that fails leaves the instance
// shelved_offloaded with a fault, nothing in the driver, the new claim
// released and the shelved image kept for another try.
func TestUnshelveFailure(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	id := h.active()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "img-f"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	// img-f is not registered as bootable: the image fetch fails.
	if err := h.m.Unshelve(ctx, UnshelveRequest{RequestID: "r", ProjectID: "p1", ImageID: "img-f", Spec: spec(id)}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	h.expectOffloaded(id)
	in := h.store.get(id)
	if len(in.faults) != 1 || in.st.Host != "" || !slices.Contains(in.eventList(), "compute_unshelve_instance:Error") {
		t.Fatalf("faults %+v host %q events %q", in.faults, in.st.Host, in.eventList())
	}
	if slices.Contains(h.images.deleted, "img-f") {
		t.Fatal("the shelved image was deleted by a failed unshelve")
	}
	if c := h.claims.list(); !slices.Equal(c, []string{"release:" + id, "release:" + id}) {
		t.Fatalf("claims %q", c)
	}
}

// TestShelveUploadFailure: a failed upload deletes the image and puts the
// task back, with a fault; the instance is not shelved.
func TestShelveUploadFailure(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	id := h.active()
	h.images.mu.Lock()
	h.images.failPut = errTest
	h.images.mu.Unlock()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "img-u"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	st := h.store.get(id)
	if st.st.VMState != VMActive || st.st.TaskState != TaskNone || len(st.faults) != 1 {
		t.Fatalf("after failed shelve %+v faults %+v", st.st, st.faults)
	}
	if !slices.Contains(h.images.deleted, "img-u") {
		t.Fatalf("image of the failed shelve kept: %q", h.images.deleted)
	}
}

// TestReconcileShelved: after a restart an offload cut short is done
// again and an offloaded instance without a guest is left alone.
func TestReconcileShelved(t *testing.T) {
	h := newHarness(t, Config{ShelvedOffloadTime: -1})
	ctx := context.Background()
	id := h.active()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "img-r"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	// As if kumo stopped during the offload.
	if err := h.store.Update(ctx, id, Update{TaskState: ptr(TaskShelvingOffloading)}); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	h.expectOffloaded(id)
	if _, ok := h.drv.Spec(id); ok {
		t.Fatal("guest left after the repaired offload")
	}
	if err := h.m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	h.expectOffloaded(id)
}

// TestShelvePausedAndStopped: paused and stopped instances shelve too
// (Nova's allowed states), ending offloaded.
func TestShelvePausedAndStopped(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	paused, stopped := h.active(), h.active()
	h.do(paused, func(id string) error { return h.m.Pause(ctx, id, "") })
	h.do(stopped, func(id string) error { return h.m.Stop(ctx, id, "") })
	for _, id := range []string{paused, stopped} {
		if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "img-" + id}); err != nil {
			t.Fatal(err)
		}
		h.wait(id)
		h.expectOffloaded(id)
	}
}

// TestShelveOffloadLater: with a positive shelved_offload_time the
// instance is shelved first and offloaded once that time has passed.
func TestShelveOffloadLater(t *testing.T) {
	h := newHarness(t, Config{ShelvedOffloadTime: 2 * time.Second})
	ctx := context.Background()
	id := h.active()
	if err := h.m.Shelve(ctx, ShelveRequest{UUID: id, ProjectID: "p1", ImageID: "img-l"}); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	h.expectState(id, VMShelved, TaskNone, virt.Shutdown)
	deadline := time.Now().Add(10 * time.Second)
	for h.store.get(id).st.VMState != VMShelvedOffloaded {
		if time.Now().After(deadline) {
			t.Fatalf("not offloaded after 10s: %+v", h.store.get(id).st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.wait(id)
	h.expectOffloaded(id)
}
