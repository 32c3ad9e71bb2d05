package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// newStoresCloud is a test cloud with filesystem stores fast (default)
// and cheap, plus the ids in extra, each in its own directory.
func newStoresCloud(t *testing.T, extra ...string) *testCloud {
	t.Helper()
	root := t.TempDir()
	tc := newTestCloud(t, func(c *Config) {
		c.Stores = []StoreConfig{{ID: "cheap", Dir: filepath.Join(root, "cheap"), Description: "slow disks"},
			{ID: "fast", Dir: filepath.Join(root, "fast"), Description: "quick access", Default: true}}
		for _, id := range extra {
			c.Stores = append(c.Stores, StoreConfig{ID: id, Dir: filepath.Join(root, id)})
		}
	})
	t.Cleanup(func() { tc.svc.Close() })
	return tc
}

func (tc *testCloud) storeFile(store, id string) string {
	return tc.svc.stores.get(store).path(id)
}

// uploaded is an active image of alice's with data, stored in store
// ("" for the default).
func (tc *testCloud) uploaded(data []byte, store string) string {
	tc.t.Helper()
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	var hdr []string
	if store != "" {
		hdr = []string{"X-Image-Meta-Store", store}
	}
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, data, hdr...)
	return id
}

// waitImporting polls an image until os_glance_importing_to_stores is ""
// and no import lock is left.
func (tc *testCloud) waitImporting(id string) map[string]any {
	tc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := tc.must(200, "GET", "/v2/images/"+id, tc.admin, nil)
		v, listed := r.json[propImporting]
		_, locked := r.json[propImportTask]
		if listed && v == "" && !locked && r.json["status"] != "importing" {
			return r.json
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("image %s still importing: %s", id, r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lastTask waits until the image's newest task has ended and returns it.
func (tc *testCloud) lastTask(id string) map[string]any {
	tc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		t := tc.newestTask(id)
		if t["status"] == "success" || t["status"] == "failure" || time.Now().After(deadline) {
			return t
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tc *testCloud) newestTask(id string) map[string]any {
	tc.t.Helper()
	r := tc.must(200, "GET", "/v2/images/"+id+"/tasks", tc.admin, nil)
	list, _ := r.json["tasks"].([]any)
	if len(list) == 0 {
		tc.t.Fatalf("image %s has no task", id)
	}
	var last map[string]any
	for _, it := range list {
		m := it.(map[string]any)
		if last == nil || m["created_at"].(string) >= last["created_at"].(string) {
			last = m
		}
	}
	return last
}

func copyImage(stores []string, extra map[string]any) map[string]any {
	b := map[string]any{"method": map[string]any{"name": "copy-image"}}
	if stores != nil {
		b["stores"] = stores
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// Without configured stores: Glance without enabled_backends.
func TestSingleStoreHidesStoresAPI(t *testing.T) {
	tc := newImportCloud(t)
	tc.must(404, "GET", "/v2/info/stores", tc.alice, nil)
	tc.must(404, "GET", "/v2/info/stores/detail", tc.admin, nil)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	// The header is ignored: the one store gets the data.
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, []byte("abc"), "X-Image-Meta-Store", "nowhere")
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if _, ok := r.json["stores"]; ok {
		t.Fatalf("stores shown without multiple stores: %s", r.raw)
	}
	tc.must(404, "DELETE", "/v2/stores/local/"+id, tc.admin, nil)
	r = tc.must(400, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"local"}, nil))
	if !strings.Contains(string(r.raw), "Unknown import method name") {
		t.Fatalf("copy-image with one store: %s", r.raw)
	}
	if _, err := os.Stat(filepath.Join(tc.dir, "images", id)); err != nil {
		t.Fatalf("data not at DataDir/images: %v", err)
	}
}

func TestStoresInfo(t *testing.T) {
	tc := newStoresCloud(t)
	r := tc.must(200, "GET", "/v2/info/stores", tc.alice, nil)
	// Configuration order; "default" is the string "true", as Glance's
	// discovery controller writes it.
	want := []any{
		map[string]any{"id": "cheap", "description": "slow disks"},
		map[string]any{"id": "fast", "description": "quick access", "default": "true"},
	}
	if !reflect.DeepEqual(r.json["stores"], want) {
		t.Fatalf("stores: %s", r.raw)
	}
	tc.must(403, "GET", "/v2/info/stores/detail", tc.alice, nil)
	r = tc.must(200, "GET", "/v2/info/stores/detail", tc.admin, nil)
	list := r.json["stores"].([]any)
	cheap := list[0].(map[string]any)
	props, _ := cheap["properties"].(map[string]any)
	if cheap["type"] != "file" || props["data_dir"] != tc.svc.stores.get("cheap").Dir || cheap["default"] != nil {
		t.Fatalf("detail: %s", r.raw)
	}
	r = tc.must(200, "GET", "/v2/info/import", tc.alice, nil)
	if m := r.json["import-methods"].(map[string]any); !reflect.DeepEqual(m["value"], []any{"glance-direct", "copy-image"}) {
		t.Fatalf("import methods: %s", r.raw)
	}
	if r := tc.must(200, "GET", "/versions", "", nil); !strings.Contains(string(r.raw), `"v2.13"`) {
		t.Fatalf("versions without the multi-store ones: %s", r.raw)
	}
	res := tc.must(201, "POST", "/v2/images", tc.alice, map[string]any{"name": "x"})
	if h := res.header.Get("OpenStack-image-store-ids"); h != "cheap,fast" {
		t.Fatalf("OpenStack-image-store-ids: %q", h)
	}
}

func TestUploadToChosenStore(t *testing.T) {
	tc := newStoresCloud(t)
	data := []byte("some image data")
	id := tc.uploaded(data, "cheap")
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["stores"] != "cheap" || r.json["status"] != "active" {
		t.Fatalf("image: %s", r.raw)
	}
	if _, err := os.Stat(tc.storeFile("cheap", id)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tc.storeFile("fast", id)); err == nil {
		t.Fatal("data in the default store too")
	}
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("download differs")
	}
	def := tc.uploaded(data, "")
	if r := tc.must(200, "GET", "/v2/images/"+def, tc.alice, nil); r.json["stores"] != "fast" {
		t.Fatalf("default store: %s", r.raw)
	}
	other := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	r = tc.must(400, "PUT", "/v2/images/"+other+"/file", tc.alice, data, "X-Image-Meta-Store", "nowhere")
	if !strings.Contains(string(r.raw), "Store for scheme nowhere not found") {
		t.Fatalf("unknown store: %s", r.raw)
	}
	if r := tc.must(200, "GET", "/v2/images/"+other, tc.alice, nil); r.json["status"] != "queued" {
		t.Fatalf("refused upload changed the image: %s", r.raw)
	}
}

func TestCopyImageThenDeleteFromStore(t *testing.T) {
	tc := newStoresCloud(t)
	data := bytes.Repeat([]byte("copy me "), 1000)
	id := tc.uploaded(data, "")
	// copy_image is admin-only by default.
	tc.must(403, "POST", "/v2/images/"+id+"/import", tc.alice, copyImage([]string{"cheap"}, nil))
	tc.must(409, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"nowhere"}, nil))
	tc.must(400, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"fast"}, nil))
	tc.must(400, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"cheap"}, map[string]any{"all_stores": true}))
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"cheap"}, nil))
	im := tc.waitImporting(id)
	if im["stores"] != "cheap,fast" || im["status"] != "active" || im[propFailedImport] != "" {
		t.Fatalf("after copy: %v", im)
	}
	if got, _ := os.ReadFile(tc.storeFile("cheap", id)); !bytes.Equal(got, data) {
		t.Fatal("copy differs from the data")
	}
	task := tc.lastTask(id)
	if task["status"] != "success" || !reflect.DeepEqual(task["input"].(map[string]any)["backend"], []any{"cheap"}) {
		t.Fatalf("task: %v", task)
	}
	// Everywhere already: all_stores does nothing, and makes no task.
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage(nil, map[string]any{"all_stores": true}))
	if r := tc.must(200, "GET", "/v2/images/"+id+"/tasks", tc.admin, nil); len(r.json["tasks"].([]any)) != 1 {
		t.Fatalf("tasks: %s", r.raw)
	}

	tc.must(404, "DELETE", "/v2/stores/fast/"+id, tc.bob, nil)
	tc.must(409, "DELETE", "/v2/stores/nowhere/"+id, tc.admin, nil)
	tc.must(404, "DELETE", "/v2/stores/fast/00000000-0000-0000-0000-000000000000", tc.admin, nil)
	tc.must(204, "DELETE", "/v2/stores/fast/"+id, tc.alice, nil)
	if _, err := os.Stat(tc.storeFile("fast", id)); !os.IsNotExist(err) {
		t.Fatalf("data still in fast: %v", err)
	}
	if r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil); r.json["stores"] != "cheap" {
		t.Fatalf("after delete from store: %s", r.raw)
	}
	tc.must(404, "DELETE", "/v2/stores/fast/"+id, tc.admin, nil)
	r := tc.must(403, "DELETE", "/v2/stores/cheap/"+id, tc.admin, nil)
	if !strings.Contains(string(r.raw), "only store") {
		t.Fatalf("last store: %s", r.raw)
	}
	// Served from the other store.
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("download from cheap differs")
	}
	tc.must(204, "DELETE", "/v2/images/"+id, tc.alice, nil)
	if _, err := os.Stat(tc.storeFile("cheap", id)); !os.IsNotExist(err) {
		t.Fatalf("deleted image's data left in cheap: %v", err)
	}
	// Copying needs an active image.
	q := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(409, "POST", "/v2/images/"+q+"/import", tc.admin, copyImage([]string{"cheap"}, nil))
}

