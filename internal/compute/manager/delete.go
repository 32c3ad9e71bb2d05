package manager

import (
	"context"
	"errors"
	"fmt"

	"kumo/internal/compute/virt"
)

const eventTerminate = "compute_terminate_instance"

// Delete deletes an instance in any state, also error or mid-action: the
// task_state becomes deleting at once, then (after the running action, if
// any, gives up) the driver's instance is destroyed, the claims released
// and the instance marked deleted. Deleting an instance that is already
// being deleted is accepted and does nothing more, as in Nova. Its
// networks (Config.Networks) are deallocated before its claims.
func (m *Manager) Delete(ctx context.Context, uuid, requestID string) error {
	o, err := m.enter(uuid)
	if err != nil {
		return err
	}
	// Whatever the instance does, it becomes deleting; the guard on the
	// task_state just read makes one of two racing deletes the winner.
	for try := 0; ; try++ {
		st, err := m.store.Instance(ctx, uuid)
		if err == nil && st.TaskState == TaskDeleting {
			o.release()
			return nil
		}
		if err == nil {
			err = m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskDeleting), Expected: []string{st.TaskState}})
		}
		if err == nil {
			break
		}
		if !errors.Is(err, ErrUnexpectedTaskState) || try == 10 {
			o.release()
			return err
		}
	}
	o.start(func(ctx context.Context) { m.terminate(ctx, uuid, requestID) })
	return nil
}

func (m *Manager) terminate(ctx context.Context, uuid, rid string) {
	var err error
	finish := m.event(ctx, uuid, rid, eventTerminate)
	defer func() { finish(&err) }()
	if err = m.drv.Destroy(ctx, uuid); err != nil {
		err = fmt.Errorf("destroy: %w", err)
	} else if m.cfg.Networks != nil {
		if err = m.cfg.Networks.Deallocate(ctx, uuid); err != nil {
			err = fmt.Errorf("deallocate networks: %w", err)
		}
	}
	if err == nil && m.claims != nil {
		if err = m.claims.Release(ctx, uuid); err != nil {
			err = fmt.Errorf("release claims: %w", err)
		}
	}
	if err != nil {
		// Nova leaves a failed delete in error; deleting again retries.
		m.log.Error("delete failed", "instance", uuid, "err", err)
		if uerr := m.store.Update(ctx, uuid, Update{VMState: VMError, TaskState: ptr(TaskNone),
			PowerState: ptr(m.power(ctx, uuid)), Fault: m.newFault(eventTerminate, err)}); uerr != nil {
			m.log.Error("set instance to error after failed delete", "instance", uuid, "err", uerr)
		}
		return
	}
	err = m.store.Update(ctx, uuid, Update{VMState: VMDeleted, TaskState: ptr(TaskNone),
		PowerState: ptr(virt.NoState), TerminatedAt: m.now(), Expected: []string{TaskDeleting}})
}
