package image

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"kumo/internal/platform/httpapi"
)

// runImport is the api_image_import flow of a task: its data (the staged
// file for glance-direct, a store holding it for copy-image) goes to each
// of its stores in turn, and the os_glance_importing_to_stores and
// os_glance_failed_import properties follow. If ctx ends (shutdown), the
// task stays processing with the lock and the stores left: start-up
// resumes it.
func (s *Service) runImport(ctx context.Context, task *Task) {
	bg := context.WithoutCancel(ctx)
	if task.Status != "processing" {
		task.Status, task.UpdatedAt = "processing", s.now()
		if err := s.store.SaveTask(bg, task); err != nil {
			s.log.Error("image: import task", "task", task.ID, "err", err)
			return
		}
	}
	err := s.doImport(ctx, task)
	if ctx.Err() != nil && err != nil {
		return // stopped: resumed at the next start-up
	}
	s.finishTask(bg, task, err)
}

// errImportImageDeleted is Glance's task message when the image goes away
// during an import; it is shown to users as is.
//
//lint:ignore ST1005 Glance's wording, punctuation included
var errImportImageDeleted = errors.New("Image has been deleted, aborting import.")

// errNotImporting: the image's import lock is not this task's any more.
var errNotImporting = errors.New("the image is not being imported by this task")

func taskRequest(t *Task) map[string]any {
	req, _ := t.Input["import_req"].(map[string]any)
	return req
}

func taskMethod(t *Task) string {
	m, _ := taskRequest(t)["method"].(map[string]any)
	name, _ := m["name"].(string)
	return name
}

// taskMustSucceed is all_stores_must_succeed (default true).
func taskMustSucceed(t *Task) bool {
	v, ok := taskRequest(t)["all_stores_must_succeed"].(bool)
	return !ok || v
}