// breakStore replaces a store's directory by a plain file: every write
// into it fails (as root too, unlike a mode change).
func (tc *testCloud) breakStore(id string) {
	tc.t.Helper()
	dir := tc.svc.stores.get(id).Dir
	if err := os.RemoveAll(dir); err != nil {
		tc.t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		tc.t.Fatal(err)
	}
}

func TestCopyImageStoreFailure(t *testing.T) {
	tc := newStoresCloud(t, "broken")
	data := []byte("data to spread")
	tc.breakStore("broken")

	// Failures allowed: cheap gets its copy, broken is reported.
	id := tc.uploaded(data, "")
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"broken", "cheap"}, map[string]any{"all_stores_must_succeed": false}))
	im := tc.waitImporting(id)
	if im["stores"] != "cheap,fast" || im[propFailedImport] != "broken" || im["status"] != "active" {
		t.Fatalf("copy with a failing store allowed: %v", im)
	}
	if task := tc.lastTask(id); task["status"] != "success" {
		t.Fatalf("task: %v", task)
	}

	// All must succeed: cheap's copy is undone, the task fails.
	id2 := tc.uploaded(data, "")
	tc.must(202, "POST", "/v2/images/"+id2+"/import", tc.admin, copyImage([]string{"cheap", "broken"}, nil))
	tc.waitImporting(id2)
	task2 := tc.lastTask(id2)
	im = tc.must(200, "GET", "/v2/images/"+id2, tc.alice, nil).json
	if im["stores"] != "fast" || im[propFailedImport] != "broken" || im["status"] != "active" {
		t.Fatalf("copy with a failing store, all must succeed: %v", im)
	}
	if _, err := os.Stat(tc.storeFile("cheap", id2)); !os.IsNotExist(err) {
		t.Fatalf("reverted copy left in cheap: %v", err)
	}
	if task2["status"] != "failure" || !strings.Contains(task2["message"].(string), "broken") {
		t.Fatalf("task: %v", task2)
	}

	// glance-direct to all stores, all must succeed: back to queued,
	// nothing kept anywhere.
	id3 := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id3+"/stage", tc.alice, data)
	tc.must(202, "POST", "/v2/images/"+id3+"/import", tc.alice, map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores": true})
	tc.waitImporting(id3)
	if task := tc.lastTask(id3); task["status"] != "failure" {
		t.Fatalf("task: %v", task)
	}
	im = tc.must(200, "GET", "/v2/images/"+id3, tc.alice, nil).json
	if im["status"] != "queued" || im[propFailedImport] != "broken" || im["stores"] != nil {
		t.Fatalf("glance-direct, all must succeed: %v", im)
	}
	for _, st := range []string{"fast", "cheap"} {
		if _, err := os.Stat(tc.storeFile(st, id3)); !os.IsNotExist(err) {
			t.Fatalf("data left in %s: %v", st, err)
		}
	}
	assertNothingStaged(t, tc)

	// glance-direct, failures allowed: active in the stores that work.
	id4 := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id4+"/stage", tc.alice, data)
	tc.must(202, "POST", "/v2/images/"+id4+"/import", tc.alice, map[string]any{"method": map[string]any{"name": "glance-direct"},
		"all_stores": true, "all_stores_must_succeed": false})
	im = tc.waitImporting(id4)
	if im["status"] != "active" || im[propFailedImport] != "broken" || im["stores"] != "cheap,fast" {
		t.Fatalf("glance-direct, failures allowed: %v", im)
	}
	if d := tc.must(200, "GET", "/v2/images/"+id4+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("download differs")
	}
	assertNothingStaged(t, tc)
}

