package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kumo/internal/compute/virt"
)

// Nova's names of the shelve events.
const (
	eventShelve   = "compute_shelve_instance"
	eventOffload  = "compute_shelve_offload_instance"
	eventUnshelve = "compute_unshelve_instance"
)

// ShelveRequest shelves an instance into ImageID, an image record the API
// created (queued) as "<name>-shelved" for ProjectID.
type ShelveRequest struct {
	UUID      string
	RequestID string
	ProjectID string
	ImageID   string
}

// Shelve shelves an active, stopped, paused or suspended instance, as
// Nova's _shelve_instance: shelving (the guest is powered off) →
// shelving_image_pending_upload → shelving_image_uploading (the root disk
// goes to the image service) → shelved. With Config.ShelvedOffloadTime 0
// the instance is offloaded at once (shelving_offloading →
// shelved_offloaded); with a positive one, after that time.
func (m *Manager) Shelve(ctx context.Context, req ShelveRequest) error {
	if req.ImageID == "" {
		return errors.New("shelve: image id is required")
	}
	_, o, err := m.accept(ctx, req.UUID, rule{method: "shelve",
		vmStates: []string{VMActive, VMStopped, VMPaused, VMSuspended}, newTask: TaskShelving})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.shelve(ctx, req) })
	return nil
}

func (m *Manager) shelve(ctx context.Context, req ShelveRequest) {
	uuid := req.UUID
	var err error
	finish := m.event(ctx, uuid, req.RequestID, eventShelve)
	task := TaskShelving
	advance := func(next string) error {
		if err := m.store.Update(ctx, uuid, Update{TaskState: ptr(next), Expected: []string{task}}); err != nil {
			return err
		}
		task = next
		return nil
	}
	err = m.shelveSteps(ctx, req, advance)
	if err == nil {
		err = m.recordShelved(ctx, uuid, req.ImageID)
	}
	offloadNow := m.cfg.ShelvedOffloadTime == 0
	if err == nil {
		next := TaskNone
		if offloadNow {
			next = TaskShelvingOffloading
		}
		err = m.store.Update(ctx, uuid, Update{VMState: VMShelved, TaskState: ptr(next),
			PowerState: ptr(m.power(ctx, uuid)), Expected: []string{TaskShelvingUploading}})
	}
	finish(&err)
	if err != nil {
		m.forgetShelved(ctx, uuid)
		if m.images != nil {
			if derr := m.images.DeleteImage(ctx, req.ProjectID, req.ImageID); derr != nil {
				m.log.Warn("delete image of failed shelve", "instance", uuid, "image", req.ImageID, "err", derr)
			}
		}
		if !m.deleting(ctx, uuid, err) {
			m.revertTask(ctx, uuid, task, eventShelve, err)
		}
		return
	}
	switch {
	case offloadNow:
		m.offload(ctx, uuid, req.RequestID)
	case m.cfg.ShelvedOffloadTime > 0:
		m.offloadLater(uuid)
	}
}

func (m *Manager) shelveSteps(ctx context.Context, req ShelveRequest, advance func(string) error) error {
	switch p := m.power(ctx, req.UUID); p {
	case virt.Shutdown, virt.NoState, virt.Crashed:
	default:
		// Nova powers the guest off (cleanly) before the snapshot, so the
		// image holds a consistent disk. A paused or suspended guest cannot
		// answer the power button: it is stopped at once.
		timeout := m.cfg.ShutdownTimeout
		if p != virt.Running {
			timeout = 0
		}
		if err := m.drv.PowerOff(ctx, req.UUID, timeout); err != nil {
			return fmt.Errorf("power off: %w", err)
		}
	}
	return m.snapshotSteps(ctx, SnapshotRequest{UUID: req.UUID, ProjectID: req.ProjectID, ImageID: req.ImageID},
		func(next string) error {
			// snapshotSteps walks createImage's task states; shelve has its own.
			switch next {
			case TaskImagePendingUpload:
				return advance(TaskShelvingPendingUpload)
			case TaskImageUploading:
				return advance(TaskShelvingUploading)
			}
			return nil
		})
}

