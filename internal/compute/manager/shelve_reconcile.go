package manager

import (
	"context"
	"errors"
	"fmt"

	"kumo/internal/compute/virt"
)

// initShelved repairs a shelving, shelved or unshelving instance after a
// restart, as Nova's _init_instance: a shelve cut short before the
// instance was shelved just loses its task (the snapshot image stays
// queued, as in Nova); an offload is done again; an unshelve that was
// spawning is undone (back to shelved_offloaded, the shelved image kept);
// an unshelve of a shelved guest loses its task.
func (m *Manager) initShelved(ctx context.Context, st State, p virt.PowerState) error {
	uuid := st.UUID
	switch st.TaskState {
	case TaskNone:
		if st.VMState == VMShelvedOffloaded || p == st.PowerState {
			return nil // no guest to follow
		}
		return m.expect(ctx, st, Update{PowerState: ptr(p)})
	case TaskShelvingOffloading:
		return m.repair(uuid, func(ctx context.Context) { m.offload(ctx, uuid, "") })
	case TaskUnshelving, TaskSpawning:
		if st.VMState == VMShelvedOffloaded {
			return m.repair(uuid, func(ctx context.Context) {
				m.failUnshelve(ctx, uuid, st.TaskState, errors.New("compute host restarted while the instance was unshelving"))
			})
		}
	}
	return m.expect(ctx, st, Update{TaskState: ptr(TaskNone), PowerState: ptr(p)})
}

// UnplacedStore is a Store that lists the live instances with no host
// (shelved_offloaded ones, and ones the API still schedules).
type UnplacedStore interface {
	Unplaced(ctx context.Context) ([]State, error)
}

// reconcileUnplaced puts an offloaded instance whose unshelve was still
// being scheduled (the API's part, which died with kumo) back to
// shelved_offloaded with no task, so it can be unshelved again, and
// releases any claim the scheduler had made for it. Every host's manager
// may try; the guard on the task state lets one win.
func (m *Manager) reconcileUnplaced(ctx context.Context) error {
	s, ok := m.store.(UnplacedStore)
	if !ok {
		return nil
	}
	insts, err := s.Unplaced(ctx)
	if err != nil {
		return fmt.Errorf("list unplaced instances: %w", err)
	}
	var errs []error
	for _, st := range insts {
		if st.VMState != VMShelvedOffloaded || st.TaskState != TaskUnshelving {
			continue
		}
		err := m.store.Update(ctx, st.UUID, Update{TaskState: ptr(TaskNone), Expected: []string{TaskUnshelving},
			ExpectedVMStates: []string{VMShelvedOffloaded}})
		if errors.Is(err, ErrUnexpectedTaskState) || errors.Is(err, ErrNotFound) {
			continue // another host's manager (or a delete) was first
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", st.UUID, err))
			continue
		}
		m.log.Warn("unshelve cut short by a restart while scheduling; the instance stays shelved_offloaded",
			"instance", st.UUID)
		if m.claims != nil {
			if err := m.claims.Release(ctx, st.UUID); err != nil {
				errs = append(errs, fmt.Errorf("instance %s: release claims: %w", st.UUID, err))
			}
		}
	}
	return errors.Join(errs...)
}
