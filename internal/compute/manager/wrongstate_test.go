package manager

import (
	"context"
	"errors"
	"testing"
)

// TestWrongState: every action refused in a state Nova refuses it in, with
// Nova's InstanceInvalidState message, and the instance left untouched.
func TestWrongState(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	active := h.active()
	stopped := h.active()
	h.do(stopped, func(id string) error { return h.m.Stop(ctx, id, "r") })
	paused := h.active()
	h.do(paused, func(id string) error { return h.m.Pause(ctx, id, "r") })
	building := h.create()
	// A failed build: error, never launched.
	neverLaunched := h.create()
	h.images.put("huge", []byte("x"), 1<<20, 0)
	req := h.buildReq(neverLaunched)
	req.ImageID = "huge"
	h.do(neverLaunched, func(string) error { return h.m.Build(ctx, req) })

	snap := func(id string) error {
		return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r", ProjectID: "p1", ImageID: "s"})
	}
	resize := func(id string) error { return h.m.Resize(ctx, ResizeRequest{RequestID: "r", Spec: spec(id)}) }
	cases := []struct {
		name   string
		id     string
		action func(id string) error
		want   string
	}{
		{"start active", active, func(id string) error { return h.m.Start(ctx, id, "r") }, "Cannot 'start' instance %s while it is in vm_state active"},
		{"stop stopped", stopped, func(id string) error { return h.m.Stop(ctx, id, "r") }, "Cannot 'stop' instance %s while it is in vm_state stopped"},
		{"pause stopped", stopped, func(id string) error { return h.m.Pause(ctx, id, "r") }, "Cannot 'pause' instance %s while it is in vm_state stopped"},
		{"unpause active", active, func(id string) error { return h.m.Unpause(ctx, id, "r") }, "Cannot 'unpause' instance %s while it is in vm_state active"},
		{"suspend paused", paused, func(id string) error { return h.m.Suspend(ctx, id, "r") }, "Cannot 'suspend' instance %s while it is in vm_state paused"},
		{"resume active", active, func(id string) error { return h.m.Resume(ctx, id, "r") }, "Cannot 'resume' instance %s while it is in vm_state active"},
		{"soft reboot stopped", stopped, func(id string) error { return h.m.Reboot(ctx, id, "r", false) }, "Cannot 'reboot' instance %s while it is in vm_state stopped"},
		{"unrescue active", active, func(id string) error { return h.m.Unrescue(ctx, id, "r") }, "Cannot 'unrescue' instance %s while it is in vm_state active"},
		{"rescue paused", paused, func(id string) error {
			return h.m.Rescue(ctx, RescueRequest{UUID: id, RequestID: "r", ProjectID: "p1", ImageID: "rescue"})
		}, "Cannot 'rescue' instance %s while it is in vm_state paused"},
		{"resize paused", paused, resize, "Cannot 'resize' instance %s while it is in vm_state paused"},
		{"confirm active", active, func(id string) error { return h.m.ConfirmResize(ctx, id, "r") }, "Cannot 'confirmResize' instance %s while it is in vm_state active"},
		{"revert active", active, func(id string) error { return h.m.RevertResize(ctx, id, "r") }, "Cannot 'revertResize' instance %s while it is in vm_state active"},
		{"rebuild paused", paused, func(id string) error {
			return h.m.Rebuild(ctx, RebuildRequest{RequestID: "r", ProjectID: "p1", ImageID: "cirros", Spec: spec(id)})
		}, "Cannot 'rebuild' instance %s while it is in vm_state paused"},
		{"snapshot building", building, snap, "Cannot 'createImage' instance %s while it is in vm_state building"},
		{"stop building", building, func(id string) error { return h.m.Stop(ctx, id, "r") }, "Cannot 'stop' instance %s while it is in vm_state building"},
		{"stop never launched", neverLaunched, func(id string) error { return h.m.Stop(ctx, id, "r") }, "Cannot 'stop' instance %s while it is in launched_at None"},
		{"build active", active, func(id string) error { return h.m.Build(ctx, h.buildReq(id)) }, "Cannot 'build' instance %s while it is in vm_state active"},
	}
	for _, c := range cases {
		before := h.store.get(c.id).history
		err := c.action(c.id)
		var ise *InvalidStateError
		if !errors.As(err, &ise) || err.Error() != sprintf(c.want, c.id) {
			t.Errorf("%s: err = %v, want %q", c.name, err, sprintf(c.want, c.id))
			continue
		}
		h.wait(c.id)
		if after := h.store.get(c.id).history; len(after) != len(before) {
			t.Errorf("%s: a refused action changed the instance: %q", c.name, after[len(before):])
		}
	}

	// A task in progress blocks every other action but a hard reboot
	// (when the task is one Nova lets it interrupt) and a delete.
	if err := h.store.Update(ctx, active, Update{TaskState: ptr(TaskPausing)}); err != nil {
		t.Fatal(err)
	}
	err := h.m.Stop(ctx, active, "r")
	if err == nil || err.Error() != sprintf("Cannot 'stop' instance %s while it is in task_state pausing", active) {
		t.Fatalf("stop while pausing: %v", err)
	}
	if err := h.m.Reboot(ctx, active, "r", false); err == nil {
		t.Fatal("soft reboot while pausing accepted")
	}
	if err := h.m.Reboot(ctx, active, "r", true); err != nil {
		t.Fatalf("hard reboot while pausing: %v", err)
	}
	h.wait(active)
	h.expectState(active, VMActive, TaskNone, 1)

	if err := h.m.Stop(ctx, newUUID(), "r"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stop of an unknown instance: %v", err)
	}
}