func TestGlanceDirectToStores(t *testing.T) {
	tc := newStoresCloud(t)
	data := []byte("staged data")
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, data)
	tc.must(400, "POST", "/v2/images/"+id+"/import", tc.alice, map[string]any{"method": map[string]any{"name": "glance-direct"},
		"all_stores": true, "stores": []string{"cheap"}})
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.alice, map[string]any{"method": map[string]any{"name": "glance-direct"}, "stores": []string{"cheap"}})
	im := tc.waitImporting(id)
	if im["status"] != "active" || im["stores"] != "cheap" {
		t.Fatalf("glance-direct to cheap: %v", im)
	}
	if got, _ := os.ReadFile(tc.storeFile("cheap", id)); !bytes.Equal(got, data) {
		t.Fatal("data in cheap differs")
	}
}

// A copy cut by a crash (its task processing, the lock held, a
// half-written temporary file) is finished by the next start.
func TestCopyImageResumedAfterRestart(t *testing.T) {
	tc := newStoresCloud(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("resume "), 500)
	id := tc.uploaded(data, "")
	now := time.Now().UTC()
	task := &Task{ID: newUUID(), Type: taskTypeImport, Status: "processing", Owner: tc.adminPrj, ImageID: id,
		Input: map[string]any{"image_id": id, "backend": []any{"cheap"},
			"import_req": map[string]any{"method": map[string]any{"name": "copy-image"}, "stores": []any{"cheap"}}},
		CreatedAt: now, UpdatedAt: now}
	if err := tc.svc.store.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	im, err := tc.svc.store.GetImage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	im.Properties[propImportTask], im.Properties[propImporting], im.Properties[propFailedImport] = task.ID, "cheap", ""
	if err := tc.svc.store.SaveData(ctx, im, statusActive, propImportTask, propImporting, propFailedImport); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tc.storeFile("cheap", id)+".tmp", []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	tc.svc.Close()
	svc2, err := New(ctx, tc.svc.cfg, tc.svc.store.db, tc.id, tc.svc.log)
	if err != nil {
		t.Fatal(err)
	}
	tc.srv.Config.Handler = svc2.Handler()
	tc.svc = svc2
	tc.waitImporting(id)
	task2 := tc.lastTask(id)
	got := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil).json
	if got["stores"] != "cheap,fast" || got["status"] != "active" {
		t.Fatalf("after resume: %v", got)
	}
	if b, _ := os.ReadFile(tc.storeFile("cheap", id)); !bytes.Equal(b, data) {
		t.Fatal("resumed copy differs")
	}
	if _, err := os.Stat(tc.storeFile("cheap", id) + ".tmp"); !os.IsNotExist(err) {
		t.Fatal("temporary file of the cut copy left")
	}
	if task2["status"] != "success" {
		t.Fatalf("task %v", task2)
	}
}

