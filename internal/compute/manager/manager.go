// Package manager is kumo's nova-compute manager: it turns the servers
// API's requests (build, stop, reboot, resize, snapshot, delete...) into
// virt.Driver calls and walks each instance through Nova's exact
// vm_state / task_state / power_state transitions, recording faults and
// instance-action events through the Store the caller provides.
//
// Every action has two halves, as in Nova: the API half (Stop, Reboot...)
// checks the instance's state, sets the task_state with Nova's
// expected_task_state guard and returns at once (the API answers 202); the
// compute half runs in the background, one action at a time per instance.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"kumo/internal/compute/virt"
)

// Config is the manager's configuration.
type Config struct {
	// Host is this compute host's name, stored as the instance's host
	// (default os.Hostname()).
	Host string
	// MaxConcurrentBuilds is Nova's max_concurrent_builds (default 10).
	MaxConcurrentBuilds int
	// ShutdownTimeout is how long a stop waits for the guest's own
	// shutdown before it is stopped hard (Nova's shutdown_timeout, 60 s).
	ShutdownTimeout time.Duration
	// Networks, when set, binds the ports of each built instance (the
	// networking step) and unbinds them on delete or failed build; nil
	// builds with BuildRequest.Spec.NICs as given.
	Networks Networks
	// SnapshotDir holds snapshot files between the driver's copy and the
	// upload (os.TempDir() when empty).
	SnapshotDir string
	// ShelvedOffloadTime is Nova's shelved_offload_time: 0 offloads a
	// shelved instance at once, a negative value never, a positive one
	// after that long.
	ShelvedOffloadTime time.Duration
	Log                *slog.Logger
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
}

// Manager runs instance actions on one host.
type Manager struct {
	drv    virt.Driver
	store  Store
	images Images
	claims Claims
	cfg    Config
	log    *slog.Logger
	now    func() time.Time

	builds chan struct{} // Nova's build semaphore
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	insts  map[string]*instOps
}

// instOps serialises the compute half of an instance's actions.
type instOps struct {
	lock    chan struct{} // holds one token while an action runs
	pending int           // actions queued or running
	idle    chan struct{} // closed when pending drops to 0
}

