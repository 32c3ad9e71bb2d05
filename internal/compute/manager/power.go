package manager

import (
	"context"
	"errors"
	"fmt"

	"kumo/internal/compute/virt"
)

// Stop powers an active (or error) instance off: powering-off → stopped.
func (m *Manager) Stop(ctx context.Context, uuid, requestID string) error {
	_, o, err := m.accept(ctx, uuid, rule{method: "stop", vmStates: []string{VMActive, VMError},
		mustLaunched: true, newTask: TaskPoweringOff})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.stop(ctx, uuid, requestID) })
	return nil
}

func (m *Manager) stop(ctx context.Context, uuid, rid string) {
	var err error
	finish := m.event(ctx, uuid, rid, "compute_stop_instance")
	defer func() { finish(&err) }()
	if err = m.drv.PowerOff(ctx, uuid, m.cfg.ShutdownTimeout); err != nil {
		m.revertTask(ctx, uuid, TaskPoweringOff, "compute_stop_instance", err)
		return
	}
	err = m.store.Update(ctx, uuid, Update{VMState: VMStopped, TaskState: ptr(TaskNone),
		PowerState: ptr(m.power(ctx, uuid)), Expected: []string{TaskPoweringOff}})
	m.lost(ctx, uuid, err)
}

// Start powers a stopped instance on: powering-on → active.
func (m *Manager) Start(ctx context.Context, uuid, requestID string) error {
	_, o, err := m.accept(ctx, uuid, rule{method: "start", vmStates: []string{VMStopped},
		mustLaunched: true, newTask: TaskPoweringOn})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.start(ctx, uuid, requestID) })
	return nil
}

func (m *Manager) start(ctx context.Context, uuid, rid string) {
	var err error
	finish := m.event(ctx, uuid, rid, "compute_start_instance")
	defer func() { finish(&err) }()
	if err = m.drv.PowerOn(ctx, uuid); err != nil {
		m.revertTask(ctx, uuid, TaskPoweringOn, "compute_start_instance", err)
		return
	}
	err = m.store.Update(ctx, uuid, Update{VMState: VMActive, TaskState: ptr(TaskNone),
		PowerState: ptr(m.power(ctx, uuid)), Expected: []string{TaskPoweringOn}})
	m.lost(ctx, uuid, err)
}

// allowReboot is Nova's task_states.ALLOW_REBOOT: a hard reboot may
// interrupt these.
var allowReboot = []string{TaskNone, TaskRebooting, TaskRebootPending, TaskRebootStarted, TaskResuming,
	TaskRebootingHard, TaskUnpausing, TaskPausing, TaskSuspending}

// Reboot reboots an instance. Soft (active only): rebooting →
// reboot_pending → reboot_started → active. Hard (also stopped, paused,
// suspended or error, and over a running soft reboot): rebooting_hard →
// reboot_pending_hard → reboot_started_hard → active.
func (m *Manager) Reboot(ctx context.Context, uuid, requestID string, hard bool) error {
	r := rule{method: "reboot", vmStates: []string{VMActive}, mustLaunched: true, newTask: TaskRebooting}
	if hard {
		r.vmStates = []string{VMActive, VMStopped, VMPaused, VMSuspended, VMError}
		r.taskStates = allowReboot
		r.newTask = TaskRebootingHard
	}
	_, o, err := m.accept(ctx, uuid, r)
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.reboot(ctx, uuid, requestID, hard) })
	return nil
}

func (m *Manager) reboot(ctx context.Context, uuid, rid string, hard bool) {
	var err error
	const ev = "compute_reboot_instance"
	finish := m.event(ctx, uuid, rid, ev)
	defer func() { finish(&err) }()
	expected, pending, started := []string{TaskRebooting, TaskRebootPending, TaskRebootStarted},
		TaskRebootPending, TaskRebootStarted
	if hard {
		expected, pending, started = []string{TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard},
			TaskRebootPendingHard, TaskRebootStartedHard
	}
	if err = m.store.Update(ctx, uuid, Update{TaskState: ptr(pending), Expected: expected}); err != nil {
		return // a hard reboot or a delete took over
	}
	if err = m.store.Update(ctx, uuid, Update{TaskState: ptr(started), Expected: []string{pending}}); err != nil {
		return
	}
	if hard {
		err = m.hardReboot(ctx, uuid)
	} else {
		err = m.drv.Reboot(ctx, uuid, false)
	}
	p := m.power(ctx, uuid)
	if err != nil {
		m.fault(ctx, uuid, ev, err)
		if p != virt.Running {
			// Nova: "Cannot reboot instance"; a failed reboot that left the
			// guest running is only a fault.
			m.store.Update(ctx, uuid, Update{VMState: VMError, TaskState: ptr(TaskNone), PowerState: ptr(p),
				Expected: []string{started}})
			return
		}
	}
	uerr := m.store.Update(ctx, uuid, Update{VMState: VMActive, TaskState: ptr(TaskNone), PowerState: ptr(p),
		Expected: []string{started}})
	m.lost(ctx, uuid, uerr)
	if err == nil {
		err = uerr
	}
}

// hardReboot brings the guest up from its disk whatever its power state,
// as Nova's libvirt driver recreates the domain.
func (m *Manager) hardReboot(ctx context.Context, uuid string) error {
	switch p := m.power(ctx, uuid); p {
	case virt.Running:
		return m.drv.Reboot(ctx, uuid, true)
	case virt.Paused:
		if err := m.drv.Unpause(ctx, uuid); err != nil {
			return err
		}
		return m.drv.Reboot(ctx, uuid, true)
	case virt.Suspended:
		if err := m.drv.Resume(ctx, uuid); err != nil {
			return err
		}
		return m.drv.Reboot(ctx, uuid, true)
	case virt.Shutdown, virt.Crashed:
		return m.drv.PowerOn(ctx, uuid)
	default:
		return fmt.Errorf("hard reboot: instance is %s on the hypervisor: %w", p, virt.ErrNotFound)
	}
}

// revertTask is Nova's reverts_task_state plus wrap_instance_fault: a
// failed action records a fault, its task_state goes back to None and the
// power state is refreshed; the vm_state stays.
func (m *Manager) revertTask(ctx context.Context, uuid, task, ev string, cause error) {
	m.log.Error("instance action failed", "instance", uuid, "event", ev, "err", cause)
	err := m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskNone), PowerState: ptr(m.power(ctx, uuid)),
		Expected: []string{task}, Fault: m.newFault(ev, cause)})
	m.lost(ctx, uuid, err)
}

// lost logs a final save that failed for another reason than a delete
// taking over (which is expected and silent).
func (m *Manager) lost(ctx context.Context, uuid string, err error) {
	switch {
	case err == nil || m.deleting(ctx, uuid, err):
	case errors.Is(err, ErrUnexpectedTaskState):
		// Another action (a hard reboot) took over the instance.
		m.log.Warn("instance action superseded", "instance", uuid, "err", err)
	default:
		m.log.Error("save instance state", "instance", uuid, "err", err)
	}
}