// A data dir from before stores (no image_locations table, data in
// DataDir/images) is served as it was; configured stores keep it in
// "local", and dropping that store from the configuration is refused.
func TestDataDirBeforeStores(t *testing.T) {
	tc := newImportCloud(t)
	ctx := context.Background()
	data := []byte("old image data")
	id := tc.uploaded(data, "")
	d := tc.svc.store.db
	for _, q := range []string{`DROP TABLE image_locations`, `DELETE FROM kumo_migrations WHERE service = 'image' AND name = '0004_locations.sql'`} {
		if _, err := d.W.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	restart := func(stores []StoreConfig) error {
		cfg := tc.svc.cfg
		cfg.Stores = stores
		tc.svc.Close()
		svc, err := New(ctx, cfg, d, tc.id, tc.svc.log)
		if err != nil {
			return err
		}
		tc.srv.Config.Handler = svc.Handler()
		tc.svc = svc
		return nil
	}
	if err := restart(nil); err != nil {
		t.Fatal(err)
	}
	if got := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(got.raw, data) {
		t.Fatal("old data not served")
	}
	if tc.countRows("image_locations", id) != 1 {
		t.Fatal("old image not recorded in a store")
	}
	extra := filepath.Join(t.TempDir(), "extra")
	if err := restart([]StoreConfig{{ID: "local"}, {ID: "extra", Dir: extra}}); err != nil {
		t.Fatal(err)
	}
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["stores"] != "local" || tc.svc.stores.get("local").Dir != filepath.Join(tc.dir, "images") {
		t.Fatalf("old image with stores configured: %s", r.raw)
	}
	if got := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(got.raw, data) {
		t.Fatal("old data not served with stores configured")
	}
	if err := restart([]StoreConfig{{ID: "extra", Dir: extra}}); err == nil || !strings.Contains(err.Error(), `"local"`) {
		t.Fatalf("start without the store holding images: %v", err)
	}
}

// image_size_total counts each store's copy, as Glance counts locations.
func TestSizeUsageCountsCopies(t *testing.T) {
	tc := newStoresCloud(t)
	ctx := context.Background()
	data := make([]byte, 3000)
	id := tc.uploaded(data, "")
	usage := func() int64 {
		n, err := tc.svc.store.quotaUsage(ctx, tc.projA, quotaImageSizeTotal)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := usage(); n != 3000 {
		t.Fatalf("usage with one copy: %d", n)
	}
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage(nil, map[string]any{"all_stores": true}))
	tc.waitImporting(id)
	if n := usage(); n != 6000 {
		t.Fatalf("usage with two copies: %d", n)
	}
	tc.must(204, "DELETE", "/v2/stores/cheap/"+id, tc.admin, nil)
	if n := usage(); n != 3000 {
		t.Fatalf("usage after delete from store: %d", n)
	}
}

// An image deleted while a copy is being written: the copy is not kept
// and the task says why.
func TestCopyImageOfImageDeletedMeanwhile(t *testing.T) {
	tc := newStoresCloud(t)
	id := tc.uploaded([]byte("short-lived"), "")
	tc.svc.testHook = func(p string) {
		if p == "import:written" {
			if err := tc.svc.store.DeleteImage(context.Background(), id, time.Now()); err != nil {
				t.Error(err)
			}
			tc.svc.removeData(id)
		}
	}
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"cheap"}, nil))
	// The image is gone from the API: read its task from the store.
	var task *Task
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		tasks, err := tc.svc.store.ListTasks(context.Background(), taskQuery{imageID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) == 1 && (tasks[0].Status == "success" || tasks[0].Status == "failure") {
			task = tasks[0]
			break
		}
	}
	if task == nil || task.Status != "failure" || task.Message != errImportImageDeleted.Error() {
		t.Fatalf("task: %+v", task)
	}
	for _, st := range []string{"cheap", "fast"} {
		if _, err := os.Stat(tc.storeFile(st, id)); !os.IsNotExist(err) {
			t.Fatalf("data of the deleted image left in %s: %v", st, err)
		}
	}
}

