package manager

import (
	"context"
	"fmt"

	"kumo/internal/compute/virt"
)

// ResizeRequest resizes an instance to Spec's vCPUs, memory and root disk.
// The API has checked the flavor, claimed it and recorded it as the
// instance's new_flavor.
type ResizeRequest struct {
	RequestID string
	Spec      virt.InstanceSpec
}

// Resize resizes an active or stopped instance on this host: resize_prep →
// resize_migrating → resize_migrated → resize_finish → resized (the API's
// VERIFY_RESIZE). The guest is powered on again if it was active. A failure
// before the new size is applied rolls back (same vm_state, fault, new
// claim dropped); a later one leaves the instance in error.
func (m *Manager) Resize(ctx context.Context, req ResizeRequest) error {
	uuid := req.Spec.UUID
	st, o, err := m.accept(ctx, uuid, rule{method: "resize", vmStates: []string{VMActive, VMStopped},
		mustLaunched: true, newTask: TaskResizePrep})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.resize(ctx, req, st.VMState) })
	return nil
}

func (m *Manager) resize(ctx context.Context, req ResizeRequest, origVM string) {
	uuid, rid := req.Spec.UUID, req.RequestID
	// prep_resize: the claim is the API's; only the state moves here.
	err := m.step(ctx, uuid, rid, "compute_prep_resize", func() error {
		return m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskResizeMigrating),
			Expected: []string{TaskResizePrep}})
	})
	if err != nil {
		m.rollbackResize(ctx, uuid, origVM, TaskResizePrep, err)
		return
	}
	// resize_instance: power off and apply the new size.
	applied := false
	err = m.step(ctx, uuid, rid, "compute_resize_instance", func() error {
		if err := m.drv.PowerOff(ctx, uuid, m.cfg.ShutdownTimeout); err != nil {
			return fmt.Errorf("power off: %w", err)
		}
		if err := m.drv.Resize(ctx, req.Spec); err != nil {
			return fmt.Errorf("resize: %w", err)
		}
		applied = true
		return m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskResizeMigrated), PowerState: ptr(virt.Shutdown),
			Expected: []string{TaskResizeMigrating}})
	})
	if err != nil {
		if applied {
			m.errorOut(ctx, uuid, "compute_resize_instance", err)
		} else {
			m.rollbackResize(ctx, uuid, origVM, TaskResizeMigrating, err)
		}
		return
	}
	// finish_resize: the new flavor becomes the instance's, the guest
	// comes back as it was.
	err = m.step(ctx, uuid, rid, "compute_finish_resize", func() error {
		if err := m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskResizeFinish), Flavor: FlavorUseNew,
			Expected: []string{TaskResizeMigrated}}); err != nil {
			return err
		}
		if origVM == VMActive {
			if err := m.drv.PowerOn(ctx, uuid); err != nil {
				return fmt.Errorf("power on: %w", err)
			}
		}
		return m.store.Update(ctx, uuid, Update{VMState: VMResized, TaskState: ptr(TaskNone),
			PowerState: ptr(m.power(ctx, uuid)), Expected: []string{TaskResizeFinish}})
	})
	if err != nil {
		m.errorOut(ctx, uuid, "compute_finish_resize", err)
	}
}

// step runs fn as one instance-action event.
func (m *Manager) step(ctx context.Context, uuid, rid, ev string, fn func() error) error {
	err := error(nil)
	finish := m.event(ctx, uuid, rid, ev)
	defer func() { finish(&err) }()
	err = fn()
	return err
}

// rollbackResize is Nova's InstanceFaultRollback: the instance is put back
// as it was (powered on again if it was active), with a fault, and the new
// flavor's claim dropped.
func (m *Manager) rollbackResize(ctx context.Context, uuid, origVM, task string, cause error) {
	if m.deleting(ctx, uuid, cause) {
		return
	}
	m.log.Error("resize failed, rolling back", "instance", uuid, "err", cause)
	if origVM == VMActive && m.power(ctx, uuid) != virt.Running {
		if err := m.drv.PowerOn(ctx, uuid); err != nil {
			m.log.Error("power on after failed resize", "instance", uuid, "err", err)
		}
	}
	if m.claims != nil {
		if err := m.claims.RevertResize(ctx, uuid); err != nil {
			m.log.Error("revert claims after failed resize", "instance", uuid, "err", err)
		}
	}
	m.revertTask(ctx, uuid, task, "compute_resize_instance", cause)
}

