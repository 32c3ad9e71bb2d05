package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// newImportCloud is a test cloud whose background imports stop before the
// temporary directory goes.
func newImportCloud(t *testing.T) *testCloud {
	tc := newTestCloud(t)
	t.Cleanup(func() { tc.svc.Close() })
	return tc
}

func glanceDirect() map[string]any {
	return map[string]any{"method": map[string]any{"name": "glance-direct"}}
}

// waitFor polls an image (as alice) until it has status; fails on timeout.
func (tc *testCloud) waitFor(id, status string, d time.Duration) map[string]any {
	tc.t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
		if r.json["status"] == status {
			return r.json
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("image %s: status %v, want %s: %s", id, r.json["status"], status, r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func assertNothingStaged(t *testing.T, tc *testCloud) {
	t.Helper()
	entries, _ := os.ReadDir(tc.svc.stagingDir())
	if len(entries) != 0 {
		t.Fatalf("staging not empty: %v", entries)
	}
}

func TestImportInfo(t *testing.T) {
	tc := newImportCloud(t)
	r := tc.must(200, "GET", "/v2/info/import", tc.alice, nil)
	m, _ := r.json["import-methods"].(map[string]any)
	if m["type"] != "array" || !reflect.DeepEqual(m["value"], []any{"glance-direct"}) {
		t.Fatalf("info/import: %s", r.raw)
	}
	tc.must(404, "GET", "/v2/info/stores", tc.alice, nil)
}

func TestGlanceDirectImport(t *testing.T) {
	tc := newImportCloud(t)
	data := bytes.Repeat([]byte("kumo import "), 100000)
	id := tc.create(tc.alice, map[string]any{"name": "imp", "disk_format": "raw", "container_format": "bare"})
	// Importing before staging: 409.
	tc.must(409, "POST", "/v2/images/"+id+"/import", tc.alice, glanceDirect())
	// Another project cannot stage into alice's image (it cannot see it).
	tc.must(404, "PUT", "/v2/images/"+id+"/stage", tc.bob, data)
	// Wrong content type: 415.
	tc.must(415, "PUT", "/v2/images/"+id+"/stage", tc.alice, "{}")
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, data)
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["status"] != "uploading" || r.json["size"] != float64(len(data)) {
		t.Fatalf("after stage: %s", r.raw)
	}
	// Staging again (not queued): 409; upload too.
	tc.must(409, "PUT", "/v2/images/"+id+"/stage", tc.alice, data)
	tc.must(409, "PUT", "/v2/images/"+id+"/file", tc.alice, data)
	// Unknown, disabled and malformed methods: 400.
	for _, body := range []any{
		map[string]any{"method": map[string]any{"name": "nope"}},
		map[string]any{"method": map[string]any{"name": "web-download", "uri": "http://example.com/x"}},
		map[string]any{"method": map[string]any{"name": "copy-image"}},
		map[string]any{"method": map[string]any{}},
		map[string]any{},
		map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores": "yes"},
	} {
		tc.must(400, "POST", "/v2/images/"+id+"/import", tc.alice, body)
	}
	// Bob may not import alice's image (404: not visible).
	tc.must(404, "POST", "/v2/images/"+id+"/import", tc.bob, glanceDirect())
	res := tc.must(202, "POST", "/v2/images/"+id+"/import", tc.alice, glanceDirect())
	im := tc.waitFor(id, "active", 10*time.Second)
	md := md5.Sum(data)
	sh := sha512.Sum512(data)
	if im["checksum"] != hex.EncodeToString(md[:]) || im["os_hash_value"] != hex.EncodeToString(sh[:]) ||
		im["os_hash_algo"] != "sha512" || im["size"] != float64(len(data)) {
		t.Fatalf("imported image: %v", im)
	}
	if _, locked := im[propImportTask]; locked || im[propFailedImport] != "" || im[propImporting] != "" {
		t.Fatalf("import properties: %v", im)
	}
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("imported data differs")
	}
	assertNothingStaged(t, tc)
	// Active: another import is 409.
	tc.must(409, "POST", "/v2/images/"+id+"/import", tc.alice, glanceDirect())

	// The image's tasks (API 2.12).
	tr := tc.must(200, "GET", "/v2/images/"+id+"/tasks", tc.alice, nil)
	tasks, _ := tr.json["tasks"].([]any)
	if len(tasks) != 1 {
		t.Fatalf("image tasks: %s", tr.raw)
	}
	task := tasks[0].(map[string]any)
	in, _ := task["input"].(map[string]any)
	req, _ := in["import_req"].(map[string]any)
	if task["status"] != "success" || task["type"] != "api_image_import" || task["image_id"] != id ||
		task["owner"] != tc.projA || str(req, "method", "name") != "glance-direct" ||
		task["request_id"] != res.header.Get("X-Openstack-Request-Id") || task["expires_at"] == nil ||
		str(task, "result", "image_id") != id {
		t.Fatalf("task: %s", tr.raw)
	}
	// Bob does not see the image, so not its tasks either.
	tc.must(404, "GET", "/v2/images/"+id+"/tasks", tc.bob, nil)
	// The tasks API is admin-only (tasks_api_access).
	tc.must(403, "GET", "/v2/tasks", tc.alice, nil)
	tc.must(403, "GET", "/v2/tasks/"+str(task, "id"), tc.alice, nil)
	lr := tc.must(200, "GET", "/v2/tasks", tc.admin, nil)
	if l, _ := lr.json["tasks"].([]any); len(l) != 1 || str(l[0].(map[string]any), "id") != str(task, "id") {
		t.Fatalf("tasks: %s", lr.raw)
	}
	gr := tc.must(200, "GET", "/v2/tasks/"+str(task, "id"), tc.admin, nil)
	if gr.json["status"] != "success" || gr.json["self"] != "/v2/tasks/"+str(task, "id") || gr.json["image_id"] != id {
		t.Fatalf("task: %s", gr.raw)
	}
	tc.must(404, "GET", "/v2/tasks/nope", tc.admin, nil)
}

func TestStageNotQueued(t *testing.T) {
	tc := newImportCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, []byte("data"))
	tc.must(409, "PUT", "/v2/images/"+id+"/stage", tc.alice, []byte("more"))
	// An image without formats can be staged but not imported.
	nf := tc.create(tc.alice, map[string]any{})
	tc.must(204, "PUT", "/v2/images/"+nf+"/stage", tc.alice, []byte("x"))
	tc.must(409, "POST", "/v2/images/"+nf+"/import", tc.alice, glanceDirect())
	assertNoTempFiles(t, tc)
}