// offloadLater offloads a shelved instance after ShelvedOffloadTime, as
// Nova's _poll_shelved_instances, unless it was unshelved or deleted.
func (m *Manager) offloadLater(uuid string) {
	time.AfterFunc(m.cfg.ShelvedOffloadTime, func() {
		err := m.ShelveOffload(m.ctx, uuid, "")
		var inv *InvalidStateError
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrClosed) && !errors.As(err, &inv) {
			m.log.Warn("offload shelved instance", "instance", uuid, "err", err)
		}
	})
}

// ShelveOffload offloads a shelved instance: shelving_offloading → the
// guest destroyed, its networks unbound, its claims released and its host
// cleared → shelved_offloaded.
func (m *Manager) ShelveOffload(ctx context.Context, uuid, requestID string) error {
	_, o, err := m.accept(ctx, uuid, rule{method: "shelve_offload", vmStates: []string{VMShelved},
		newTask: TaskShelvingOffloading})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.offload(ctx, uuid, requestID) })
	return nil
}

func (m *Manager) offload(ctx context.Context, uuid, rid string) {
	var err error
	finish := m.event(ctx, uuid, rid, eventOffload)
	defer func() { finish(&err) }()
	// Nova keeps the power state read before the guest is destroyed.
	power := m.power(ctx, uuid)
	if err = m.drv.Destroy(ctx, uuid); err != nil {
		err = fmt.Errorf("destroy: %w", err)
	} else if m.cfg.Networks != nil {
		if err = m.cfg.Networks.Deallocate(ctx, uuid); err != nil {
			err = fmt.Errorf("deallocate networks: %w", err)
		}
	}
	if err != nil {
		if !m.deleting(ctx, uuid, err) {
			m.revertTask(ctx, uuid, TaskShelvingOffloading, eventOffload, err)
		}
		return
	}
	err = m.store.Update(ctx, uuid, Update{VMState: VMShelvedOffloaded, TaskState: ptr(TaskNone),
		PowerState: ptr(power), ClearHost: true, Expected: []string{TaskShelvingOffloading}})
	if err != nil {
		m.lost(ctx, uuid, err)
		return
	}
	if m.claims != nil {
		if err = m.claims.Release(ctx, uuid); err != nil {
			err = fmt.Errorf("release claims: %w", err)
		}
	}
}

// UnshelveRequest unshelves an instance from its shelved image. For a
// shelved_offloaded instance the caller has scheduled it to this host and
// claimed its resources; Spec and ConfigDrive are what its new guest is
// built with.
type UnshelveRequest struct {
	RequestID   string
	ProjectID   string
	ImageID     string // the shelved image; deleted once the guest runs
	Spec        virt.InstanceSpec
	ConfigDrive ConfigDriveFunc
}

// Unshelve brings a shelved or shelved_offloaded instance back: unshelving
// → (offloaded: spawning, a new guest from the shelved image on this host)
// → active, and the shelved image is deleted, as Nova. A shelved instance
// still on its host is powered on. The API may set unshelving itself
// while it schedules, so unshelving is accepted as well as None.
func (m *Manager) Unshelve(ctx context.Context, req UnshelveRequest) error {
	uuid := req.Spec.UUID
	st, o, err := m.accept(ctx, uuid, rule{method: "unshelve", vmStates: []string{VMShelved, VMShelvedOffloaded},
		taskStates: []string{TaskNone, TaskUnshelving}, newTask: TaskUnshelving})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) {
		if st.VMState == VMShelved {
			m.unshelveOnHost(ctx, req)
			return
		}
		m.unshelveOffloaded(ctx, req)
	})
	return nil
}