// taskStores are the task's target stores (a null backend is the default
// store).
func (s *Service) taskStores(t *Task) []string {
	list, _ := t.Input["backend"].([]any)
	var out []string
	for _, v := range list {
		id, _ := v.(string)
		if id == "" {
			id = s.stores.def().ID
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		out = []string{s.stores.def().ID}
	}
	return out
}

// pending are the task's stores still to do: those still listed in
// os_glance_importing_to_stores (with one store, which lists none: the
// store when it does not hold the data yet).
func (s *Service) pending(im *Image, t *Task) []string {
	var out []string
	listed := splitStores(im.Properties[propImporting])
	for _, st := range s.taskStores(t) {
		if (s.stores.multi && slices.Contains(listed, st)) || (!s.stores.multi && !slices.Contains(im.Stores, st)) {
			out = append(out, st)
		}
	}
	return out
}

func (s *Service) doImport(ctx context.Context, task *Task) error {
	bg := context.WithoutCancel(ctx)
	copying := taskMethod(task) == methodCopyImage
	im, err := s.store.GetImage(bg, task.ImageID)
	if errors.Is(err, errNotFound) {
		_ = os.Remove(s.stagingPath(task.ImageID))
		return errImportImageDeleted
	}
	if err != nil {
		return err
	}
	if im.Properties[propImportTask] != task.ID || (im.Status != statusImporting && im.Status != statusActive) {
		return errNotImporting
	}
	must := taskMustSucceed(task)
	var done []string
	var firstErr error
	unlocked := false // the last store's write dropped the lock
	for _, st := range s.pending(im, task) {
		var err error
		unlocked, err = s.importTo(ctx, task, st, copying)
		if err != nil && ctx.Err() != nil {
			return err // stopped, not failed
		}
		if errors.Is(err, errImportImageDeleted) || errors.Is(err, errNotImporting) {
			_ = os.Remove(s.stagingPath(im.ID))
			return err
		}
		if err != nil {
			msg := err.Error()
			if e, ok := httpapi.AsError(err); ok {
				msg = e.Message
			}
			err = fmt.Errorf("import to store %s failed: %s", st, msg)
			s.markFailed(bg, task, st)
			if firstErr == nil {
				firstErr = err
			}
			if must {
				s.revertImport(bg, task, done, copying)
				return err
			}
			continue
		}
		done = append(done, st)
	}
	if !copying {
		_ = os.Remove(s.stagingPath(im.ID))
	}
	if unlocked {
		return nil // the task's end follows the image's at once
	}
	// The lock goes with the last store's write; what is left here is an
	// import where the last stores failed (or a resumed one with no store
	// left to do).
	cur, err := s.store.GetImage(bg, im.ID)
	if errors.Is(err, errNotFound) {
		return errImportImageDeleted
	}
	if err != nil {
		return err
	}
	if cur.Properties[propImportTask] == task.ID {
		if cur.Status != statusActive {
			s.restoreAfterImport(bg, cur.ID, task.ID)
			if firstErr == nil {
				firstErr = errors.New("the image import failed")
			}
			return firstErr
		}
		delete(cur.Properties, propImportTask)
		cur.UpdatedAt = s.now()
		if err := s.store.SaveData(bg, cur, statusActive, propImportTask); err != nil && !errors.Is(err, errStale) {
			return err
		}
	}
	if copying && firstErr != nil && len(done) == 0 {
		return firstErr
	}
	return nil
}

// importTo writes the task's data into store st and records it: the
// store is added to the image's stores and leaves the importing list; a
// glance-direct image becomes active once a store has it (after the last
// one when all stores must succeed). The last store's write drops the
// import lock too.
func (s *Service) importTo(ctx context.Context, task *Task, stID string, copying bool) (unlocked bool, err error) {
	bg := context.WithoutCancel(ctx)
	st := s.stores.get(stID)
	if st == nil {
		return false, fmt.Errorf("store %s is not configured", stID)
	}
	im, err := s.store.GetImage(bg, task.ImageID)
	if errors.Is(err, errNotFound) {
		return false, errImportImageDeleted
	}
	if err != nil {
		return false, err
	}
	if im.Properties[propImportTask] != task.ID {
		return false, errNotImporting
	}
	var info received
	if copying {
		err = s.copyData(ctx, im, st)
	} else {
		info, err = s.receiveStaged(ctx, im, st)
	}
	if err != nil {
		return false, err
	}
	s.at("import:written")
	// Re-read the image: metadata changed during the import is kept.
	cur, err := s.store.GetImage(bg, im.ID)
	if err == nil && cur.Properties[propImportTask] != task.ID {
		err = errNotImporting
	}
	if err != nil {
		_ = st.remove(bg, im.ID)
		if errors.Is(err, errNotFound) {
			return false, errImportImageDeleted
		}
		return false, err
	}
	from := cur.Status
	left := slices.DeleteFunc(splitStores(cur.Properties[propImporting]), func(s string) bool { return s == stID })
	cur.Properties[propImporting] = strings.Join(left, ",")
	props := []string{propImporting}
	if !copying {
		cur.Size, cur.Checksum, cur.OSHashValue = &info.size, &info.md5, &info.sha512
		algo := "sha512"
		cur.OSHashAlgo = &algo
		cur.VirtualSize = nil
		if info.virtualSize > 0 {
			cur.VirtualSize = &info.virtualSize
		}
		cur.HasData = true
		if !taskMustSucceed(task) || len(left) == 0 {
			cur.Status = statusActive
		}
	}
	if len(left) == 0 && cur.Status == statusActive {
		delete(cur.Properties, propImportTask)
		props = append(props, propImportTask)
		unlocked = true
	}
	cur.UpdatedAt = s.now()
	if err := s.store.SaveDataIn(bg, cur, from, locChange{add: stID}, props...); err != nil {
		_ = st.remove(bg, im.ID)
		if errors.Is(err, errNotFound) || errors.Is(err, errStale) {
			return false, errImportImageDeleted
		}
		return false, err
	}
	return unlocked, nil
}

// receiveStaged is an upload from the staged file into st (hashes,
// inspection, fsync, rename).
func (s *Service) receiveStaged(ctx context.Context, im *Image, st *fsStore) (received, error) {
	if im.ContainerFormat == nil || im.DiskFormat == nil {
		return received{}, errors.New("'container_format' and 'disk_format' need to be set before import")
	}
	f, err := os.Open(s.stagingPath(im.ID))
	if err != nil {
		return received{}, fmt.Errorf("the staged data is gone: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return received{}, err
	}
	return s.receive(ctx, st, im, ctxReader{ctx, f}, fi.Size())
}

// copyData copies an active image's data from a store holding it into
// st: a temporary file, fsynced, checked against the image's checksum,
// renamed into place.
func (s *Service) copyData(ctx context.Context, im *Image, st *fsStore) error {
	if im.Size == nil {
		return errors.New("the image has no data to copy")
	}
	if err := st.tooLarge(*im.Size); err != nil {
		return err
	}
	src, closer, err := s.openData(ctx, im, 0, *im.Size)
	if err != nil {
		return fmt.Errorf("the image data cannot be read: %w", err)
	}
	defer closer.Close()
	tmp := st.path(im.ID) + ".tmp"
	h := md5.New()
	if _, err := s.spool(tmp, ctxReader{ctx, src}, *im.Size, h, nil); err != nil {
		return err
	}
	if im.Checksum != nil && hexSum(h) != *im.Checksum {
		_ = os.Remove(tmp)
		return errors.New("the copied data does not match the image's checksum")
	}
	return st.commit(ctx, tmp, im.ID, *im.Size, hexSum(h))
}

// markFailed moves a store from the importing list to the failed one.
func (s *Service) markFailed(ctx context.Context, task *Task, stID string) {
	im, err := s.store.GetImage(ctx, task.ImageID)
	if err != nil || im.Properties[propImportTask] != task.ID {
		return
	}
	im.Properties[propImporting] = strings.Join(slices.DeleteFunc(splitStores(im.Properties[propImporting]),
		func(s string) bool { return s == stID }), ",")
	failed := splitStores(im.Properties[propFailedImport])
	if s.stores.multi && !slices.Contains(failed, stID) {
		failed = append(failed, stID)
	}
	im.Properties[propFailedImport] = strings.Join(failed, ",")
	im.UpdatedAt = s.now()
	if err := s.store.SaveData(ctx, im, im.Status, propImporting, propFailedImport); err != nil && !errors.Is(err, errNotFound) && !errors.Is(err, errStale) {
		s.log.Error("image: cannot record a failed store", "image", im.ID, "store", stID, "err", err)
	}
}

// revertImport undoes a failed import whose stores all had to succeed: a
// glance-direct image goes back to queued with no data anywhere; a copy
// loses the copies this run made, and the lock.
func (s *Service) revertImport(ctx context.Context, task *Task, done []string, copying bool) {
	if !copying {
		_ = os.Remove(s.stagingPath(task.ImageID))
		s.restoreAfterImport(ctx, task.ImageID, task.ID)
		return
	}
	for _, st := range done {
		if err := s.store.RemoveLocation(ctx, task.ImageID, st, s.now()); err == nil {
			_ = s.stores.get(st).remove(ctx, task.ImageID)
		}
	}
	im, err := s.store.GetImage(ctx, task.ImageID)
	if err != nil || im.Properties[propImportTask] != task.ID {
		return
	}
	delete(im.Properties, propImportTask)
	im.Properties[propImporting] = ""
	im.UpdatedAt = s.now()
	if err := s.store.SaveData(ctx, im, im.Status, propImportTask, propImporting); err != nil && !errors.Is(err, errNotFound) && !errors.Is(err, errStale) {
		s.log.Error("image: cannot unlock image after a failed copy", "image", im.ID, "err", err)
	}
}
