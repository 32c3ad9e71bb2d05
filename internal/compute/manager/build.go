package manager

import (
	"context"
	"errors"
	"fmt"

	"kumo/internal/compute/virt"
)

// BuildRequest is one instance to build on this host. The API has already
// stored it as vm_state building, task_state scheduling, and claimed its
// resources.
type BuildRequest struct {
	RequestID string
	ProjectID string
	ImageID   string
	Spec      virt.InstanceSpec
	// ConfigDrive builds the config drive; nil means none.
	ConfigDrive ConfigDriveFunc
	// Image is the image as the API resolved it for the project, as Nova's
	// conductor hands the image to the compute host; nil means look it up.
	Image *ImageInfo
}

const eventBuild = "compute__do_build_and_run_instance"

// Build starts building an instance and returns at once. The instance goes
// building/scheduling → building/None → building/networking →
// building/block_device_mapping → building/spawning → active/None, or to error with a fault, its claims
// released and nothing of it left in the driver.
func (m *Manager) Build(ctx context.Context, req BuildRequest) error {
	uuid := req.Spec.UUID
	if uuid == "" || req.ImageID == "" {
		return fmt.Errorf("build: instance uuid and image id are required")
	}
	o, err := m.enter(uuid)
	if err != nil {
		return err
	}
	st, err := m.store.Instance(ctx, uuid)
	if err == nil && st.VMState != VMBuilding {
		err = &InvalidStateError{"build", uuid, "vm_state", st.VMState}
	}
	if err != nil {
		o.release()
		return err
	}
	go func() {
		defer o.release()
		ctx := m.ctx
		// Nova's build semaphore, taken before the instance lock so a
		// delete of a queued build does not wait for a free slot.
		select {
		case m.builds <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-m.builds }()
		select {
		case o.ops.lock <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-o.ops.lock }()
		m.build(ctx, req)
	}()
	return nil
}

func (m *Manager) build(ctx context.Context, req BuildRequest) {
	uuid := req.Spec.UUID
	var err error
	finish := m.event(ctx, uuid, req.RequestID, eventBuild)
	defer func() { finish(&err) }()

	err = m.store.Update(ctx, uuid, Update{VMState: VMBuilding, TaskState: ptr(TaskNone), Host: m.cfg.Host,
		Expected: []string{TaskScheduling, TaskNone}, ExpectedVMStates: []string{VMBuilding}})
	switch {
	case err == nil:
	case m.deleting(ctx, uuid, err):
		return
	case errors.Is(err, ErrUnexpectedTaskState):
		// Built already, or rejected: not this build's to clean up.
		m.log.Warn("build of an instance no longer waiting for one", "instance", uuid, "err", err)
		return
	default:
		m.failBuild(ctx, uuid, nil, err)
		return
	}
	task := TaskNetworking
	if err = m.set(ctx, uuid, VMBuilding, task, TaskNone); err != nil {
		m.failBuild(ctx, uuid, []string{TaskNone}, err)
		return
	}
	if m.cfg.Networks != nil {
		nics, nerr := m.cfg.Networks.Allocate(ctx, uuid)
		if nerr != nil {
			err = &abortError{"Failed to allocate the network(s), not rescheduling.", nerr}
			m.failBuild(ctx, uuid, []string{task}, err)
			return
		}
		req.Spec.NICs = nics
	}
	if err = m.set(ctx, uuid, VMBuilding, TaskBlockDeviceMapping, task); err != nil {
		m.failBuild(ctx, uuid, []string{task}, err)
		return
	}
	task = TaskBlockDeviceMapping
	img, spec, err := m.prepare(ctx, req)
	if err == nil {
		err = CheckImageFits(img, spec.MemoryMB, spec.RootGB)
	}
	if err == nil {
		if err = m.set(ctx, uuid, VMBuilding, TaskSpawning, task); err == nil {
			task = TaskSpawning
		}
	}
	if err == nil {
		err = m.drv.Spawn(ctx, spec, img.Image)
	}
	if err == nil {
		err = m.store.Update(ctx, uuid, Update{VMState: VMActive, TaskState: ptr(TaskNone),
			PowerState: ptr(m.power(ctx, uuid)), LaunchedAt: m.now(), Expected: []string{TaskSpawning}})
	}
	if err != nil {
		m.failBuild(ctx, uuid, []string{task}, err)
	}
}