// errorOut is Nova's error_out_instance_on_exception: vm_state error,
// task_state None, a fault.
func (m *Manager) errorOut(ctx context.Context, uuid, ev string, cause error) {
	if m.deleting(ctx, uuid, cause) {
		return
	}
	m.log.Error("instance action failed", "instance", uuid, "event", ev, "err", cause)
	if err := m.store.Update(ctx, uuid, Update{VMState: VMError, TaskState: ptr(TaskNone),
		PowerState: ptr(m.power(ctx, uuid)), Fault: m.newFault(ev, cause)}); err != nil {
		m.log.Error("set instance to error", "instance", uuid, "err", err)
	}
}

// ConfirmResize keeps the new size of a resized instance: its old flavor's
// claim is dropped and it becomes active (or stopped, if it was).
// kumo marks the short confirm with task_state resize_confirming (the
// status stays VERIFY_RESIZE) so it cannot race a revert.
func (m *Manager) ConfirmResize(ctx context.Context, uuid, requestID string) error {
	_, o, err := m.accept(ctx, uuid, rule{method: "confirmResize", vmStates: []string{VMResized},
		newTask: TaskResizeConfirming})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) {
		err := m.step(ctx, uuid, requestID, "compute_confirm_resize", func() error {
			if m.claims != nil {
				if err := m.claims.ConfirmResize(ctx, uuid); err != nil {
					return fmt.Errorf("confirm claims: %w", err)
				}
			}
			return m.store.Update(ctx, uuid, Update{VMState: m.settled(ctx, uuid), TaskState: ptr(TaskNone),
				PowerState: ptr(m.power(ctx, uuid)), Flavor: FlavorDropOld, Expected: []string{TaskResizeConfirming}})
		})
		if err != nil {
			m.errorOut(ctx, uuid, "compute_confirm_resize", err)
		}
	})
	return nil
}

// settled is active or stopped by the driver's power state: while resized
// an instance cannot be stopped or started, so its power state tells what
// it was before the resize (Nova keeps old_vm_state for this).
func (m *Manager) settled(ctx context.Context, uuid string) string {
	if m.power(ctx, uuid) == virt.Running {
		return VMActive
	}
	return VMStopped
}

// RevertResize goes back to the old size: resize_reverting (REVERT_RESIZE)
// → active, or stopped if the instance was stopped before the resize.
func (m *Manager) RevertResize(ctx context.Context, uuid, requestID string) error {
	_, o, err := m.accept(ctx, uuid, rule{method: "revertResize", vmStates: []string{VMResized},
		newTask: TaskResizeReverting})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) {
		wasActive := m.power(ctx, uuid) == virt.Running
		err := m.step(ctx, uuid, requestID, "compute_revert_resize", func() error {
			if err := m.drv.PowerOff(ctx, uuid, m.cfg.ShutdownTimeout); err != nil {
				return fmt.Errorf("power off: %w", err)
			}
			if err := m.drv.RevertResize(ctx, uuid); err != nil {
				return fmt.Errorf("revert resize: %w", err)
			}
			if m.claims != nil {
				if err := m.claims.RevertResize(ctx, uuid); err != nil {
					return fmt.Errorf("revert claims: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			m.errorOut(ctx, uuid, "compute_revert_resize", err)
			return
		}
		err = m.step(ctx, uuid, requestID, "compute_finish_revert_resize", func() error {
			vm := VMStopped
			if wasActive {
				if err := m.drv.PowerOn(ctx, uuid); err != nil {
					return fmt.Errorf("power on: %w", err)
				}
				vm = VMActive
			}
			return m.store.Update(ctx, uuid, Update{VMState: vm, TaskState: ptr(TaskNone),
				PowerState: ptr(m.power(ctx, uuid)), Flavor: FlavorUseOld, Expected: []string{TaskResizeReverting}})
		})
		if err != nil {
			m.errorOut(ctx, uuid, "compute_finish_revert_resize", err)
		}
	})
	return nil
}
