package manager

import (
	"context"
	"slices"
	"strings"
	"testing"

	"kumo/internal/compute/virt"
)

// TestBuildSequence: a build walks Nova's states to active, on this host,
// launched, running, with one successful build event and the guest's
// marker on its console.
func TestBuildSequence(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.active()
	h.expectHistory(id, "building/scheduling", "building/None", "building/networking", "building/block_device_mapping",
		"building/spawning", "active/None")
	in := h.store.get(id)
	h.expectState(id, VMActive, TaskNone, virt.Running)
	if in.st.Host != testHost || in.st.LaunchedAt.IsZero() {
		t.Fatalf("host %q launched_at %v", in.st.Host, in.st.LaunchedAt)
	}
	if got := in.eventList(); !slices.Equal(got, []string{"compute__do_build_and_run_instance:Success"}) {
		t.Fatalf("events %q", got)
	}
	if in.events[0].rid != "req-build-"+id || in.events[0].finish.Before(in.events[0].start) {
		t.Fatalf("event %+v", in.events[0])
	}
	if c := h.claims.list(); len(c) != 0 {
		t.Fatalf("claims touched by a good build: %q", c)
	}
	out, _ := h.drv.ConsoleOutput(context.Background(), id, 0)
	if !strings.Contains(out, "KUMO-GUEST-READY instance-id="+id) {
		t.Fatalf("console: %s", out)
	}
}

