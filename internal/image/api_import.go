package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"kumo/internal/platform/httpapi"
)

// Interoperable image import, as Glance Zed with enabled_import_methods
// = [glance-direct, copy-image] (copy-image only with stores configured):
//
//   - PUT /v2/images/{id}/stage streams the data to DataDir/staging/<id>
//     (a temporary file, fsynced, renamed); the image goes queued →
//     uploading and its size is the staged size.
//   - POST /v2/images/{id}/import {"method": {"name": "glance-direct"}}
//     (import_request.go) creates a task (api_image_import), takes the
//     import lock (the os_glance_import_task property), lists the target
//     stores (stores, all_stores, X-Image-Meta-Store, else the default)
//     in os_glance_importing_to_stores, sets the image importing and
//     answers 202; a goroutine owned by the Service (import_run.go) then
//     does what an upload does (hashes, inspection, fsync, rename) from
//     the staged file into each store, and the image becomes active. A
//     store that fails goes to os_glance_failed_import; when all stores
//     must succeed (all_stores_must_succeed, default true) the image goes
//     back to queued, nothing is kept (the staged data is removed too)
//     and the task says why.
//   - copy-image (copy_image, admin by default) copies an active image's
//     data into more stores the same way; the image stays active, and a
//     failure that must not happen undoes the copies of the task.
//   - web-download is not enabled: not advertised, and asking for it is
//     400 "Unknown import method name".
//   - An import cut by a shutdown or a crash is resumed at start-up for
//     the stores still listed (or failed, when its data is gone).
var importRoutes = []route{
	{pattern: "GET /v2/info/import", handle: importInfo},
	{pattern: "GET /v2/info/usage", handle: getUsage}, // quota.go
	{pattern: "PUT /v2/images/{image_id}/stage", parse: parseUpload, target: loadImage, handle: stageImage},
	// Glance validates the import body before looking the image up.
	{pattern: "POST /v2/images/{image_id}/import", parse: parseImport, target: loadImage, handle: importImage},
	// Image tasks (API 2.12): any caller who may see the image.
	{pattern: "GET /v2/images/{image_id}/tasks", target: loadImage, handle: imageTasks},
	// The tasks API: tasks_api_access (admin by default) first of all.
	{pattern: "GET /v2/tasks", action: "tasks_api_access", handle: listTasks},
	{pattern: "GET /v2/tasks/{task_id}", action: "tasks_api_access", handle: getTask},
}

// importMethods are the enabled import methods, in the order
// /v2/info/import lists them: copy-image only with multiple stores
// (Glance refuses it without enabled_backends).
func (s *Service) importMethods() []string {
	if s.stores.multi {
		return []string{"glance-direct", "copy-image"}
	}
	return []string{"glance-direct"}
}

const methodCopyImage = "copy-image"

const (
	taskTypeImport = "api_image_import"

	propImportTask   = "os_glance_import_task"         // the import lock
	propImporting    = "os_glance_importing_to_stores" // stores still to do
	propFailedImport = "os_glance_failed_import"       // stores that failed
)

// importInfo is GET /v2/info/import.
func importInfo(c *call) error {
	return c.json(http.StatusOK, map[string]any{"import-methods": map[string]any{
		"description": "Import methods available.", "type": "array", "value": c.s.importMethods()}})
}

// importRequest is a validated import body.
type importRequest struct {
	method string
	body   map[string]any
}

// parseImport is Glance's _validate_import_body.
func parseImport(c *call) error {
	v, err := c.body()
	if err != nil {
		return err
	}
	m, _ := v.(map[string]any)
	method, ok := m["method"].(map[string]any)
	if !ok {
		return httpapi.BadRequest("Import request requires a 'method' field.")
	}
	name, ok := method["name"]
	if !ok {
		return httpapi.BadRequest("Import request requires a 'name' field.")
	}
	s, _ := name.(string)
	known := false
	for _, im := range c.s.importMethods() {
		known = known || im == s
	}
	if !known {
		return httpapi.BadRequest("Unknown import method name '%v'.", name)
	}
	if v, ok := m["all_stores_must_succeed"]; ok {
		if _, isBool := v.(bool); !isBool {
			return httpapi.BadRequest("'all_stores_must_succeed' must be boolean value only")
		}
	}
	if v, ok := m["all_stores"]; ok {
		if _, isBool := v.(bool); !isBool {
			return httpapi.BadRequest("'all_stores' must be boolean value only")
		}
	}
	c.input = importRequest{method: s, body: m}
	return nil
}

