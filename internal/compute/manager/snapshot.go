package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// SnapshotRequest snapshots an instance's root disk into ImageID, an image
// record the API created (queued) for ProjectID.
type SnapshotRequest struct {
	UUID      string
	RequestID string
	ProjectID string
	ImageID   string
}

const eventSnapshot = "compute_snapshot_instance"

// Snapshot snapshots an active, stopped, paused or suspended instance:
// image_snapshot_pending → image_snapshot (the driver copies the disk to a
// file) → image_pending_upload → image_uploading (the file goes to the
// image service) → None. On failure the task_state goes back to None, a
// fault is recorded and the image is deleted, as Nova's
// delete_image_on_error.
func (m *Manager) Snapshot(ctx context.Context, req SnapshotRequest) error {
	if req.ImageID == "" {
		return errors.New("snapshot: image id is required")
	}
	_, o, err := m.accept(ctx, req.UUID, rule{method: "createImage",
		vmStates: []string{VMActive, VMStopped, VMPaused, VMSuspended}, newTask: TaskImageSnapshotPending})
	if err != nil {
		return err
	}
	o.start(func(ctx context.Context) { m.snapshot(ctx, req) })
	return nil
}

func (m *Manager) snapshot(ctx context.Context, req SnapshotRequest) {
	uuid := req.UUID
	var err error
	finish := m.event(ctx, uuid, req.RequestID, eventSnapshot)
	defer func() { finish(&err) }()
	task := TaskImageSnapshotPending
	advance := func(next string) error {
		if err := m.store.Update(ctx, uuid, Update{TaskState: ptr(next), Expected: []string{task}}); err != nil {
			return err
		}
		task = next
		return nil
	}
	err = m.snapshotSteps(ctx, req, advance)
	if err == nil {
		err = m.store.Update(ctx, uuid, Update{TaskState: ptr(TaskNone), Expected: []string{TaskImageUploading}})
	}
	if err == nil {
		return
	}
	if m.images != nil {
		if derr := m.images.DeleteImage(ctx, req.ProjectID, req.ImageID); derr != nil {
			m.log.Warn("delete image of failed snapshot", "instance", uuid, "image", req.ImageID, "err", derr)
		}
	}
	if !m.deleting(ctx, uuid, err) {
		m.revertTask(ctx, uuid, task, eventSnapshot, err)
	}
}

func (m *Manager) snapshotSteps(ctx context.Context, req SnapshotRequest, advance func(string) error) error {
	if m.images == nil {
		return errors.New("no image service")
	}
	if err := advance(TaskImageSnapshot); err != nil {
		return err
	}
	f, err := os.CreateTemp(m.cfg.SnapshotDir, "kumo-snapshot-*.qcow2")
	if err != nil {
		return fmt.Errorf("snapshot file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := m.drv.Snapshot(ctx, req.UUID, f); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("snapshot file: %w", err)
	}
	if err := advance(TaskImagePendingUpload); err != nil {
		return err
	}
	if err := advance(TaskImageUploading); err != nil {
		return err
	}
	if err := m.images.UploadSnapshot(ctx, req.ProjectID, req.ImageID, f, size); err != nil {
		return fmt.Errorf("upload snapshot to image %s: %w", req.ImageID, err)
	}
	return nil
}
