package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"sort"
	"testing"
	"time"

	"kumo/internal/image"
)

// The image proxy API against the real image service, found through the
// caller's catalog: list/detail with filters and paging, show (status,
// progress, metadata, server), metadata CRUD through Glance, delete, the
// 404s, 2.36 removal; bodies checked with Tempest's schemas.
func TestImageProxyAPI(t *testing.T) {
	py := tempestPython(t)
	tc := newTestCloud(t)
	alice, glance := tc.withImageService()
	srvID := newUUID()
	a := glance("POST", "/v2/images", "application/json", map[string]any{"name": "snap", "disk_format": "raw", "container_format": "bare",
		"min_ram": 64, "instance_uuid": srvID, "image_type": "snapshot", "k1": "v1"})["id"].(string)
	glance("PUT", "/v2/images/"+a+"/file", "application/octet-stream", []byte("data"))
	b := glance("POST", "/v2/images", "application/json", map[string]any{"name": "other", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	imageProxyChecks(t, py, tc, alice, a, b, srvID)
}

// withImageService starts the real image service on the test cloud's
// database and puts it in the catalog; it returns a fresh token of alice
// (with that catalog) and a Glance caller as alice.
func (tc *testCloud) withImageService() (string, func(method, path, ctype string, body any) map[string]any) {
	t := tc.t
	ctx := context.Background()
	isvc, err := image.New(ctx, image.Config{DataDir: tc.dir, IdentityURL: tc.idsrv.URL + "/v3"}, tc.db, tc.id, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	isrv := httptest.NewServer(isvc.Handler())
	t.Cleanup(isrv.Close)
	sid := tc.idMust(201, "POST", "/v3/services", map[string]any{"service": map[string]any{"type": "image", "name": "glance"}}, "service", "id")
	tc.idMust(201, "POST", "/v3/endpoints", map[string]any{"endpoint": map[string]any{"service_id": sid, "interface": "public", "url": isrv.URL, "region_id": "RegionOne"}}, "endpoint", "id")
	// alice's token must carry the new catalog: take a fresh one.
	alice, _ := tc.token("alice", "pw", "A")
	glance := func(method, path, ctype string, body any) map[string]any {
		t.Helper()
		var rd *bytes.Reader
		if b, ok := body.([]byte); ok {
			rd = bytes.NewReader(b)
		} else {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, isrv.URL+path, rd)
		req.Header.Set("X-Auth-Token", alice)
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("glance %s %s: %v %v", method, path, err, resp.Status)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	return alice, glance
}

func imageProxyChecks(t *testing.T, py string, tc *testCloud, alice, a, b, srvID string) {

	var cases []tempestCase
	call := func(want int, name, method, path string, body any, hdr ...string) resp {
		t.Helper()
		r := tc.must(want, method, path, alice, body, hdr...)
		var bd any = ""
		if len(bytes.TrimSpace(r.raw)) > 0 {
			_ = json.Unmarshal(r.raw, &bd)
		}
		cases = append(cases, tempestCase{method + " " + path, "v2_1.images", name, r.status, bd})
		return r
	}
	r := call(200, "list_images", "GET", "/v2.1/images", nil)
	if l := r.json["images"].([]any); len(l) != 2 {
		t.Fatalf("list %s", r.raw)
	}
	r = call(200, "list_images_details", "GET", "/v2.1/images/detail?server="+srvID, nil)
	l := r.json["images"].([]any)
	if len(l) != 1 {
		t.Fatalf("server filter %s", r.raw)
	}
	d := l[0].(map[string]any)
	if d["id"] != a || d["status"] != "ACTIVE" || d["progress"] != 100.0 || d["minRam"] != 64.0 || d["OS-EXT-IMG-SIZE:size"] != 4.0 ||
		d["metadata"].(map[string]any)["k1"] != "v1" || d["server"].(map[string]any)["id"] != srvID {
		t.Fatalf("detail %s", r.raw)
	}
	for q, want := range map[string]int{"?status=SAVING": 0 /* Nova passes "saving" on: a queued image is not */, "?status=ACTIVE": 1, "?name=other": 1, "?minRam=65": 0, "?type=snapshot": 1, "?limit=1": 1} {
		if l := tc.must(200, "GET", "/v2.1/images/detail"+q, alice, nil).json["images"].([]any); len(l) != want {
			t.Fatalf("%s: %d images", q, len(l))
		}
	}
	r = tc.must(200, "GET", "/v2.1/images?limit=1", alice, nil)
	if r.json["images_links"] == nil {
		t.Fatalf("no next link %s", r.raw)
	}
	first := r.json["images"].([]any)[0].(map[string]any)["id"].(string)
	if l := tc.must(200, "GET", "/v2.1/images?marker="+first, alice, nil).json["images"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] == first {
		t.Fatalf("after marker %v", l)
	}
	r = call(200, "get_image", "GET", "/v2.1/images/"+b, nil)
	if im := r.json["image"].(map[string]any); im["status"] != "SAVING" || im["progress"] != 25.0 {
		t.Fatalf("queued image %s", r.raw)
	}
	// Metadata through Glance.
	call(200, "image_metadata", "POST", "/v2.1/images/"+a+"/metadata", map[string]any{"metadata": map[string]any{"k2": "v2", "k1": "new"}})
	r = call(200, "image_metadata", "GET", "/v2.1/images/"+a+"/metadata", nil)
	if m := r.json["metadata"].(map[string]any); m["k1"] != "new" || m["k2"] != "v2" {
		t.Fatalf("metadata %s", r.raw)
	}
	r = call(200, "image_meta_item", "PUT", "/v2.1/images/"+a+"/metadata/k3", map[string]any{"meta": map[string]any{"k3": "v3"}})
	call(200, "image_meta_item", "GET", "/v2.1/images/"+a+"/metadata/k3", nil)
	call(204, "delete", "DELETE", "/v2.1/images/"+a+"/metadata/k2", nil)
	tc.fault(tc.req("GET", "/v2.1/images/"+a+"/metadata/k2", alice, nil), 404, "itemNotFound", "Image "+a+" has no metadata with key k2.")
	if r := tc.req("PUT", "/v2.1/images/"+a+"/metadata/k3", alice, map[string]any{"meta": map[string]any{"other": "v"}}); r.status != 400 {
		t.Fatalf("mismatch: %d", r.status)
	}
	r = call(200, "image_metadata", "PUT", "/v2.1/images/"+b+"/metadata", map[string]any{"metadata": map[string]any{"only": "x"}})
	if m := r.json["metadata"].(map[string]any); len(m) != 1 || m["only"] != "x" {
		t.Fatalf("replaced metadata %s", r.raw)
	}
	// Another project sees neither the image nor its metadata.
	bob, _ := tc.token("bob", "pw", "B")
	tc.fault(tc.req("GET", "/v2.1/images/"+a, bob, nil), 404, "itemNotFound", "Image not found.")
	tc.fault(tc.req("POST", "/v2.1/images/"+a+"/metadata", bob, map[string]any{"metadata": map[string]any{"x": "y"}}), 404, "itemNotFound", "Image not found.")
	call(204, "delete", "DELETE", "/v2.1/images/"+b, nil)
	tc.fault(tc.req("GET", "/v2.1/images/"+b, alice, nil), 404, "itemNotFound", "Image not found.")
	tc.fault(tc.req("DELETE", "/v2.1/images/"+b, alice, nil), 404, "itemNotFound", "Image not found.")
	if r := tc.req("GET", "/v2.1/images", alice, nil, "mv", "2.36"); r.status != 404 {
		t.Fatalf("2.36: %d", r.status)
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "-W", "ignore", "-c", tempestCheck)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tempest check: %v %s", err, out)
	}
	var fails []string
	if err := json.Unmarshal(out, &fails); err != nil || len(fails) > 0 {
		t.Fatalf("tempest schemas: %v %s", fails, out)
	}
}

// Backup rotation keeps the newest rotation backups of the server and
// type and deletes the older ones, touching nothing else.
func TestRotateBackups(t *testing.T) {
	tc := newTestCloud(t)
	alice, glance := tc.withImageService()
	inst := newUUID()
	mk := func(name, instance, btype, itype string) string {
		return glance("POST", "/v2/images", "application/json", map[string]any{"name": name, "disk_format": "raw", "container_format": "bare",
			"instance_uuid": instance, "image_type": itype, "backup_type": btype})["id"].(string)
	}
	var daily []string
	for i := range 3 {
		daily = append(daily, mk(fmt.Sprintf("b%d", i), inst, "daily", "backup"))
		time.Sleep(1100 * time.Millisecond) // created_at has second precision
	}
	weekly := mk("w", inst, "weekly", "backup")
	other := mk("o", newUUID(), "daily", "backup")
	snap := mk("s", inst, "daily", "snapshot")
	if err := tc.svc.rotateBackups(context.Background(), alice, inst, "daily", 2); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, img := range glance("GET", "/v2/images", "", nil)["images"].([]any) {
		left = append(left, img.(map[string]any)["id"].(string))
	}
	sort.Strings(left)
	want := []string{daily[1], daily[2], weekly, other, snap}
	sort.Strings(want)
	if !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v (oldest daily %s gone)", left, want, daily[0])
	}
}