func (m *Manager) unshelveOnHost(ctx context.Context, req UnshelveRequest) {
	uuid := req.Spec.UUID
	var err error
	finish := m.event(ctx, uuid, req.RequestID, eventUnshelve)
	defer func() { finish(&err) }()
	if err = m.drv.PowerOn(ctx, uuid); err != nil {
		m.revertTask(ctx, uuid, TaskUnshelving, eventUnshelve, err)
		return
	}
	err = m.store.Update(ctx, uuid, Update{VMState: VMActive, TaskState: ptr(TaskNone),
		PowerState: ptr(m.power(ctx, uuid)), Expected: []string{TaskUnshelving}})
	if err != nil {
		m.lost(ctx, uuid, err)
		return
	}
	m.forgetShelved(ctx, uuid)
	m.dropShelvedImage(ctx, req)
}

func (m *Manager) unshelveOffloaded(ctx context.Context, req UnshelveRequest) {
	uuid := req.Spec.UUID
	var err error
	finish := m.event(ctx, uuid, req.RequestID, eventUnshelve)
	defer func() { finish(&err) }()
	task := TaskUnshelving
	err = m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskSpawning), Host: m.cfg.Host,
		Expected: []string{TaskUnshelving}})
	if err == nil {
		task = TaskSpawning
		err = m.unshelveSpawn(ctx, req)
	}
	if err == nil {
		err = m.store.Update(ctx, uuid, Update{VMState: VMActive, TaskState: ptr(TaskNone),
			PowerState: ptr(m.power(ctx, uuid)), LaunchedAt: m.now(), Expected: []string{TaskSpawning}})
	}
	if err == nil {
		m.forgetShelved(ctx, uuid)
		m.dropShelvedImage(ctx, req)
		return
	}
	m.failUnshelve(ctx, uuid, task, err)
}

func (m *Manager) unshelveSpawn(ctx context.Context, req UnshelveRequest) error {
	spec := req.Spec
	if m.cfg.Networks != nil {
		nics, err := m.cfg.Networks.Allocate(ctx, spec.UUID)
		if err != nil {
			return fmt.Errorf("allocate networks: %w", err)
		}
		spec.NICs = nics
	}
	img, spec, err := m.prepare(ctx, BuildRequest{ProjectID: req.ProjectID, ImageID: req.ImageID, Spec: spec,
		ConfigDrive: req.ConfigDrive})
	if err != nil {
		return err
	}
	return m.drv.Spawn(ctx, spec, img.Image)
}

// failUnshelve leaves nothing of a failed unshelve on this host and puts
// the instance back to shelved_offloaded with a fault (its shelved image
// stays, so it can be unshelved again).
func (m *Manager) failUnshelve(ctx context.Context, uuid, task string, cause error) {
	m.log.Error("unshelve failed", "instance", uuid, "err", cause)
	if err := m.drv.Destroy(ctx, uuid); err != nil {
		m.log.Error("destroy after failed unshelve", "instance", uuid, "err", err)
	}
	if m.cfg.Networks != nil {
		if err := m.cfg.Networks.Deallocate(ctx, uuid); err != nil {
			m.log.Error("deallocate networks after failed unshelve", "instance", uuid, "err", err)
		}
	}
	if m.claims != nil {
		if err := m.claims.Release(ctx, uuid); err != nil {
			m.log.Error("release claims after failed unshelve", "instance", uuid, "err", err)
		}
	}
	if m.deleting(ctx, uuid, cause) {
		return
	}
	err := m.store.Update(ctx, uuid, Update{VMState: VMShelvedOffloaded, TaskState: ptr(TaskNone),
		PowerState: ptr(virt.Shutdown), ClearHost: true, Expected: []string{task}, Fault: m.newFault(eventUnshelve, cause)})
	m.lost(ctx, uuid, err)
}

// dropShelvedImage deletes the shelved image once the instance runs
// again, as Nova's _delete_snapshot_of_shelved_or_offloaded_instance.
func (m *Manager) dropShelvedImage(ctx context.Context, req UnshelveRequest) {
	if m.images == nil || req.ImageID == "" {
		return
	}
	if err := m.images.DeleteImage(ctx, req.ProjectID, req.ImageID); err != nil {
		m.log.Warn("delete shelved image", "instance", req.Spec.UUID, "image", req.ImageID, "err", err)
	}
}