// TestBuildConfigDrive: the config drive builder's bytes reach the driver.
func TestBuildConfigDrive(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.create()
	req := h.buildReq(id)
	called := false
	req.ConfigDrive = func(context.Context) ([]byte, error) { called = true; return []byte("CD001"), nil }
	if err := h.m.Build(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	if s, _ := h.drv.Spec(id); !called || !s.HasConfig {
		t.Fatalf("config drive called=%t, driver has_config_drive=%t", called, s.HasConfig)
	}
}

// TestActionSequences runs every action from the state it applies to and
// compares the recorded (vm_state/task_state) transitions, the final power
// state and the events with Nova's.
func TestActionSequences(t *testing.T) {
	ctx := context.Background()
	type setup func(h *harness, id string)
	stopped := func(h *harness, id string) { h.do(id, func(id string) error { return h.m.Stop(ctx, id, "r0") }) }
	paused := func(h *harness, id string) { h.do(id, func(id string) error { return h.m.Pause(ctx, id, "r0") }) }
	suspended := func(h *harness, id string) { h.do(id, func(id string) error { return h.m.Suspend(ctx, id, "r0") }) }
	rescued := func(h *harness, id string) {
		h.do(id, func(id string) error {
			return h.m.Rescue(ctx, RescueRequest{UUID: id, RequestID: "r0", ProjectID: "p1", ImageID: "rescue"})
		})
	}
	bigger := func(id string) ResizeRequest {
		s := spec(id)
		s.VCPUs, s.MemoryMB, s.RootGB = 2, 256, 2
		return ResizeRequest{RequestID: "r1", Spec: s}
	}
	resized := func(h *harness, id string) { h.do(id, func(id string) error { return h.m.Resize(ctx, bigger(id)) }) }
	resizedStopped := func(h *harness, id string) { stopped(h, id); resized(h, id) }
	errored := func(h *harness, id string) {
		if err := h.store.Update(ctx, id, Update{VMState: VMError}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		setup   setup
		action  func(h *harness, id string) error
		history []string
		vm      string
		power   virt.PowerState
		events  []string
	}{
		{"stop", nil, func(h *harness, id string) error { return h.m.Stop(ctx, id, "r1") },
			[]string{"active/None", "active/powering-off", "stopped/None"}, VMStopped, virt.Shutdown,
			[]string{"compute_stop_instance:Success"}},
		{"stop error", errored, func(h *harness, id string) error { return h.m.Stop(ctx, id, "r1") },
			[]string{"error/None", "error/powering-off", "stopped/None"}, VMStopped, virt.Shutdown,
			[]string{"compute_stop_instance:Success"}},
		{"start", stopped, func(h *harness, id string) error { return h.m.Start(ctx, id, "r1") },
			[]string{"stopped/None", "stopped/powering-on", "active/None"}, VMActive, virt.Running,
			[]string{"compute_start_instance:Success"}},
		{"soft reboot", nil, func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r1", false) },
			[]string{"active/None", "active/rebooting", "active/reboot_pending", "active/reboot_started", "active/None"},
			VMActive, virt.Running, []string{"compute_reboot_instance:Success"}},
		{"hard reboot", nil, func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r1", true) },
			[]string{"active/None", "active/rebooting_hard", "active/reboot_pending_hard", "active/reboot_started_hard",
				"active/None"}, VMActive, virt.Running, []string{"compute_reboot_instance:Success"}},
		{"hard reboot stopped", stopped, func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r1", true) },
			[]string{"stopped/None", "stopped/rebooting_hard", "stopped/reboot_pending_hard",
				"stopped/reboot_started_hard", "active/None"}, VMActive, virt.Running,
			[]string{"compute_reboot_instance:Success"}},
		{"hard reboot paused", paused, func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r1", true) },
			[]string{"paused/None", "paused/rebooting_hard", "paused/reboot_pending_hard",
				"paused/reboot_started_hard", "active/None"}, VMActive, virt.Running,
			[]string{"compute_reboot_instance:Success"}},
		{"hard reboot suspended", suspended, func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r1", true) },
			[]string{"suspended/None", "suspended/rebooting_hard", "suspended/reboot_pending_hard",
				"suspended/reboot_started_hard", "active/None"}, VMActive, virt.Running,
			[]string{"compute_reboot_instance:Success"}},
		{"pause", nil, func(h *harness, id string) error { return h.m.Pause(ctx, id, "r1") },
			[]string{"active/None", "active/pausing", "paused/None"}, VMPaused, virt.Paused,
			[]string{"compute_pause_instance:Success"}},
		{"unpause", paused, func(h *harness, id string) error { return h.m.Unpause(ctx, id, "r1") },
			[]string{"paused/None", "paused/unpausing", "active/None"}, VMActive, virt.Running,
			[]string{"compute_unpause_instance:Success"}},
		{"suspend", nil, func(h *harness, id string) error { return h.m.Suspend(ctx, id, "r1") },
			[]string{"active/None", "active/suspending", "suspended/None"}, VMSuspended, virt.Suspended,
			[]string{"compute_suspend_instance:Success"}},
		{"resume", suspended, func(h *harness, id string) error { return h.m.Resume(ctx, id, "r1") },
			[]string{"suspended/None", "suspended/resuming", "active/None"}, VMActive, virt.Running,
			[]string{"compute_resume_instance:Success"}},
		{"rescue", nil, func(h *harness, id string) error {
			return h.m.Rescue(ctx, RescueRequest{UUID: id, RequestID: "r1", ProjectID: "p1", ImageID: "rescue"})
		}, []string{"active/None", "active/rescuing", "rescued/None"}, VMRescued, virt.Running,
			[]string{"compute_rescue_instance:Success"}},
		{"rescue stopped", stopped, func(h *harness, id string) error {
			return h.m.Rescue(ctx, RescueRequest{UUID: id, RequestID: "r1", ProjectID: "p1", ImageID: "rescue"})
		}, []string{"stopped/None", "stopped/rescuing", "rescued/None"}, VMRescued, virt.Running,
			[]string{"compute_rescue_instance:Success"}},
		{"unrescue", rescued, func(h *harness, id string) error { return h.m.Unrescue(ctx, id, "r1") },
			[]string{"rescued/None", "rescued/unrescuing", "active/None"}, VMActive, virt.Running,
			[]string{"compute_unrescue_instance:Success"}},
		{"resize", nil, func(h *harness, id string) error { return h.m.Resize(ctx, bigger(id)) },
			[]string{"active/None", "active/resize_prep", "active/resize_migrating", "active/resize_migrated",
				"active/resize_finish", "resized/None"}, VMResized, virt.Running,
			[]string{"compute_prep_resize:Success", "compute_resize_instance:Success", "compute_finish_resize:Success"}},
		{"resize stopped", stopped, func(h *harness, id string) error { return h.m.Resize(ctx, bigger(id)) },
			[]string{"stopped/None", "stopped/resize_prep", "stopped/resize_migrating", "stopped/resize_migrated",
				"stopped/resize_finish", "resized/None"}, VMResized, virt.Shutdown,
			[]string{"compute_prep_resize:Success", "compute_resize_instance:Success", "compute_finish_resize:Success"}},
		{"confirm resize", resized, func(h *harness, id string) error { return h.m.ConfirmResize(ctx, id, "r2") },
			[]string{"resized/None", "resized/resize_confirming", "active/None"}, VMActive, virt.Running,
			[]string{"compute_confirm_resize:Success"}},
		{"confirm resize stopped", resizedStopped, func(h *harness, id string) error {
			return h.m.ConfirmResize(ctx, id, "r2")
		}, []string{"resized/None", "resized/resize_confirming", "stopped/None"}, VMStopped, virt.Shutdown,
			[]string{"compute_confirm_resize:Success"}},
		{"revert resize", resized, func(h *harness, id string) error { return h.m.RevertResize(ctx, id, "r2") },
			[]string{"resized/None", "resized/resize_reverting", "active/None"}, VMActive, virt.Running,
			[]string{"compute_revert_resize:Success", "compute_finish_revert_resize:Success"}},
		{"revert resize stopped", resizedStopped, func(h *harness, id string) error {
			return h.m.RevertResize(ctx, id, "r2")
		}, []string{"resized/None", "resized/resize_reverting", "stopped/None"}, VMStopped, virt.Shutdown,
			[]string{"compute_revert_resize:Success", "compute_finish_revert_resize:Success"}},
		{"rebuild", nil, func(h *harness, id string) error {
			return h.m.Rebuild(ctx, RebuildRequest{RequestID: "r1", ProjectID: "p1", ImageID: "cirros", Spec: spec(id)})
		}, []string{"active/None", "active/rebuilding", "active/rebuild_block_device_mapping",
			"active/rebuild_spawning", "active/None"}, VMActive, virt.Running,
			[]string{"compute_rebuild_instance:Success"}},
		{"rebuild stopped", stopped, func(h *harness, id string) error {
			return h.m.Rebuild(ctx, RebuildRequest{RequestID: "r1", ProjectID: "p1", ImageID: "cirros", Spec: spec(id)})
		}, []string{"stopped/None", "stopped/rebuilding", "stopped/rebuild_block_device_mapping",
			"stopped/rebuild_spawning", "active/None", "active/powering-off", "stopped/None"}, VMStopped, virt.Shutdown,
			[]string{"compute_rebuild_instance:Success", "compute_stop_instance:Success"}},
		{"rebuild error", errored, func(h *harness, id string) error {
			return h.m.Rebuild(ctx, RebuildRequest{RequestID: "r1", ProjectID: "p1", ImageID: "cirros", Spec: spec(id)})
		}, []string{"error/None", "error/rebuilding", "error/rebuild_block_device_mapping",
			"error/rebuild_spawning", "active/None"}, VMActive, virt.Running,
			[]string{"compute_rebuild_instance:Success"}},
		{"snapshot", nil, func(h *harness, id string) error {
			return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r1", ProjectID: "p1", ImageID: "snap-" + id})
		}, []string{"active/None", "active/image_snapshot_pending", "active/image_snapshot",
			"active/image_pending_upload", "active/image_uploading", "active/None"}, VMActive, virt.Running,
			[]string{"compute_snapshot_instance:Success"}},
		{"snapshot paused", paused, func(h *harness, id string) error {
			return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r1", ProjectID: "p1", ImageID: "snap-" + id})
		}, []string{"paused/None", "paused/image_snapshot_pending", "paused/image_snapshot",
			"paused/image_pending_upload", "paused/image_uploading", "paused/None"}, VMPaused, virt.Paused,
			[]string{"compute_snapshot_instance:Success"}},
		{"delete", nil, func(h *harness, id string) error { return h.m.Delete(ctx, id, "r1") },
			[]string{"active/None", "active/deleting", "deleted/None"}, VMDeleted, virt.NoState,
			[]string{"compute_terminate_instance:Success"}},
		{"delete error", errored, func(h *harness, id string) error { return h.m.Delete(ctx, id, "r1") },
			[]string{"error/None", "error/deleting", "deleted/None"}, VMDeleted, virt.NoState,
			[]string{"compute_terminate_instance:Success"}},
		{"delete rescued", rescued, func(h *harness, id string) error { return h.m.Delete(ctx, id, "r1") },
			[]string{"rescued/None", "rescued/deleting", "deleted/None"}, VMDeleted, virt.NoState,
			[]string{"compute_terminate_instance:Success"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			id := h.active()
			if c.setup != nil {
				c.setup(h, id)
			}
			h.store.resetHistory(id)
			h.do(id, func(id string) error { return c.action(h, id) })
			h.expectHistory(id, c.history...)
			h.expectState(id, c.vm, TaskNone, c.power)
			in := h.store.get(id)
			if got := in.eventList(); !slices.Equal(got, c.events) {
				t.Fatalf("events %q, want %q", got, c.events)
			}
			if len(in.faults) != 0 {
				t.Fatalf("faults %+v", in.faults)
			}
		})
	}
}