// stagingDir holds staged data: DataDir/staging.
func (s *Service) stagingDir() string { return filepath.Join(s.cfg.DataDir, "staging") }

func (s *Service) stagingPath(id string) string { return filepath.Join(s.stagingDir(), id) }

// stageImage is PUT /v2/images/{id}/stage (Glance's ImageDataController
// .stage): image_stage_total, modify_image and ownership, queued →
// uploading, image_count_uploading, then the data.
func stageImage(c *call) error {
	im := c.image
	if err := c.checkStagingQuota(); err != nil {
		return err
	}
	if err := c.enforce("modify_image"); err != nil {
		return err
	}
	if err := c.checkMutable(); err != nil {
		return err
	}
	if im.Status != statusQueued {
		return httpapi.Conflict("Image status transition from %s to uploading is not allowed", im.Status)
	}
	if c.r.ContentLength > c.s.cfg.MaxImageSize {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The incoming image is too large: %d bytes exceed the limit of %d bytes", c.r.ContentLength, c.s.cfg.MaxImageSize)
	}
	im.Status, im.UpdatedAt = statusUploading, c.s.now()
	if err := c.s.store.SaveData(c.ctx, im, statusQueued); err != nil {
		if errors.Is(err, errStale) {
			return httpapi.Conflict("Image status transition from %s to uploading is not allowed", "queued")
		}
		return err
	}
	ctx := context.WithoutCancel(c.ctx)
	unstage := func() {
		_ = os.Remove(c.s.stagingPath(im.ID))
		resetData(im)
		im.Status, im.UpdatedAt = statusQueued, c.s.now()
		if err := c.s.store.SaveData(ctx, im, statusUploading); err != nil && !errors.Is(err, errNotFound) && !errors.Is(err, errStale) {
			c.s.log.Error("image: cannot restore staged image to queued", "image", im.ID, "err", err)
		}
	}
	if err := c.checkUploading(); err != nil {
		unstage()
		return err
	}
	// A staged file of a queued image is a leftover (an image deleted
	// while staged): it is replaced.
	final := c.s.stagingPath(im.ID)
	n, err := c.s.spool(final+".tmp", c.r.Body, c.r.ContentLength, nil, nil)
	if err == nil {
		if err = os.Rename(final+".tmp", final); err != nil {
			_ = os.Remove(final + ".tmp")
		}
	}
	if err != nil {
		unstage()
		return err
	}
	syncDir(c.s.stagingDir())
	im.Size, im.UpdatedAt = &n, c.s.now()
	if err := c.s.store.SaveData(ctx, im, statusUploading); err != nil {
		_ = os.Remove(final)
		if errors.Is(err, errNotFound) || errors.Is(err, errStale) {
			return httpapi.Errorf(http.StatusGone, "Image %s could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.", im.ID)
		}
		unstage()
		return err
	}
	return c.noContent()
}

// checkStagingQuota is Glance's enforce_image_staging_total: the project's
// staged data (the size of its uploading and importing images) must not
// be over the limit already.
func (c *call) checkStagingQuota() error {
	project := c.project()
	lim, ok, err := c.s.limit(c.ctx, project, quotaImageStageTotal)
	if err != nil || !ok {
		return err
	}
	n, err := c.s.store.quotaUsage(c.ctx, project, quotaImageStageTotal)
	if err != nil {
		return err
	}
	if n > lim*mib {
		return overLimit(project, quotaImageStageTotal, lim, n/mib, 0)
	}
	return nil
}

// importers are the imports running in the background. stop cancels them
// and waits; after it, start does nothing.
type importers struct {
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped bool
}

func (m *importers) start(run func(ctx context.Context)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	if m.ctx == nil {
		m.ctx, m.cancel = context.WithCancel(context.Background())
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		run(m.ctx)
	}()
}

