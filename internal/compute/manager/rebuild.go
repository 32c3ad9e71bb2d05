package manager

import (
	"context"

	"kumo/internal/compute/virt"
)

// RebuildRequest rebuilds an instance from ImageID with a fresh root disk
// (and config drive), keeping its identity. The API has recorded the new
// image_ref.
type RebuildRequest struct {
	RequestID   string
	ProjectID   string
	ImageID     string
	Spec        virt.InstanceSpec
	ConfigDrive ConfigDriveFunc
}

const eventRebuild = "compute_rebuild_instance"

// Rebuild rebuilds an active, stopped or error instance: rebuilding →
// rebuild_block_device_mapping → rebuild_spawning → active; an instance
// that was stopped is then stopped again (active/powering-off → stopped),
// as Nova does. A failure leaves it in error with a fault.
func (m *Manager) Rebuild(ctx context.Context, req RebuildRequest) error {
	uuid := req.Spec.UUID
	st, o, err := m.accept(ctx, uuid, rule{method: "rebuild", vmStates: []string{VMActive, VMStopped, VMError},
		mustLaunched: true, newTask: TaskRebuilding})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.rebuild(ctx, req, st.VMState) })
	return nil
}

func (m *Manager) rebuild(ctx context.Context, req RebuildRequest, origVM string) {
	uuid := req.Spec.UUID
	var err error
	finish := m.event(ctx, uuid, req.RequestID, eventRebuild)
	defer func() { finish(&err) }()
	fail := func(e error) {
		err = e
		m.errorOut(ctx, uuid, eventRebuild, e)
	}
	if err = m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskRebuildBlockDeviceMapping),
		Expected: []string{TaskRebuilding}}); err != nil {
		fail(err)
		return
	}
	img, spec, err := m.prepare(ctx, BuildRequest{ProjectID: req.ProjectID, ImageID: req.ImageID,
		Spec: req.Spec, ConfigDrive: req.ConfigDrive})
	if err == nil {
		err = CheckImageFits(img, spec.MemoryMB, spec.RootGB)
	}
	if err == nil {
		err = m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskRebuildSpawning),
			Expected: []string{TaskRebuildBlockDeviceMapping}})
	}
	if err == nil {
		err = m.drv.Rebuild(ctx, spec, img.Image)
	}
	if err == nil {
		err = m.store.Update(ctx, uuid, Update{VMState: VMActive, TaskState: ptr(TaskNone),
			PowerState: ptr(m.power(ctx, uuid)), LaunchedAt: m.now(), Expected: []string{TaskRebuildSpawning}})
	}
	if err != nil {
		fail(err)
		return
	}
	if origVM != VMStopped {
		return
	}
	// Bring the instance back to its original state, as Nova's rebuild.
	if err = m.set(ctx, uuid, VMActive, TaskPoweringOff, TaskNone); err != nil {
		m.lost(ctx, uuid, err)
		return
	}
	m.stop(ctx, uuid, req.RequestID)
}
