package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kumo/internal/objectstore/node"
	"kumo/internal/objectstore/proxy"
	"kumo/internal/objectstore/ring"
)

// newSwiftCloud is the image service with a file store "fast" (the
// default) and a swift store "obj", whose data goes to a real object
// store: one storage node and the Swift proxy in process, on loopback,
// trusting the test cloud's identity service. The client acts on the
// admin project's account with the admin token.
func newSwiftCloud(t *testing.T) (*testCloud, *SwiftClient, *httptest.Server) {
	t.Helper()
	root := t.TempDir()
	sc := &SwiftClient{}
	tc := newTestCloud(t, func(c *Config) {
		c.Stores = []StoreConfig{{ID: "fast", Dir: filepath.Join(root, "fast"), Default: true},
			{ID: "obj", Type: "swift", Dir: filepath.Join(root, "obj"), Description: "object store"}}
		c.ObjectStore = sc
	})
	t.Cleanup(func() { tc.svc.Close() })

	var ls [3]net.Listener
	var ports [3]int
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i], ports[i] = l, l.Addr().(*net.TCPAddr).Port
	}
	hp := ring.HashPath{Prefix: "kumo-image-test", Suffix: "kumo-image-suffix"}
	devs := []string{"d1"}
	acct, cont, obj, err := node.EnsureRings(filepath.Join(root, "rings"), node.Layout{IP: "127.0.0.1",
		ObjectPort: ports[0], ContainerPort: ports[1], AccountPort: ports[2], Devices: devs, Replicas: 1, PartPower: 4}, hp)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Start(node.Config{Root: filepath.Join(root, "devices"), Devices: devs, HashPath: hp,
		Object: ls[0], Container: ls[1], Account: ls[2], AccountRing: acct, ContainerRing: cont, ObjectRing: obj, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	px, err := proxy.New(proxy.Config{AccountRing: acct, ContainerRing: cont, ObjectRing: obj,
		Validator: tc.id, IdentityURL: tc.idsrv.URL + "/v3", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	srv := httptest.NewServer(px)
	t.Cleanup(srv.Close)
	acctURL, admin := srv.URL+"/v1/AUTH_"+tc.adminPrj, tc.admin
	sc.Auth = func(context.Context) (string, string, error) { return acctURL, admin, nil }
	return tc, sc, srv
}

// swiftObject reads an object back through the proxy (nil when missing).
func swiftObject(t *testing.T, sc *SwiftClient, id string) []byte {
	t.Helper()
	body, _, err := sc.Get(context.Background(), "glance", id, "")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomData(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// noTmp fails when a store's spool dir keeps a file.
func noTmp(t *testing.T, tc *testCloud, store string) {
	t.Helper()
	ents, err := os.ReadDir(tc.svc.stores.get(store).Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Fatalf("store %s keeps %s", store, e.Name())
	}
}

func TestSwiftStoreData(t *testing.T) {
	tc, sc, _ := newSwiftCloud(t)
	data := randomData(5<<20 + 123)
	id := tc.uploaded(data, "obj")
	if got := swiftObject(t, sc, id); !bytes.Equal(got, data) {
		t.Fatalf("swift object: %d bytes, want the %d uploaded", len(got), len(data))
	}
	noTmp(t, tc, "obj")
	im := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil).json
	if im["stores"] != "obj" || im["status"] != "active" {
		t.Fatalf("image: %v", im)
	}
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("download differs from the upload")
	}
	r := tc.must(206, "GET", "/v2/images/"+id+"/file", tc.alice, nil, "Range", "bytes=1000-4999999")
	if !bytes.Equal(r.raw, data[1000:5000000]) || r.header.Get("Content-Range") != "bytes 1000-4999999/5243003" {
		t.Fatalf("range: %d bytes, %q", len(r.raw), r.header.Get("Content-Range"))
	}
	r = tc.must(206, "GET", "/v2/images/"+id+"/file", tc.alice, nil, "Range", "bytes=-10")
	if !bytes.Equal(r.raw, data[len(data)-10:]) {
		t.Fatal("suffix range differs")
	}

	// swift → file, then the swift copy goes; downloads come from fast.
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"fast"}, nil))
	if im := tc.waitImporting(id); im["stores"] != "fast,obj" || im[propFailedImport] != "" {
		t.Fatalf("after copy to fast: %v", im)
	}
	if got, _ := os.ReadFile(tc.storeFile("fast", id)); !bytes.Equal(got, data) {
		t.Fatal("file copy differs")
	}
	tc.must(204, "DELETE", "/v2/stores/obj/"+id, tc.admin, nil)
	if got := swiftObject(t, sc, id); got != nil {
		t.Fatal("object still in swift after delete from store")
	}
	// file → swift.
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.admin, copyImage([]string{"obj"}, nil))
	if im := tc.waitImporting(id); im["stores"] != "fast,obj" || im[propFailedImport] != "" {
		t.Fatalf("after copy to obj: %v", im)
	}
	if got := swiftObject(t, sc, id); !bytes.Equal(got, data) {
		t.Fatal("swift copy differs")
	}
	noTmp(t, tc, "obj")
	tc.must(204, "DELETE", "/v2/images/"+id, tc.alice, nil)
	if got := swiftObject(t, sc, id); got != nil {
		t.Fatal("object still in swift after image delete")
	}
	if _, err := os.Stat(tc.storeFile("fast", id)); !os.IsNotExist(err) {
		t.Fatalf("file left: %v", err)
	}
}