// prepare fetches the image and builds the config drive (Nova's
// block_device_mapping step).
func (m *Manager) prepare(ctx context.Context, req BuildRequest) (ImageInfo, virt.InstanceSpec, error) {
	spec := req.Spec
	var img ImageInfo
	switch {
	case req.Image != nil && req.Image.ID == req.ImageID:
		img = *req.Image
	case m.images == nil:
		return ImageInfo{}, spec, errors.New("no image service")
	default:
		var err error
		if img, err = m.images.Image(ctx, req.ProjectID, req.ImageID); err != nil {
			return img, spec, fmt.Errorf("image %s: %w", req.ImageID, err)
		}
	}
	var err error
	if req.ConfigDrive != nil {
		if spec.ConfigDrive, err = req.ConfigDrive(ctx); err != nil {
			return img, spec, fmt.Errorf("config drive: %w", err)
		}
	}
	return img, spec, nil
}

// failBuild leaves nothing behind a failed build: the driver's instance
// destroyed, claims released, and (unless a delete took over) the
// instance in error with a fault, as Nova's BuildAbortException path.
func (m *Manager) failBuild(ctx context.Context, uuid string, expected []string, cause error) {
	if m.deleting(ctx, uuid, cause) {
		m.log.Info("build stopped: the instance is being deleted", "instance", uuid)
	} else {
		m.log.Error("build failed", "instance", uuid, "err", cause)
	}
	if err := m.drv.Destroy(ctx, uuid); err != nil {
		m.log.Error("destroy after failed build", "instance", uuid, "err", err)
	}
	if m.cfg.Networks != nil {
		if err := m.cfg.Networks.Deallocate(ctx, uuid); err != nil {
			m.log.Error("deallocate networks after failed build", "instance", uuid, "err", err)
		}
	}
	if m.claims != nil {
		if err := m.claims.Release(ctx, uuid); err != nil {
			m.log.Error("release claims after failed build", "instance", uuid, "err", err)
		}
	}
	if m.deleting(ctx, uuid, cause) {
		return
	}
	var fits *FlavorTooSmallError
	msg := fmt.Errorf("Build of instance %s aborted: %w", uuid, cause)
	if errors.As(cause, &fits) {
		msg = cause
	}
	err := m.store.Update(ctx, uuid, Update{VMState: VMError, TaskState: ptr(TaskNone),
		PowerState: ptr(virt.NoState), Expected: expected, Fault: m.newFault(eventBuild, msg)})
	if err != nil && !m.deleting(ctx, uuid, err) {
		m.log.Error("set instance to error after failed build", "instance", uuid, "err", err)
	}
}

// RejectBuild puts an instance the scheduler could not place (or that
// failed before reaching this host) into error with cause as its fault —
// e.g. &NoValidHostError{} — and releases its claims, as Nova's conductor
// does. It runs at once, not in the background.
func (m *Manager) RejectBuild(ctx context.Context, uuid, requestID string, cause error) error {
	o, err := m.enter(uuid)
	if err != nil {
		return err
	}
	defer o.release()
	err = m.store.Update(ctx, uuid, Update{VMState: VMError, TaskState: ptr(TaskNone),
		Expected: []string{TaskScheduling, TaskNone}, ExpectedVMStates: []string{VMBuilding},
		Fault: m.newFault("conductor_schedule_and_build_instances", cause)})
	if errors.Is(err, ErrUnexpectedTaskState) {
		if st, gerr := m.store.Instance(ctx, uuid); gerr == nil {
			err = &InvalidStateError{"build", uuid, "vm_state", st.VMState}
		}
	}
	if err != nil {
		return err
	}
	if m.claims != nil {
		if err := m.claims.Release(ctx, uuid); err != nil {
			return fmt.Errorf("release claims of %s: %w", uuid, err)
		}
	}
	return nil
}

// abortError is a build failure whose fault message is Nova's reason
// rather than the cause's text; the cause stays in the fault's details.
type abortError struct {
	reason string
	cause  error
}

func (e *abortError) Error() string { return e.reason }
func (e *abortError) Unwrap() error { return e.cause }
