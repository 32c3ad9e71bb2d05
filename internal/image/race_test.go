package image

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// countRows counts the rows of a child table that belong to image id.
func (tc *testCloud) countRows(table, id string) int {
	tc.t.Helper()
	var n int
	if err := tc.svc.store.db.R.QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE image_id = ?`, id).Scan(&n); err != nil {
		tc.t.Fatal(err)
	}
	return n
}

// A PATCH and a tag made while an upload is saving survive the upload's
// final write: the upload owns the data columns only. The upload is held
// open by a pipe, so the order (upload loads the image, PATCH and tag
// commit, upload finishes) is fixed without sleeps.
func TestMetadataWrittenDuringUploadKept(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare", "tags": []string{"t0"}})
	data := bytes.Repeat([]byte("kumo"), 64<<10)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", pr)
	req.Header.Set("X-Auth-Token", tc.alice)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.ContentLength = int64(len(data))
	done := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	if _, err := pw.Write(data[:1024]); err != nil {
		t.Fatal(err)
	}
	tc.waitStatus(id, "saving")
	tc.patch(200, id, tc.alice,
		map[string]any{"op": "add", "path": "/name", "value": "renamed"},
		map[string]any{"op": "add", "path": "/color", "value": "blue"})
	tc.must(204, "PUT", "/v2/images/"+id+"/tags/t1", tc.alice, nil)
	if _, err := pw.Write(data[1024:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if st := <-done; st != 204 {
		t.Fatalf("upload: status %d, want 204", st)
	}
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["status"] != "active" || r.json["size"] != float64(len(data)) {
		t.Fatalf("after upload: status %v size %v", r.json["status"], r.json["size"])
	}
	if r.json["name"] != "renamed" || r.json["color"] != "blue" {
		t.Fatalf("PATCH made during the upload was lost: name %v color %v", r.json["name"], r.json["color"])
	}
	tags, _ := r.json["tags"].([]any)
	if !slices.Contains(tags, any("t0")) || !slices.Contains(tags, any("t1")) {
		t.Fatalf("tags %v, want t0 and t1", tags)
	}
}

// A tag or a member added to an image deleted after the request loaded
// it is a 404 and leaves no row behind.
func TestTagAndMemberRaceWithDelete(t *testing.T) {
	tc := newTestCloud(t)
	for _, point := range []string{"add_tag", "add_member"} {
		id := tc.create(tc.alice, map[string]any{"visibility": "shared"})
		tc.svc.testHook = func(p string) {
			if p == point {
				if err := tc.svc.store.DeleteImage(context.Background(), id, time.Now()); err != nil {
					t.Error(err)
				}
			}
		}
		var status int
		if point == "add_tag" {
			status = tc.req("PUT", "/v2/images/"+id+"/tags/late", tc.alice, nil).status
		} else {
			status = tc.req("POST", "/v2/images/"+id+"/members", tc.alice, map[string]any{"member": tc.projB}).status
		}
		tc.svc.testHook = nil
		if status != 404 {
			t.Errorf("%s on an image deleted meanwhile: status %d, want 404", point, status)
		}
		if n := tc.countRows("image_tags", id) + tc.countRows("image_members", id); n != 0 {
			t.Errorf("%s: %d rows left for the deleted image", point, n)
		}
	}
}

// The tag and member limits hold against writes made after the request
// loaded the image: the count is checked inside the write transaction.
func TestTagAndMemberLimitsInWriteTx(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"visibility": "shared"})
	w := tc.svc.store.db.W
	tc.svc.testHook = func(p string) {
		for i := 0; i < maxImageTags && p == "add_tag"; i++ {
			if _, err := w.Exec(`INSERT INTO image_tags (image_id, value) VALUES (?, ?)`, id, "x"+string(rune('a'+i%26))+string(rune('a'+i/26))); err != nil {
				t.Error(err)
			}
		}
		for i := 0; i < maxImageMembers && p == "add_member"; i++ {
			if _, err := w.Exec(`INSERT INTO image_members (image_id, member, status, created_at, updated_at) VALUES (?, ?, 'pending', 0, 0)`,
				id, "m"+string(rune('a'+i%26))+string(rune('a'+i/26))); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { tc.svc.testHook = nil }()
	if r := tc.req("PUT", "/v2/images/"+id+"/tags/one-too-many", tc.alice, nil); r.status != 413 {
		t.Errorf("tag over the limit: status %d, want 413: %s", r.status, r.raw)
	}
	if n := tc.countRows("image_tags", id); n != maxImageTags {
		t.Errorf("%d tags stored, limit %d", n, maxImageTags)
	}
	if r := tc.req("POST", "/v2/images/"+id+"/members", tc.alice, map[string]any{"member": tc.projB}); r.status != 413 {
		t.Errorf("member over the limit: status %d, want 413: %s", r.status, r.raw)
	}
	if n := tc.countRows("image_members", id); n != maxImageMembers {
		t.Errorf("%d members stored, limit %d", n, maxImageMembers)
	}
}

// The image_size_total check does not hold the service-wide in-flight lock
// while it queries the database: other uploads keep counting their bytes.
func TestSizeQuotaQueryOutsideLock(t *testing.T) {
	tc := newTestCloud(t)
	reached := false
	tc.svc.testHook = func(p string) {
		if p == "size_quota_query" {
			reached = true
			if !tc.svc.uploads.mu.TryLock() {
				t.Error("the in-flight lock is held during the usage query")
				return
			}
			tc.svc.uploads.mu.Unlock()
		}
	}
	defer func() { tc.svc.testHook = nil }()
	q := &sizeQuota{s: tc.svc, project: tc.projA, limit: 1}
	if err := q.check(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if err := q.check(context.Background(), 2*mib); err == nil {
		t.Fatal("2 MiB passed a 1 MiB limit")
	}
	if !reached {
		t.Fatal("the usage query hook was never reached")
	}
}

// Two PATCHes made from the same loaded image, each touching its own
// property, both survive: a metadata write rewrites only what it changed.
func TestConcurrentPatchesOfDifferentProperties(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"keep": "1", "drop": "2"})
	ctx := context.Background()
	loaded, err := tc.svc.store.GetImage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, b := loaded.clone(), loaded.clone()
	a.Properties["color"] = "blue"
	delete(b.Properties, "drop")
	b.Tags = append(b.Tags, "late")
	if err := tc.svc.store.SaveMetadata(ctx, loaded, a); err != nil {
		t.Fatal(err)
	}
	if err := tc.svc.store.SaveMetadata(ctx, loaded, b); err != nil {
		t.Fatal(err)
	}
	got, err := tc.svc.store.GetImage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties["color"] != "blue" || got.Properties["keep"] != "1" || got.Properties["drop"] != "" {
		t.Fatalf("properties %v: want color and keep, not drop", got.Properties)
	}
	if !slices.Contains(got.Tags, "late") {
		t.Fatalf("tags %v: want late", got.Tags)
	}
	// A write for an image deleted meanwhile writes nothing.
	if err := tc.svc.store.DeleteImage(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tc.svc.store.SaveMetadata(ctx, loaded, a); err != errNotFound {
		t.Fatalf("save after delete: %v, want errNotFound", err)
	}
	if n := tc.countRows("image_properties", id); n != 0 {
		t.Fatalf("%d properties written for a deleted image", n)
	}
}