func (m *importers) stop() {
	m.mu.Lock()
	m.stopped = true
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// ctxReader stops reading when ctx ends (an import stopped by Close).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// restoreAfterImport is the revert of Glance's flow: the image goes back to
// queued (kumo forgets the data as an upload does) and the lock is dropped.
func (s *Service) restoreAfterImport(ctx context.Context, id, taskID string) {
	im, err := s.store.GetImage(ctx, id)
	if err != nil {
		return
	}
	if im.Properties[propImportTask] != taskID || im.Status != statusImporting {
		return
	}
	delete(im.Properties, propImportTask)
	im.Properties[propImporting] = ""
	resetData(im)
	im.Status, im.UpdatedAt = statusQueued, s.now()
	if err := s.store.SaveData(ctx, im, statusImporting, propImportTask, propImporting); err != nil {
		if !errors.Is(err, errNotFound) && !errors.Is(err, errStale) {
			s.log.Error("image: cannot restore image after a failed import", "image", id, "err", err)
		}
		return
	}
	// Queued again: the stores an import had reached lose the data.
	s.removeData(id)
}

// finishTask records the end of a task: success with {"image_id"}, or
// failure with the reason.
func (s *Service) finishTask(ctx context.Context, task *Task, err error) {
	now := s.now()
	exp := now.Add(taskTTL)
	task.UpdatedAt, task.ExpiresAt = now, &exp
	if err == nil {
		task.Status, task.Result, task.Message = "success", map[string]any{"image_id": task.ImageID}, ""
	} else {
		msg := err.Error()
		if e, ok := httpapi.AsError(err); ok {
			msg = e.Message
		}
		task.Status, task.Message = "failure", msg
		s.log.Warn("image: import failed", "image", task.ImageID, "task", task.ID, "err", msg)
	}
	if err := s.store.SaveTask(ctx, task); err != nil {
		s.log.Error("image: cannot save task", "task", task.ID, "err", err)
	}
}

// startImports repairs the import state at start-up: unfinished staging
// is dropped, images still uploading without staged data go back to
// queued, imports cut by a shutdown or crash are resumed (or failed when
// their staged data is gone), and staged files of no image are removed.
func (s *Service) startImports(ctx context.Context) error {
	dir := s.stagingDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("image: staging dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("image: staging dir: %w", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	keep := map[string]bool{}
	uploading, err := s.store.imagesInStatus(ctx, statusUploading)
	if err != nil {
		return err
	}
	for _, id := range uploading {
		if _, err := os.Stat(s.stagingPath(id)); err == nil {
			keep[id] = true
			continue
		}
		im, err := s.store.GetImage(ctx, id)
		if err != nil {
			continue
		}
		resetData(im)
		im.Status, im.UpdatedAt = statusQueued, s.now()
		if err := s.store.SaveData(ctx, im, statusUploading); err != nil && !errors.Is(err, errStale) && !errors.Is(err, errNotFound) {
			return err
		}
	}
	tasks, err := s.store.unfinishedTasks(ctx)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		im, err := s.store.GetImage(ctx, t.ImageID)
		switch {
		case err == nil && im.Properties[propImportTask] == t.ID && (im.Status == statusImporting || im.Status == statusActive):
			// Resumed where it stopped: the stores still to do.
			keep[im.ID] = true
			s.imports.start(func(ctx context.Context) { s.runImport(ctx, t) })
		default:
			s.finishTask(ctx, t, errors.New("the import was interrupted"))
		}
	}
	// Importing images whose task is gone cannot finish: back to queued.
	importing, err := s.store.imagesInStatus(ctx, statusImporting)
	if err != nil {
		return err
	}
	for _, id := range importing {
		if keep[id] {
			continue
		}
		im, err := s.store.GetImage(ctx, id)
		if err != nil {
			continue
		}
		s.restoreAfterImport(ctx, id, im.Properties[propImportTask])
	}
	entries, _ = os.ReadDir(dir)
	for _, e := range entries {
		if !keep[e.Name()] {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// imageTasks is GET /v2/images/{id}/tasks (API 2.12): the image's tasks,
// as Glance's db api formats them (a non-admin sees its project's).
func imageTasks(c *call) error {
	if !c.allowed("get_image") {
		return httpapi.NotFound("The resource could not be found.")
	}
	q := taskQuery{imageID: c.image.ID}
	if !c.admin {
		q.owner = c.project()
		if q.owner == "" {
			return c.json(http.StatusOK, map[string]any{"tasks": []any{}})
		}
	}
	tasks, err := c.s.store.ListTasks(c.ctx, q)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, map[string]any{
			"id": t.ID, "type": t.Type, "status": t.Status, "owner": t.Owner,
			"expires_at": pyTime(t.ExpiresAt), "created_at": pyTime(&t.CreatedAt), "updated_at": pyTime(&t.UpdatedAt),
			"deleted_at": nil, "deleted": false, "image_id": nilIfEmpty(t.ImageID), "request_id": nilIfEmpty(t.RequestID),
			"user_id": nilIfEmpty(t.UserID), "input": t.Input, "result": nullableMap(t.Result), "message": t.Message,
		})
	}
	return c.json(http.StatusOK, map[string]any{"tasks": out})
}

// pyTime is a datetime as Glance's JSON serializer writes it (isoformat).
func pyTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}

func nullableMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// taskView is Glance's _format_task (full) or _format_task_stub.
func taskView(t *Task, full bool) map[string]any {
	v := map[string]any{"id": t.ID, "type": t.Type, "status": t.Status, "owner": t.Owner,
		"created_at": isotime(t.CreatedAt), "updated_at": isotime(t.UpdatedAt),
		"self": "/v2/tasks/" + t.ID, "schema": "/v2/schemas/task"}
	if t.ExpiresAt != nil {
		v["expires_at"] = isotime(*t.ExpiresAt)
	}
	if full {
		v["input"], v["result"], v["message"] = t.Input, nullableMap(t.Result), t.Message
		if t.ImageID != "" {
			v["image_id"] = t.ImageID
		}
		if t.RequestID != "" {
			v["request_id"] = t.RequestID
		}
		if t.UserID != "" {
			v["user_id"] = t.UserID
		}
	}
	return v
}

// taskOwner is the owner filter of the tasks API: none for an admin.
func (c *call) taskOwner() string {
	if c.admin {
		return ""
	}
	if p := c.project(); p != "" {
		return p
	}
	return "\x00" // no project: no task
}

// getTask is GET /v2/tasks/{task_id}.
func getTask(c *call) error {
	id := c.param("task_id")
	t, err := c.s.store.GetTask(c.ctx, id, c.taskOwner())
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Task with the given id %s was not found", id)
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, taskView(t, true))
}

