package manager

import (
	"context"
)

// simple is an action that is one driver call: accept with rule, call,
// then vm_state `to` with task_state None, or back to None with a fault.
type simple struct {
	rule
	event string
	to    string
	call  func(ctx context.Context, uuid string) error
}

func (m *Manager) run(ctx context.Context, uuid, rid string, a simple) error {
	_, o, err := m.accept(ctx, uuid, a.rule)
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) {
		var err error
		finish := m.event(ctx, uuid, rid, a.event)
		defer func() { finish(&err) }()
		if err = a.call(ctx, uuid); err != nil {
			m.revertTask(ctx, uuid, a.newTask, a.event, err)
			return
		}
		err = m.store.Update(ctx, uuid, Update{VMState: a.to, TaskState: ptr(TaskNone),
			PowerState: ptr(m.power(ctx, uuid)), Expected: []string{a.newTask}})
		m.lost(ctx, uuid, err)
	})
	return nil
}

// Pause pauses an active instance: pausing → paused.
func (m *Manager) Pause(ctx context.Context, uuid, requestID string) error {
	return m.run(ctx, uuid, requestID, simple{
		rule:  rule{method: "pause", vmStates: []string{VMActive}, mustLaunched: true, newTask: TaskPausing},
		event: "compute_pause_instance", to: VMPaused, call: m.drv.Pause})
}

// Unpause unpauses a paused instance: unpausing → active.
func (m *Manager) Unpause(ctx context.Context, uuid, requestID string) error {
	return m.run(ctx, uuid, requestID, simple{
		rule:  rule{method: "unpause", vmStates: []string{VMPaused}, mustLaunched: true, newTask: TaskUnpausing},
		event: "compute_unpause_instance", to: VMActive, call: m.drv.Unpause})
}

// Suspend suspends an active instance to disk: suspending → suspended.
func (m *Manager) Suspend(ctx context.Context, uuid, requestID string) error {
	return m.run(ctx, uuid, requestID, simple{
		rule:  rule{method: "suspend", vmStates: []string{VMActive}, mustLaunched: true, newTask: TaskSuspending},
		event: "compute_suspend_instance", to: VMSuspended, call: m.drv.Suspend})
}

// Resume resumes a suspended instance: resuming → active.
func (m *Manager) Resume(ctx context.Context, uuid, requestID string) error {
	return m.run(ctx, uuid, requestID, simple{
		rule:  rule{method: "resume", vmStates: []string{VMSuspended}, mustLaunched: true, newTask: TaskResuming},
		event: "compute_resume_instance", to: VMActive, call: m.drv.Resume})
}

// RescueRequest is a rescue of an instance from an image (the instance's
// own image when the user named none; the API decides).
type RescueRequest struct {
	UUID      string
	RequestID string
	ProjectID string
	ImageID   string
}

// Rescue boots an active, stopped or error instance from a rescue image
// with its own disk attached: rescuing → rescued.
func (m *Manager) Rescue(ctx context.Context, req RescueRequest) error {
	return m.run(ctx, req.UUID, req.RequestID, simple{
		rule: rule{method: "rescue", vmStates: []string{VMActive, VMStopped, VMError}, mustLaunched: true,
			newTask: TaskRescuing},
		event: "compute_rescue_instance", to: VMRescued,
		call: func(ctx context.Context, uuid string) error {
			img, _, err := m.prepare(ctx, BuildRequest{ProjectID: req.ProjectID, ImageID: req.ImageID})
			if err != nil {
				return err
			}
			return m.drv.Rescue(ctx, uuid, img.Image)
		}})
}

// Unrescue boots a rescued instance from its own disk again: unrescuing →
// active.
func (m *Manager) Unrescue(ctx context.Context, uuid, requestID string) error {
	return m.run(ctx, uuid, requestID, simple{
		rule:  rule{method: "unrescue", vmStates: []string{VMRescued}, mustLaunched: true, newTask: TaskUnrescuing},
		event: "compute_unrescue_instance", to: VMActive, call: m.drv.Unrescue})
}