// New returns a manager over driver. images and claims may be nil when the
// caller never builds, rebuilds, rescues or snapshots (tests).
func New(driver virt.Driver, store Store, images Images, claims Claims, cfg Config) *Manager {
	if cfg.MaxConcurrentBuilds <= 0 {
		cfg.MaxConcurrentBuilds = 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 60 * time.Second
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if cfg.SnapshotDir == "" {
		cfg.SnapshotDir = os.TempDir()
	}
	m := &Manager{drv: driver, store: store, images: images, claims: claims, cfg: cfg,
		log: cfg.Log, now: cfg.Now, builds: make(chan struct{}, cfg.MaxConcurrentBuilds),
		insts: map[string]*instOps{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	// Background actions outlive the request that asked for them.
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Close stops accepting actions and waits for the running ones to finish.
// When ctx ends first, the running actions are cancelled (their instances
// are repaired by Reconcile at the next start) and ctx's error returned.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		m.cancel()
		return nil
	case <-ctx.Done():
		m.cancel()
		<-done
		return ctx.Err()
	}
}

// Wait blocks until no action is queued or running for the instance.
func (m *Manager) Wait(ctx context.Context, uuid string) error {
	m.mu.Lock()
	ops, ok := m.insts[uuid]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-ops.idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// op is one accepted action of an instance, not yet started.
type op struct {
	m    *Manager
	uuid string
	ops  *instOps
	done bool
}

// enter registers an action on uuid before its API half writes anything,
// so that Close and Wait account for it.
func (m *Manager) enter(uuid string) (*op, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	ops, ok := m.insts[uuid]
	if !ok {
		ops = &instOps{lock: make(chan struct{}, 1), idle: make(chan struct{})}
		m.insts[uuid] = ops
	}
	ops.pending++
	m.wg.Add(1)
	return &op{m: m, uuid: uuid, ops: ops}, nil
}

// release ends an op: its action finished, or its API half refused it.
func (o *op) release() {
	if o.done {
		return
	}
	o.done = true
	m := o.m
	m.mu.Lock()
	o.ops.pending--
	if o.ops.pending == 0 {
		close(o.ops.idle)
		delete(m.insts, o.uuid)
	}
	m.mu.Unlock()
	m.wg.Done()
}

// start runs fn in the background under the instance's lock.
func (o *op) start(fn func(ctx context.Context)) {
	go func() {
		defer o.release()
		ctx := o.m.ctx
		select {
		case o.ops.lock <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-o.ops.lock }()
		fn(ctx)
	}()
}

// rule is the API half's check of an action, as Nova's
// check_instance_state: allowed vm_states (nil: any) and task_states.
type rule struct {
	method       string
	vmStates     []string
	taskStates   []string // nil means only TaskNone
	mustLaunched bool
	newTask      string // task_state the API half sets
}

// accept is the API half: check st against r, then set r.newTask with
// Nova's expected_task_state guard. It returns the state it read.
func (m *Manager) accept(ctx context.Context, uuid string, r rule) (State, *op, error) {
	o, err := m.enter(uuid)
	if err != nil {
		return State{}, nil, err
	}
	st, err := m.store.Instance(ctx, uuid)
	if err != nil {
		o.release()
		return State{}, nil, err
	}
	tasks := r.taskStates
	if tasks == nil {
		tasks = []string{TaskNone}
	}
	if err := r.check(st, tasks); err != nil {
		o.release()
		return st, nil, err
	}
	err = m.store.Update(ctx, uuid, Update{TaskState: ptr(r.newTask), Expected: tasks, ExpectedVMStates: r.vmStates})
	if errors.Is(err, ErrUnexpectedTaskState) {
		// Another action won the race since we read the state.
		if cur, gerr := m.store.Instance(ctx, uuid); gerr == nil {
			err = r.check(cur, tasks)
			if err == nil {
				err = &InvalidStateError{r.method, uuid, "task_state", cur.TaskState}
			}
		}
	}
	if err != nil {
		o.release()
		return st, nil, err
	}
	return st, o, nil
}

func (r rule) check(st State, tasks []string) error {
	if r.vmStates != nil && !slices.Contains(r.vmStates, st.VMState) {
		return &InvalidStateError{r.method, st.UUID, "vm_state", st.VMState}
	}
	if !slices.Contains(tasks, st.TaskState) {
		return &InvalidStateError{r.method, st.UUID, "task_state", st.TaskState}
	}
	if r.mustLaunched && st.LaunchedAt.IsZero() {
		return &InvalidStateError{r.method, st.UUID, "launched_at", ""}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// event records the start of a compute event; the returned func records
// its end with the result of *errp. Nothing is recorded without a request
// id (actions the manager starts itself, at reconcile).
func (m *Manager) event(ctx context.Context, uuid, rid, name string) func(errp *error) {
	if rid == "" {
		return func(*error) {}
	}
	if err := m.store.StartEvent(ctx, uuid, rid, name, m.now()); err != nil {
		m.log.Warn("start instance action event", "instance", uuid, "event", name, "err", err)
	}
	return func(errp *error) {
		result, tb := ResultSuccess, ""
		if *errp != nil {
			result, tb = ResultError, traceback(name, *errp)
		}
		if err := m.store.FinishEvent(ctx, uuid, rid, name, m.now(), result, tb); err != nil {
			m.log.Warn("finish instance action event", "instance", uuid, "event", name, "err", err)
		}
	}
}

// traceback is what kumo puts where Nova puts a Python traceback: the
// failing step and the whole error chain.
func traceback(step string, err error) string {
	s := step + ": " + err.Error()
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		s += fmt.Sprintf("\n  caused by %T: %v", u, u)
	}
	return s
}

// fault records err as the instance's fault, as Nova's
// add_instance_fault_from_exc: code 500 and the error's message.
func (m *Manager) fault(ctx context.Context, uuid, step string, err error) {
	if e := m.store.AddFault(ctx, uuid, *m.newFault(step, err)); e != nil {
		m.log.Error("record instance fault", "instance", uuid, "err", e, "fault", err)
	}
}

// newFault is the fault that err, met at step, leaves on an instance.
func (m *Manager) newFault(step string, err error) *Fault {
	return &Fault{Code: 500, Message: err.Error(), Details: traceback(step, err), Created: m.now()}
}

// set is Update with the common fields.
func (m *Manager) set(ctx context.Context, uuid, vm, task string, expected ...string) error {
	return m.store.Update(ctx, uuid, Update{VMState: vm, TaskState: ptr(task), Expected: expected})
}

// power reads the driver's power state; a driver error reads as NoState.
func (m *Manager) power(ctx context.Context, uuid string) virt.PowerState {
	p, err := m.drv.PowerState(ctx, uuid)
	if err != nil {
		if !errors.Is(err, virt.ErrNotFound) {
			m.log.Warn("read power state", "instance", uuid, "err", err)
		}
		return virt.NoState
	}
	return p
}

// deleting reports whether an action lost its instance to a delete, as
// Nova's UnexpectedDeletingTaskStateError and InstanceNotFound: then the
// action just stops and the delete cleans up.
func (m *Manager) deleting(ctx context.Context, uuid string, err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	if !errors.Is(err, ErrUnexpectedTaskState) {
		return false
	}
	st, gerr := m.store.Instance(ctx, uuid)
	return errors.Is(gerr, ErrNotFound) || (gerr == nil && st.TaskState == TaskDeleting)
}