func TestSwiftStoreDetail(t *testing.T) {
	tc, _, _ := newSwiftCloud(t)
	r := tc.must(200, "GET", "/v2/info/stores/detail", tc.admin, nil)
	list := r.json["stores"].([]any)
	if len(list) != 2 {
		t.Fatalf("stores: %s", r.raw)
	}
	obj := list[1].(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	if obj["id"] != "obj" || obj["type"] != "swift" || props["container"] != "glance" || props["large_object_size"] != float64(5<<30) || props["large_object_chunk_size"] != float64(200<<20) || obj["description"] != "object store" {
		t.Fatalf("swift store: %v", obj)
	}
	if f := list[0].(map[string]any); f["type"] != "file" {
		t.Fatalf("file store: %v", f)
	}
}

func TestSwiftStoreDown(t *testing.T) {
	tc, _, srv := newSwiftCloud(t)
	srv.Close() // nothing listens at the storage URL any more
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	r := tc.req("PUT", "/v2/images/"+id+"/file", tc.alice, randomData(4096), "X-Image-Meta-Store", "obj")
	if r.status != 500 || !strings.Contains(string(r.raw), "500 Internal Server Error") {
		t.Fatalf("upload with swift down: %d %s", r.status, r.raw)
	}
	im := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil).json
	if im["status"] != "queued" || im["size"] != nil || im["checksum"] != nil || im["stores"] != nil {
		t.Fatalf("after failed upload: %v", im)
	}
	noTmp(t, tc, "obj")
	if locs, err := tc.svc.store.GetImage(context.Background(), id); err != nil || len(locs.Stores) != 0 {
		t.Fatalf("locations: %v %v", locs, err)
	}
	// The file store still works; copying into the dead store fails the task.
	id2 := tc.uploaded([]byte("still here"), "fast")
	tc.must(202, "POST", "/v2/images/"+id2+"/import", tc.admin, copyImage([]string{"obj"}, nil))
	if im := tc.waitImporting(id2); im["stores"] != "fast" || !strings.Contains(im[propFailedImport].(string), "obj") {
		t.Fatalf("copy to dead swift: %v", im)
	}
}

func TestSwiftStoreTooLarge(t *testing.T) {
	tc, sc, _ := newSwiftCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	// The announced length alone is refused, before the data is read:
	// the body is zeros made on the fly, never sent in full.
	const size = swiftMaxObject + 1
	req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", io.LimitReader(zeros{}, size))
	req.ContentLength = size
	req.Header.Set("X-Auth-Token", tc.alice)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Image-Meta-Store", "obj")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("over 5 GiB: %d %s", res.StatusCode, msg)
	}
	if im := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil).json; im["status"] != "queued" {
		t.Fatalf("image after 413: %v", im)
	}
	if got := swiftObject(t, sc, id); got != nil {
		t.Fatal("object stored")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// glance-direct to both stores: the staged data reaches Swift through the
// same spool, check and commit as an upload.
func TestSwiftStoreGlanceDirect(t *testing.T) {
	tc, sc, _ := newSwiftCloud(t)
	data := randomData(70000)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/stage", tc.alice, data)
	tc.must(202, "POST", "/v2/images/"+id+"/import", tc.alice, map[string]any{"method": map[string]any{"name": "glance-direct"}, "all_stores": true})
	if im := tc.waitImporting(id); im["status"] != "active" || im["stores"] != "fast,obj" {
		t.Fatalf("glance-direct: %v", im)
	}
	if got := swiftObject(t, sc, id); !bytes.Equal(got, data) {
		t.Fatal("swift object differs from the staged data")
	}
	noTmp(t, tc, "obj")
	// The file copy goes; the image is then served from Swift.
	tc.must(204, "DELETE", "/v2/stores/fast/"+id, tc.admin, nil)
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, data) {
		t.Fatal("download from swift differs")
	}
}
