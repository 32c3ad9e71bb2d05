package image

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// newQuotaCloud is the test cloud with the identity service as the limit
// source, and the catalog service of type "image" that limits name.
func newQuotaCloud(t *testing.T) (*testCloud, *quotaAdmin) {
	t.Helper()
	tc := newTestCloud(t)
	// No request has been served yet, so setting the field is safe.
	tc.svc.cfg.Limits, tc.svc.cfg.LimitRegion = tc.id, "RegionOne"
	qa := &quotaAdmin{tc: tc}
	qa.sys = qa.systemToken()
	qa.service = str(qa.call(201, "POST", "/v3/services", map[string]any{"service": map[string]any{"type": "image", "name": "glance"}}), "service", "id")
	return tc, qa
}

// quotaAdmin writes unified limits through the identity API, as a system
// admin (Keystone's rule for registered limits and limits).
type quotaAdmin struct {
	tc      *testCloud
	sys     string
	service string
}

func (qa *quotaAdmin) systemToken() string {
	tc := qa.tc
	tc.t.Helper()
	auth := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": "admin", "domain": map[string]any{"id": "default"}, "password": "pw"}}},
		"scope": map[string]any{"system": map[string]any{"all": true}}}}
	raw, _ := json.Marshal(auth)
	res, err := http.Post(tc.idsrv.URL+"/v3/auth/tokens", "application/json", bytes.NewReader(raw))
	if err != nil {
		tc.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		tc.t.Fatalf("system token: %d", res.StatusCode)
	}
	return res.Header.Get("X-Subject-Token")
}

func (qa *quotaAdmin) call(want int, method, path string, body any) map[string]any {
	tc := qa.tc
	tc.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, tc.idsrv.URL+path, bytes.NewReader(raw))
	req.Header.Set("X-Auth-Token", qa.sys)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != want {
		tc.t.Fatalf("identity %s %s: %d %v", method, path, res.StatusCode, out)
	}
	return out
}

// register sets the default limit of an image resource.
func (qa *quotaAdmin) register(resource string, limit int) {
	qa.tc.t.Helper()
	qa.call(201, "POST", "/v3/registered_limits", map[string]any{"registered_limits": []any{
		map[string]any{"service_id": qa.service, "resource_name": resource, "default_limit": limit}}})
}

// project sets one project's own limit of an image resource.
func (qa *quotaAdmin) project(project, resource string, limit int) {
	qa.tc.t.Helper()
	qa.call(201, "POST", "/v3/limits", map[string]any{"limits": []any{
		map[string]any{"service_id": qa.service, "project_id": project, "resource_name": resource, "resource_limit": limit}}})
}

// chunked uploads data without a Content-Length, so limits are found
// while streaming.
func (tc *testCloud) chunked(id, token string, data []byte) int {
	tc.t.Helper()
	req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", io.MultiReader(bytes.NewReader(data)))
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// assertQueuedEmpty checks that an image refused over quota kept nothing.
func assertQueuedEmpty(t *testing.T, tc *testCloud, id string) {
	t.Helper()
	im := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil).json
	if im["status"] != "queued" || im["size"] != nil || im["checksum"] != nil {
		t.Fatalf("image after 413: %v", im)
	}
	assertNoTempFiles(t, tc)
	if _, err := os.Stat(tc.svc.dataPath(id)); !os.IsNotExist(err) {
		t.Fatalf("data file left after 413: %v", err)
	}
}

func rawImage(tc *testCloud, token string) string {
	tc.t.Helper()
	return tc.create(token, map[string]any{"disk_format": "raw", "container_format": "bare"})
}

