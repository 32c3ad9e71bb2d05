package manager

import (
	"context"
	"slices"
	"testing"

	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
)

// TestReconcile: after a restart, instances stuck in a task or out of step
// with their guest are repaired as Nova's _init_instance and
// _sync_power_states do, and unknown guests are destroyed.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	type tc struct {
		name  string
		setup func(h *harness) string // leaves the instance as a crash would
		vm    string
		power virt.PowerState
		check func(t *testing.T, h *harness, id string)
	}
	// crashed puts an active instance's record into (vm, task) and its
	// guest into power p, as if kumo died there.
	crashed := func(vm, task string, p virt.PowerState) func(h *harness) string {
		return func(h *harness) string {
			id := h.active()
			h.store.Update(ctx, id, Update{VMState: vm, TaskState: ptr(task)})
			if p != virt.Running {
				h.drv.SetPowerState(id, p)
			}
			return id
		}
	}
	cases := []tc{
		{"active, guest shut down", crashed(VMActive, TaskNone, virt.Shutdown), VMStopped, virt.Shutdown, nil},
		{"active, guest crashed", crashed(VMActive, TaskNone, virt.Crashed), VMStopped, virt.Shutdown, nil},
		{"active, guest suspended", crashed(VMActive, TaskNone, virt.Suspended), VMStopped, virt.Shutdown, nil},
		{"active, guest paused: only the power state", crashed(VMActive, TaskNone, virt.Paused), VMActive, virt.Paused, nil},
		{"stopped, guest running", crashed(VMStopped, TaskNone, virt.Running), VMStopped, virt.Shutdown, nil},
		{"paused, guest shut down", crashed(VMPaused, TaskNone, virt.Shutdown), VMStopped, virt.Shutdown, nil},
		{"active, in step", crashed(VMActive, TaskNone, virt.Running), VMActive, virt.Running,
			func(t *testing.T, h *harness, id string) {
				h.expectHistory(id, "active/None")
			}},
		{"building", func(h *harness) string {
			id := h.create()
			h.store.Update(ctx, id, Update{TaskState: ptr(TaskSpawning), Host: testHost})
			h.drv.Spawn(ctx, spec(id), h.images.images["cirros"].Image) // the guest got started
			return id
		}, VMError, virt.NoState, func(t *testing.T, h *harness, id string) {
			if ids, _ := h.drv.Instances(ctx); slices.Contains(ids, id) {
				t.Fatal("half-built guest left in the driver")
			}
			if got := h.claims.list(); !slices.Equal(got, []string{"release:" + id}) {
				t.Fatalf("claims %q", got)
			}
			if f := h.store.get(id).faults; len(f) != 1 {
				t.Fatalf("faults %+v", f)
			}
		}},
		{"powering-off", crashed(VMActive, TaskPoweringOff, virt.Running), VMStopped, virt.Shutdown, nil},
		{"powering-on", crashed(VMStopped, TaskPoweringOn, virt.Shutdown), VMActive, virt.Running, nil},
		{"rebooting", crashed(VMActive, TaskRebooting, virt.Running), VMActive, virt.Running,
			func(t *testing.T, h *harness, id string) {
				h.expectHistory(id, "active/rebooting", "active/reboot_pending", "active/reboot_started", "active/None")
			}},
		{"reboot started, guest down", crashed(VMActive, TaskRebootStarted, virt.Shutdown), VMActive, virt.Running,
			func(t *testing.T, h *harness, id string) {
				h.expectHistory(id, "active/reboot_started", "active/rebooting_hard", "active/reboot_pending_hard",
					"active/reboot_started_hard", "active/None")
			}},
		{"reboot started, guest up", crashed(VMActive, TaskRebootStartedHard, virt.Running), VMActive, virt.Running,
			func(t *testing.T, h *harness, id string) {
				h.expectHistory(id, "active/reboot_started_hard", "active/None")
			}},
		{"snapshot uploading", crashed(VMActive, TaskImageUploading, virt.Running), VMActive, virt.Running, nil},
		{"resize prep", crashed(VMActive, TaskResizePrep, virt.Running), VMActive, virt.Running, nil},
		{"rebuild spawning", crashed(VMActive, TaskRebuildSpawning, virt.Running), VMError, virt.Running, nil},
		{"pausing, guest paused", crashed(VMActive, TaskPausing, virt.Paused), VMPaused, virt.Paused, nil},
		{"pausing, guest running", crashed(VMActive, TaskPausing, virt.Running), VMActive, virt.Running, nil},
		{"resuming, guest still suspended", crashed(VMSuspended, TaskResuming, virt.Suspended), VMSuspended,
			virt.Suspended, nil},
		{"error stays", crashed(VMError, TaskNone, virt.Shutdown), VMError, virt.Shutdown, nil},
		{"deleting", crashed(VMActive, TaskDeleting, virt.Running), VMDeleted, virt.NoState,
			func(t *testing.T, h *harness, id string) {
				if ids, _ := h.drv.Instances(ctx); slices.Contains(ids, id) {
					t.Fatal("deleted instance's guest left")
				}
			}},
		{"resize migrated", func(h *harness) string {
			id := h.active()
			h.store.Update(ctx, id, Update{TaskState: ptr(TaskResizeMigrated)})
			h.drv.PowerOff(ctx, id, 0)
			big := spec(id)
			big.VCPUs, big.MemoryMB = 4, 512
			h.drv.Resize(ctx, big)
			return id
		}, VMActive, virt.Running, func(t *testing.T, h *harness, id string) {
			if s, _ := h.drv.Spec(id); s.VCPUs != 1 || s.MemoryMB != 128 {
				t.Fatalf("spec after reconcile %+v, want the old size", s)
			}
			if got := h.claims.list(); !slices.Equal(got, []string{"revert:" + id}) {
				t.Fatalf("claims %q", got)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			id := c.setup(h)
			h.store.resetHistory(id)
			// A guest no instance owns, and one whose instance is deleted.
			h.drv.Spawn(ctx, spec("orphan-0000"), h.images.images["cirros"].Image)
			gone := h.active()
			h.store.Update(ctx, gone, Update{VMState: VMDeleted})

			if err := h.m.Reconcile(ctx); err != nil {
				t.Fatalf("reconcile: %v", err)
			}
			in := h.store.get(id)
			if in.st.VMState != c.vm || in.st.TaskState != TaskNone || in.st.PowerState != c.power {
				t.Fatalf("after reconcile %s/%q power %v; want %s/None power %v (history %q)",
					in.st.VMState, in.st.TaskState, in.st.PowerState, c.vm, c.power, in.history)
			}
			if c.vm != VMDeleted && c.vm != VMError {
				if p, _ := h.drv.PowerState(ctx, id); p != c.power {
					t.Fatalf("driver power %v", p)
				}
			}
			ids, _ := h.drv.Instances(ctx)
			if slices.Contains(ids, "orphan-0000") || slices.Contains(ids, gone) {
				t.Fatalf("unknown guests not destroyed: %q", ids)
			}
			if c.check != nil {
				c.check(t, h, id)
			}
		})
	}
}

// TestReconcileRetryFailure: a retried stop that fails leaves the
// instance with a fault and no task, not stuck.
func TestReconcileRetryFailure(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.store.Update(ctx, id, Update{TaskState: ptr(TaskPoweringOff)})
	h.drv.Fail(simulated.OpPowerOff, id, 1, errTest)
	if err := h.m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	h.expectState(id, VMActive, TaskNone, virt.Running)
	if f := h.store.get(id).faults; len(f) != 1 {
		t.Fatalf("faults %+v", f)
	}
}