func TestImportRefusesMaliciousQcow2(t *testing.T) {
	requireQemuImg(t)
	tc := newImportCloud(t)
	evil := filepath.Join(t.TempDir(), "evil.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", "-F", "raw", "-b", "/etc/passwd", evil, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(evil)
	id := tc.create(tc.alice, map[string]any{"disk_format": "qcow2", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, b)
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.alice, glanceDirect())
	im := tc.waitFor(id, "queued", 10*time.Second)
	if im["size"] != nil || im["checksum"] != nil {
		t.Fatalf("refused import keeps data attributes: %v", im)
	}
	if _, locked := im[propImportTask]; locked {
		t.Fatalf("lock kept: %v", im)
	}
	// The task fails (wait: the image is restored before the task).
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr := tc.must(200, "GET", "/v2/images/"+id+"/tasks", tc.alice, nil)
		tasks, _ := tr.json["tasks"].([]any)
		if len(tasks) == 1 && tasks[0].(map[string]any)["status"] == "failure" {
			if tasks[0].(map[string]any)["message"] == "" {
				t.Fatalf("failed task without a message: %s", tr.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task: %s", tr.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	assertNothingStaged(t, tc)
	assertNoTempFiles(t, tc)
	if _, err := os.Stat(tc.svc.dataPath(id)); err == nil {
		t.Fatal("refused data kept")
	}
	// It can be staged again.
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, []byte("fine"))
}

func TestImportResumedAfterRestart(t *testing.T) {
	tc := newImportCloud(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte{7}, 3<<20)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, data)
	// A crash right after POST .../import answered: the image importing,
	// its lock and a pending task, and nothing running.
	im, err := tc.svc.store.GetImage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	now := tc.svc.now()
	task := &Task{ID: newUUID(), Type: taskTypeImport, Status: "processing", Owner: tc.projA, ImageID: id,
		Input: map[string]any{"image_id": id, "import_req": glanceDirect()}, CreatedAt: now, UpdatedAt: now}
	if err := tc.svc.store.CreateTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	im.Properties[propImportTask], im.Status = task.ID, statusImporting
	if err := tc.svc.store.SaveData(ctx, im, statusUploading, propImportTask); err != nil {
		t.Fatal(err)
	}
	// Also a staging cut by the crash (uploading, no staged file) and an
	// orphan staged file.
	cut := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	ci, _ := tc.svc.store.GetImage(ctx, cut)
	ci.Status = statusUploading
	if err := tc.svc.store.SaveData(ctx, ci, statusQueued); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(tc.svc.stagingPath(cut)+".tmp", []byte("partial"), 0o600)
	_ = os.WriteFile(tc.svc.stagingPath("orphan"), []byte("x"), 0o600)

	tc.svc.Close()
	svc2, err := New(ctx, tc.svc.cfg, tc.svc.store.db, tc.id, tc.svc.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc2.Close)
	tc.srv.Config.Handler = svc2.Handler()
	tc.svc = svc2
	got := tc.waitFor(id, "active", 10*time.Second)
	sh := sha512.Sum512(data)
	if got["os_hash_value"] != hex.EncodeToString(sh[:]) {
		t.Fatalf("resumed import: %v", got)
	}
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("resumed import data differs")
	}
	tc.waitFor(cut, "queued", time.Second)
	assertNothingStaged(t, tc)
	if tk, err := svc2.store.GetTask(ctx, task.ID, ""); err != nil || tk.Status != "success" {
		t.Fatalf("resumed task: %+v %v", tk, err)
	}
}

func TestStopDuringImportLeavesItResumable(t *testing.T) {
	tc := newImportCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, []byte("abc"))
	// Stop first: an import started after Close does not run, and the
	// image stays importing with its task for the next start-up.
	tc.svc.Close()
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.alice, glanceDirect())
	if r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil); r.json["status"] != "importing" {
		t.Fatalf("after stop: %s", r.raw)
	}
	svc2, err := New(context.Background(), tc.svc.cfg, tc.svc.store.db, tc.id, tc.svc.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc2.Close)
	tc.srv.Config.Handler = svc2.Handler()
	tc.svc = svc2
	tc.waitFor(id, "active", 10*time.Second)
}

// Deleting a staged image that was never imported removes its staged data.
func TestDeleteStagedImage(t *testing.T) {
	tc := newImportCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, []byte("staged bytes"))
	if _, err := os.Stat(tc.svc.stagingPath(id)); err != nil {
		t.Fatalf("staged file missing: %v", err)
	}
	tc.must(204, "DELETE", "/v2/images/"+id, tc.alice, nil)
	assertNothingStaged(t, tc)
}