func TestQuotaImageCountTotal(t *testing.T) {
	tc, qa := newQuotaCloud(t)
	qa.register("image_count_total", 2)
	a1, _ := rawImage(tc, tc.alice), rawImage(tc, tc.alice)
	r := tc.must(413, "POST", "/v2/images", tc.alice, map[string]any{"name": "third"})
	if !strings.Contains(string(r.raw), "image_count_total is over limit of 2 due to current usage 2 and delta 1") {
		t.Fatalf("413 body: %s", r.raw)
	}
	if n := len(ids(tc.must(200, "GET", "/v2/images", tc.alice, nil))); n != 2 {
		t.Fatalf("images after refused create: %d", n)
	}
	// Per project: B has its own count.
	rawImage(tc, tc.bob)
	// A project limit overrides the default.
	qa.project(tc.projA, "image_count_total", 3)
	rawImage(tc, tc.alice)
	tc.must(413, "POST", "/v2/images", tc.alice, map[string]any{})
	// A deleted image no longer counts.
	tc.must(204, "DELETE", "/v2/images/"+a1, tc.alice, nil)
	rawImage(tc, tc.alice)
}

func TestQuotaImageSizeTotal(t *testing.T) {
	tc, qa := newQuotaCloud(t)
	qa.register("image_size_total", 1) // MiB
	id := rawImage(tc, tc.alice)

	// Announced too large: refused before any data is read.
	r := tc.must(413, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 2<<20))
	if !strings.Contains(string(r.raw), "image_size_total is over limit of 1") {
		t.Fatalf("413 body: %s", r.raw)
	}
	assertQueuedEmpty(t, tc, id)
	// Chunked: found at the end of the data, before it is kept.
	if st := tc.chunked(id, tc.alice, make([]byte, 1<<20+1)); st != 413 {
		t.Fatalf("chunked over quota: %d", st)
	}
	assertQueuedEmpty(t, tc, id)
	// Exactly the limit fits; after that nothing more does.
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 1<<20-4096))
	second := rawImage(tc, tc.alice)
	tc.must(204, "PUT", "/v2/images/"+second+"/file", tc.alice, make([]byte, 4096))
	third := rawImage(tc, tc.alice)
	tc.must(413, "PUT", "/v2/images/"+third+"/file", tc.alice, make([]byte, 512))
	assertQueuedEmpty(t, tc, third)
	if st := tc.chunked(third, tc.alice, make([]byte, 1)); st != 413 {
		t.Fatalf("chunked over quota: %d", st)
	}
	assertQueuedEmpty(t, tc, third)
	// Another project is not affected; deleting frees space.
	tc.must(204, "PUT", "/v2/images/"+rawImage(tc, tc.bob)+"/file", tc.bob, make([]byte, 1<<20))
	tc.must(204, "DELETE", "/v2/images/"+second, tc.alice, nil)
	tc.must(204, "PUT", "/v2/images/"+third+"/file", tc.alice, make([]byte, 4096))
}

// An upload still streaming counts against the limit of another upload of
// the same project.
func TestQuotaImageSizeInFlight(t *testing.T) {
	tc, qa := newQuotaCloud(t)
	qa.register("image_size_total", 1)
	slow, other := rawImage(tc, tc.alice), rawImage(tc, tc.alice)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() }) // a failed test must not leave the upload hanging
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+slow+"/file", pr)
		req.Header.Set("X-Auth-Token", tc.alice)
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	if _, err := pw.Write(make([]byte, 800<<10)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tc.svc.uploads.mu.Lock()
		n := tc.svc.uploads.bytes[tc.projA]
		tc.svc.uploads.mu.Unlock()
		if n >= 800<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in-flight bytes: %d", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	tc.must(413, "PUT", "/v2/images/"+other+"/file", tc.alice, make([]byte, 400<<10))
	if im := tc.must(200, "GET", "/v2/images/"+other, tc.alice, nil).json; im["status"] != "queued" {
		t.Fatalf("refused image: %v", im)
	}
	pw.Close()
	if st := <-done; st != 204 {
		t.Fatalf("streaming upload: %d", st)
	}
	assertQueuedEmpty(t, tc, other)
	tc.svc.uploads.mu.Lock()
	left := len(tc.svc.uploads.bytes)
	tc.svc.uploads.mu.Unlock()
	if left != 0 {
		t.Fatalf("in-flight bytes left after uploads: %v", tc.svc.uploads.bytes)
	}
}