// A glance-direct import to all stores stopped after its first store
// (shutdown) is finished by the next start: the first store is kept,
// the second done from the staged data.
func TestGlanceDirectResumedAfterFirstStore(t *testing.T) {
	tc := newStoresCloud(t)
	data := bytes.Repeat([]byte("two stores "), 300)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, data)
	stopped := make(chan struct{})
	tc.svc.testHook = func(p string) {
		if p == "import:written" {
			select {
			case <-stopped:
			default:
				// As Close does, without waiting for this very import.
				tc.svc.imports.mu.Lock()
				tc.svc.imports.cancel()
				tc.svc.imports.mu.Unlock()
				close(stopped)
			}
		}
	}
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.alice, map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores": true})
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the import never wrote its first store")
	}
	tc.svc.Close()
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["status"] != "importing" || r.json["stores"] != "cheap" || r.json[propImporting] != "fast" {
		t.Fatalf("stopped import: %s", r.raw)
	}
	svc2, err := New(context.Background(), tc.svc.cfg, tc.svc.store.db, tc.id, tc.svc.log)
	if err != nil {
		t.Fatal(err)
	}
	tc.srv.Config.Handler = svc2.Handler()
	tc.svc = svc2
	tc.waitImporting(id)
	if task := tc.lastTask(id); task["status"] != "success" {
		t.Fatalf("task: %v", task)
	}
	im := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil).json
	if im["status"] != "active" || im["stores"] != "cheap,fast" || im[propFailedImport] != "" {
		t.Fatalf("resumed import: %v", im)
	}
	for _, st := range []string{"cheap", "fast"} {
		if b, _ := os.ReadFile(tc.storeFile(st, id)); !bytes.Equal(b, data) {
			t.Fatalf("data in %s differs", st)
		}
	}
	assertNothingStaged(t, tc)
}
