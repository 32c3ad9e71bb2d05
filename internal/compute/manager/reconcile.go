package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"kumo/internal/compute/virt"
)

// Reconcile repairs this host's instances after kumo (re)starts, as
// nova-compute's _init_instance, _sync_power_states and the reaping of
// unknown guests: an action cut short by the restart is finished, retried,
// or ends in error; a stable instance whose guest changed power state
// behind Nova's back is brought in line; a guest the store does not know
// (or knows as deleted) is destroyed. It returns when every repair it
// started has finished. Call it before serving requests.
func (m *Manager) Reconcile(ctx context.Context) error {
	insts, err := m.store.Instances(ctx, m.cfg.Host)
	if err != nil {
		return fmt.Errorf("reconcile: list instances: %w", err)
	}
	known := map[string]bool{}
	var errs []error
	for _, st := range insts {
		known[st.UUID] = true
		if err := m.initInstance(ctx, st); err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", st.UUID, err))
		}
	}
	if err := m.reconcileUnplaced(ctx); err != nil {
		errs = append(errs, err)
	}
	guests, err := m.drv.Instances(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("list hypervisor instances: %w", err))
	}
	for _, uuid := range guests {
		if known[uuid] {
			continue
		}
		if _, err := m.store.Instance(ctx, uuid); !errors.Is(err, ErrNotFound) {
			continue // on another host's list, or a store error: leave it
		}
		m.log.Warn("destroying a guest no live instance owns", "instance", uuid)
		if err := m.drv.Destroy(ctx, uuid); err != nil {
			errs = append(errs, fmt.Errorf("destroy unknown guest %s: %w", uuid, err))
		}
	}
	for _, st := range insts {
		if err := m.Wait(ctx, st.UUID); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// initInstance repairs one instance; background repairs (retried stop,
// start, reboot, delete) run through the instance's lock like any action.
func (m *Manager) initInstance(ctx context.Context, st State) error {
	uuid := st.UUID
	p := m.power(ctx, uuid)
	switch {
	case st.TaskState == TaskDeleting:
		return m.repair(uuid, func(ctx context.Context) { m.terminate(ctx, uuid, "") })

	case st.VMState == VMShelved || st.VMState == VMShelvedOffloaded ||
		slices.Contains([]string{TaskShelving, TaskShelvingPendingUpload, TaskShelvingUploading}, st.TaskState):
		return m.initShelved(ctx, st, p)

	case st.VMState == VMBuilding || slices.Contains([]string{TaskScheduling, TaskBlockDeviceMapping,
		TaskNetworking, TaskSpawning}, st.TaskState):
		// The build died with kumo: error, and nothing left behind.
		return m.repair(uuid, func(ctx context.Context) {
			m.failBuild(ctx, uuid, []string{st.TaskState},
				errors.New("compute host restarted while the instance was building"))
		})

	case st.VMState == VMError:
		// Left for the user to delete or rebuild, as Nova; only the power
		// state follows the hypervisor.
		if st.TaskState == TaskNone {
			return m.syncPowerState(ctx, st, p)
		}
		return nil

	case slices.Contains([]string{TaskRebuilding, TaskRebuildBlockDeviceMapping, TaskRebuildSpawning}, st.TaskState),
		slices.Contains([]string{TaskRescuing, TaskUnrescuing}, st.TaskState):
		// Which disk the guest runs from is unknown: error, as Nova does
		// for rebuilds.
		return m.expect(ctx, st, Update{VMState: VMError, TaskState: ptr(TaskNone), PowerState: ptr(p)})

	case slices.Contains([]string{TaskImageSnapshotPending, TaskImageSnapshot, TaskImagePendingUpload,
		TaskImageUploading, TaskResizePrep, TaskResizeConfirming}, st.TaskState):
		return m.expect(ctx, st, Update{TaskState: ptr(TaskNone), PowerState: ptr(p)})

	case slices.Contains([]string{TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish, TaskResizeReverting},
		st.TaskState):
		// Roll a cut-short resize back to the old size, as Nova's
		// "Instance found in migrating state during startup".
		return m.repair(uuid, func(ctx context.Context) { m.revertCrashedResize(ctx, st, p) })

	case st.TaskState == TaskPoweringOff:
		return m.repair(uuid, func(ctx context.Context) { m.stop(ctx, uuid, "") })
	case st.TaskState == TaskPoweringOn:
		return m.repair(uuid, func(ctx context.Context) { m.start(ctx, uuid, "") })

	case slices.Contains([]string{TaskRebooting, TaskRebootPending, TaskRebootingHard, TaskRebootPendingHard},
		st.TaskState):
		// The reboot may not have happened: do it again.
		hard := st.TaskState == TaskRebootingHard || st.TaskState == TaskRebootPendingHard
		return m.repair(uuid, func(ctx context.Context) { m.retryReboot(ctx, st, hard) })
	case slices.Contains([]string{TaskRebootStarted, TaskRebootStartedHard}, st.TaskState):
		if p == virt.Running {
			return m.expect(ctx, st, Update{VMState: VMActive, TaskState: ptr(TaskNone), PowerState: ptr(p)})
		}
		return m.repair(uuid, func(ctx context.Context) { m.retryReboot(ctx, st, true) })

	case st.TaskState != TaskNone:
		// pausing, unpausing, suspending, resuming: the guest's power
		// state says how far the action got.
		if vm := vmStateFor(p); vm != "" {
			return m.expect(ctx, st, Update{VMState: vm, TaskState: ptr(TaskNone), PowerState: ptr(p)})
		}
		return m.expect(ctx, st, Update{VMState: VMError, TaskState: ptr(TaskNone), PowerState: ptr(p)})
	}
	return m.syncPowerState(ctx, st, p)
}

// vmStateFor is the stable vm_state a guest in power state p is in.
func vmStateFor(p virt.PowerState) string {
	switch p {
	case virt.Running:
		return VMActive
	case virt.Paused:
		return VMPaused
	case virt.Suspended:
		return VMSuspended
	case virt.Shutdown, virt.Crashed:
		return VMStopped
	}
	return ""
}

// syncPowerState is Nova's _sync_instance_power_state for an instance with
// no task: the hypervisor is the authority on power.
func (m *Manager) syncPowerState(ctx context.Context, st State, p virt.PowerState) error {
	down := p == virt.Shutdown || p == virt.Crashed
	stopIt := false
	switch st.VMState {
	case VMActive:
		// Nova stops an instance found shut off, crashed or suspended
		// behind its back; paused or missing is only logged.
		stopIt = down || p == virt.Suspended
		if p == virt.NoState || p == virt.Paused {
			m.log.Warn("instance power state differs from the hypervisor's", "instance", st.UUID,
				"vm_state", st.VMState, "power_state", p)
		}
	case VMStopped:
		// "Instance is not stopped. Calling the stop API."
		stopIt = p != virt.NoState && !down
	case VMPaused:
		stopIt = down
	}
	if stopIt {
		if err := m.expect(ctx, st, Update{TaskState: ptr(TaskPoweringOff), PowerState: ptr(p)}); err != nil {
			return err
		}
		return m.repair(st.UUID, func(ctx context.Context) { m.stop(ctx, st.UUID, "") })
	}
	if p != st.PowerState {
		return m.expect(ctx, st, Update{PowerState: ptr(p)})
	}
	return nil
}

// expect applies u if the instance is still in the task_state it was
// read in.
func (m *Manager) expect(ctx context.Context, st State, u Update) error {
	u.Expected = []string{st.TaskState}
	return m.store.Update(ctx, st.UUID, u)
}

// repair runs fn under the instance's lock in the background.
func (m *Manager) repair(uuid string, fn func(ctx context.Context)) error {
	o, err := m.enter(uuid)
	if err != nil {
		return err
	}
	o.start(fn)
	return nil
}

func (m *Manager) retryReboot(ctx context.Context, st State, hard bool) {
	task := TaskRebooting
	if hard {
		task = TaskRebootingHard
	}
	if err := m.expect(ctx, st, Update{TaskState: ptr(task)}); err != nil {
		m.lost(ctx, st.UUID, err)
		return
	}
	m.reboot(ctx, st.UUID, "", hard)
}

// revertCrashedResize puts an instance whose resize was cut short back to
// its old size and its old power: the guest runs again unless it was
// stopped before (kumo reads that from the driver: a resize that ran past
// power-off cannot tell, so it powers on, as Nova's default).
func (m *Manager) revertCrashedResize(ctx context.Context, st State, p virt.PowerState) {
	uuid := st.UUID
	wasActive := st.VMState != VMStopped
	if st.TaskState == TaskResizeReverting {
		wasActive = p == virt.Running
	}
	var err error
	if p != virt.Shutdown && p != virt.Crashed {
		err = m.drv.PowerOff(ctx, uuid, m.cfg.ShutdownTimeout)
	}
	// Only from resize_migrated on is the new size known to be applied;
	// reverting before that would go back past an earlier, confirmed
	// resize.
	if err == nil && st.TaskState != TaskResizeMigrating {
		if rerr := m.drv.RevertResize(ctx, uuid); rerr != nil {
			m.log.Warn("revert resize after restart", "instance", uuid, "err", rerr)
		}
	}
	if err == nil && m.claims != nil {
		err = m.claims.RevertResize(ctx, uuid)
	}
	vm := VMStopped
	if err == nil && wasActive {
		err = m.drv.PowerOn(ctx, uuid)
		vm = VMActive
	}
	if err != nil {
		m.errorOut(ctx, uuid, "compute_revert_resize", err)
		return
	}
	err = m.expect(ctx, st, Update{VMState: vm, TaskState: ptr(TaskNone), PowerState: ptr(m.power(ctx, uuid)),
		Flavor: FlavorUseOld})
	m.lost(ctx, uuid, err)
}