// listTasks is GET /v2/tasks: filters type and status, sort_key,
// sort_dir, limit and marker, as Glance's tasks controller.
func listTasks(c *call) error {
	qs := c.r.URL.Query()
	q := taskQuery{owner: c.taskOwner(), typ: qs.Get("type"), status: qs.Get("status"), sortKey: "created_at", desc: true, limit: 25}
	if q.status != "" && !oneOf(q.status, "pending", "processing", "success", "failure") {
		return httpapi.BadRequest("Invalid status value: %s", q.status)
	}
	if q.typ != "" && !oneOf(q.typ, "import", taskTypeImport, "location_import") {
		return httpapi.BadRequest("Invalid type value: %s", q.typ)
	}
	if k := qs.Get("sort_key"); k != "" {
		if !oneOf(k, "id", "type", "status", "created_at", "updated_at") {
			return httpapi.BadRequest("Invalid sort key: %s. It must be one of the following: type, status, created_at, updated_at, id.", k)
		}
		q.sortKey = k
	}
	if d := qs.Get("sort_dir"); d != "" {
		if !oneOf(d, "asc", "desc") {
			return httpapi.BadRequest("Invalid sort direction: %s", d)
		}
		q.desc = d == "desc"
	}
	if l := qs.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return httpapi.BadRequest("limit param must be an integer")
		}
		if n < 0 {
			return httpapi.BadRequest("limit param must be positive")
		}
		q.limit = min(n, 1000)
	}
	if m := qs.Get("marker"); m != "" {
		t, err := c.s.store.GetTask(c.ctx, m, q.owner)
		if errors.Is(err, errNotFound) {
			return httpapi.BadRequest("Task with the given id %s was not found", m)
		}
		if err != nil {
			return err
		}
		q.marker = t
	}
	var tasks []*Task
	if q.limit > 0 {
		var err error
		if tasks, err = c.s.store.ListTasks(c.ctx, q); err != nil {
			return err
		}
	}
	out := make([]any, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, taskView(t, false))
	}
	params := c.r.URL.Query()
	params.Del("marker")
	body := map[string]any{"tasks": out, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
	if enc := params.Encode(); enc != "" {
		body["first"] = "/v2/tasks?" + enc
	}
	if len(tasks) > 0 && len(tasks) == q.limit {
		params.Set("marker", tasks[len(tasks)-1].ID)
		body["next"] = "/v2/tasks?" + params.Encode()
	}
	return c.json(http.StatusOK, body)
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