func TestQuotaImageCountUploading(t *testing.T) {
	tc, qa := newQuotaCloud(t)
	qa.register("image_count_uploading", 0)
	id := rawImage(tc, tc.alice)
	r := tc.must(413, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 4096))
	if !strings.Contains(string(r.raw), "image_count_uploading is over limit of 0 due to current usage 1 and delta 0") {
		t.Fatalf("413 body: %s", r.raw)
	}
	assertQueuedEmpty(t, tc, id)
	// One upload at a time is allowed with a limit of 1.
	qa.project(tc.projA, "image_count_uploading", 1)
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 4096))
}

func TestQuotaUsage(t *testing.T) {
	tc, qa := newQuotaCloud(t)
	qa.register("image_size_total", 10)
	qa.register("image_count_total", 5)
	qa.project(tc.projA, "image_count_total", 7)
	id := rawImage(tc, tc.alice)
	rawImage(tc, tc.alice)
	rawImage(tc, tc.bob)
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 3<<19)) // 1.5 MiB
	want := map[string]any{
		"image_count_total":     map[string]any{"limit": 7.0, "usage": 2.0},
		"image_size_total":      map[string]any{"limit": 10.0, "usage": 1.0},
		"image_stage_total":     map[string]any{"limit": -1.0, "usage": 0.0},
		"image_count_uploading": map[string]any{"limit": -1.0, "usage": 0.0},
	}
	got := tc.must(200, "GET", "/v2/info/usage", tc.alice, nil).json
	if g, _ := json.Marshal(got["usage"]); string(g) != quotaJSON(want) {
		t.Fatalf("usage: %s, want %s", g, quotaJSON(want))
	}
	got = tc.must(200, "GET", "/v2/info/usage", tc.bob, nil).json
	if u := got["usage"].(map[string]any)["image_count_total"].(map[string]any); u["limit"] != 5.0 || u["usage"] != 1.0 {
		t.Fatalf("bob's usage: %v", got)
	}
	tc.must(401, "GET", "/v2/info/usage", "", nil)
}

func quotaJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Without registered limits (or with limits of another service) nothing
// is limited; without a limit source there are no quotas at all.
func TestQuotaUnlimited(t *testing.T) {
	tc, qa := newQuotaCloud(t)
	compute := str(qa.call(201, "POST", "/v3/services", map[string]any{"service": map[string]any{"type": "compute"}}), "service", "id")
	qa.call(201, "POST", "/v3/registered_limits", map[string]any{"registered_limits": []any{
		map[string]any{"service_id": compute, "resource_name": "image_count_total", "default_limit": 0},
		map[string]any{"service_id": compute, "resource_name": "image_size_total", "default_limit": 0}}})
	// -1 is Keystone's "unlimited".
	qa.register("image_count_uploading", -1)
	for i := 0; i < 3; i++ {
		tc.must(204, "PUT", "/v2/images/"+rawImage(tc, tc.alice)+"/file", tc.alice, make([]byte, 2<<20))
	}
	u := tc.must(200, "GET", "/v2/info/usage", tc.alice, nil).json["usage"].(map[string]any)
	if c := u["image_count_total"].(map[string]any); c["limit"] != -1.0 || c["usage"] != 3.0 {
		t.Fatalf("usage: %v", u)
	}
	if s := u["image_size_total"].(map[string]any); s["limit"] != -1.0 || s["usage"] != 6.0 {
		t.Fatalf("usage: %v", u)
	}

	plain := newTestCloud(t)
	for i := 0; i < 3; i++ {
		plain.must(204, "PUT", "/v2/images/"+rawImage(plain, plain.alice)+"/file", plain.alice, make([]byte, 1<<20))
	}
	if r := plain.must(200, "GET", "/v2/info/usage", plain.alice, nil); string(bytes.TrimSpace(r.raw)) != `{"usage":{}}` {
		t.Fatalf("usage without limits: %s", r.raw)
	}
}
