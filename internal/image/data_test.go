package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUploadDownloadRange(t *testing.T) {
	tc := newTestCloud(t)
	data := make([]byte, 3<<20)
	_, _ = rand.Read(data)
	id := tc.create(tc.alice, map[string]any{"name": "raw", "disk_format": "raw", "container_format": "bare"})
	tc.must(204, "GET", "/v2/images/"+id+"/file", tc.alice, nil) // no data yet
	tc.must(415, "PUT", "/v2/images/"+id+"/file", tc.alice, string(data[:10]))
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, data)
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	md := md5.Sum(data)
	sh := sha512.Sum512(data)
	if r.json["status"] != "active" || r.json["size"] != float64(len(data)) || r.json["virtual_size"] != float64(len(data)) ||
		r.json["checksum"] != hex.EncodeToString(md[:]) || r.json["os_hash_algo"] != "sha512" || r.json["os_hash_value"] != hex.EncodeToString(sh[:]) {
		t.Fatalf("after upload: %s", r.raw)
	}
	tc.must(409, "PUT", "/v2/images/"+id+"/file", tc.alice, data)
	d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil)
	if !bytes.Equal(d.raw, data) || d.header.Get("Content-MD5") != hex.EncodeToString(md[:]) || d.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %d bytes, headers %v", len(d.raw), d.header)
	}
	for _, c := range []struct {
		rng        string
		start, end int
	}{{"bytes=10-19", 10, 19}, {"bytes=-5", len(data) - 5, len(data) - 1}, {"bytes=100-", 100, len(data) - 1}, {"bytes=0-99999999", 0, len(data) - 1}} {
		p := tc.must(206, "GET", "/v2/images/"+id+"/file", tc.alice, nil, "Range", c.rng)
		if !bytes.Equal(p.raw, data[c.start:c.end+1]) || p.header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, len(data)) {
			t.Errorf("range %s: %d bytes, Content-Range %q", c.rng, len(p.raw), p.header.Get("Content-Range"))
		}
	}
	for _, bad := range []string{"bytes=99999999-", "bytes=5-2", "bytes=0-1,5-6", "lines=1-2", "bytes=-0"} {
		tc.must(416, "GET", "/v2/images/"+id+"/file", tc.alice, nil, "Range", bad)
	}
	// Someone who cannot see the image cannot download it.
	tc.must(404, "GET", "/v2/images/"+id+"/file", tc.bob, nil)
	// Nor upload to someone else's image.
	other := tc.create(tc.bob, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(404, "PUT", "/v2/images/"+other+"/file", tc.alice, data[:512])

	// Formats must be set first.
	bare := tc.create(tc.alice, map[string]any{"disk_format": "raw"})
	r = tc.must(400, "PUT", "/v2/images/"+bare+"/file", tc.alice, data[:512])
	if !strings.Contains(str(r.json, "message"), "container_format") {
		t.Fatalf("missing format: %s", r.raw)
	}

	// A chunked upload (unknown length) works too.
	ch := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+ch+"/file", io.MultiReader(bytes.NewReader(data[:1<<20])))
	req.Header.Set("X-Auth-Token", tc.alice)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || req.ContentLength != 0 {
		t.Fatalf("chunked upload: %d (length %d)", res.StatusCode, req.ContentLength)
	}
	if r := tc.must(200, "GET", "/v2/images/"+ch, tc.alice, nil); r.json["size"] != float64(1<<20) {
		t.Fatalf("chunked size: %s", r.raw)
	}
}

func TestUploadSizeCap(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.MaxImageSize = 4096 })
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(413, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 8192))
	// Chunked, so the cap is found while streaming.
	req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", io.MultiReader(bytes.NewReader(make([]byte, 8192))))
	req.Header.Set("X-Auth-Token", tc.alice)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked over cap: %d", res.StatusCode)
	}
	if r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil); r.json["status"] != "queued" {
		t.Fatalf("after 413: %s", r.raw)
	}
	assertNoTempFiles(t, tc)
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 4096))
}

func assertNoTempFiles(t *testing.T, tc *testCloud) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(tc.svc.stores.def().Dir, "*.tmp"))
	if len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// waitStatus polls an image until it has status (uploads finish after the
// client has gone).
func (tc *testCloud) waitStatus(id, status string) map[string]any {
	tc.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
		if r.json["status"] == status {
			return r.json
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("image %s: status %v, want %s", id, r.json["status"], status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInterruptedUpload(t *testing.T) {
	tc := newTestCloud(t)
	// A client that announces 1 MiB, sends half and disconnects.
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(tc.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", id, tc.alice, 1<<20)
	_, _ = conn.Write(make([]byte, 1<<19))
	// Wait until the server is streaming (the image is saving), then go.
	tc.waitStatus(id, "saving")
	conn.Close()
	im := tc.waitStatus(id, "queued")
	if im["size"] != nil || im["checksum"] != nil {
		t.Fatalf("interrupted image keeps data attributes: %v", im)
	}
	assertNoTempFiles(t, tc)
	if _, err := os.Stat(tc.svc.dataPath(id)); err == nil {
		t.Fatal("data file of an interrupted upload exists")
	}
	// A chunked body that fails halfway (io.Pipe closed with an error).
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(make([]byte, 1<<18))
		time.Sleep(50 * time.Millisecond)
		pw.CloseWithError(fmt.Errorf("client gave up"))
	}()
	req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", pr)
	req.Header.Set("X-Auth-Token", tc.alice)
	req.Header.Set("Content-Type", "application/octet-stream")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	tc.waitStatus(id, "queued")
	assertNoTempFiles(t, tc)
	// The upload can be retried.
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 1<<20))
	tc.waitStatus(id, "active")
}

func TestDiskImageInspection(t *testing.T) {
	requireQemuImg(t)
	tc := newTestCloud(t)
	dir := t.TempDir()
	run := func(args ...string) {
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v\n%s", args, err, out)
		}
	}
	good := filepath.Join(dir, "good.qcow2")
	run("create", "-f", "qcow2", good, "64M")
	evil := filepath.Join(dir, "evil.qcow2")
	run("create", "-f", "qcow2", "-F", "raw", "-b", "/etc/passwd", evil, "64M")

	id := tc.create(tc.alice, map[string]any{"disk_format": "qcow2", "container_format": "bare"})
	b, _ := os.ReadFile(good)
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, b)
	if r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil); r.json["virtual_size"] != float64(64<<20) || r.json["size"] != float64(len(b)) {
		t.Fatalf("qcow2: %s", r.raw)
	}
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, b) {
		t.Fatal("qcow2 download differs")
	}

	// A backing file pointing at a host file: refused, back to queued,
	// nothing kept.
	bad := tc.create(tc.alice, map[string]any{"disk_format": "qcow2", "container_format": "bare"})
	b, _ = os.ReadFile(evil)
	r := tc.must(400, "PUT", "/v2/images/"+bad+"/file", tc.alice, b)
	if !strings.Contains(str(r.json, "message"), "unsafe") {
		t.Fatalf("backing file: %s", r.raw)
	}
	if im := tc.waitStatus(bad, "queued"); im["size"] != nil {
		t.Fatalf("refused image: %v", im)
	}
	assertNoTempFiles(t, tc)
	if _, err := os.Stat(tc.svc.dataPath(bad)); err == nil {
		t.Fatal("refused data kept")
	}
	// A qcow2 declared as raw: refused (format mismatch).
	asRaw := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	tc.must(400, "PUT", "/v2/images/"+asRaw+"/file", tc.alice, b)
	tc.waitStatus(asRaw, "queued")
}

func TestRestartKeepsImagesAndRecoversUploads(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"name": "keep", "disk_format": "raw", "container_format": "bare", "k": "v"})
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, block("persist"))
	// Simulate a crash during an upload: an image left saving and a temp file.
	stuck := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	im, err := tc.svc.store.GetImage(context.Background(), stuck)
	if err != nil {
		t.Fatal(err)
	}
	im.Status = statusSaving
	if err := tc.svc.store.SaveData(context.Background(), im, statusQueued); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tc.svc.dataPath(stuck)+".tmp", []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc2, err := New(context.Background(), tc.svc.cfg, tc.svc.store.db, tc.id, tc.svc.log)
	if err != nil {
		t.Fatal(err)
	}
	tc.srv.Config.Handler = svc2.Handler()
	tc.svc = svc2
	if r := tc.must(200, "GET", "/v2/images/"+stuck, tc.alice, nil); r.json["status"] != "queued" {
		t.Fatalf("stuck upload after restart: %s", r.raw)
	}
	assertNoTempFiles(t, tc)
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if r.json["status"] != "active" || r.json["k"] != "v" || r.json["name"] != "keep" {
		t.Fatalf("after restart: %s", r.raw)
	}
	if d := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.alice, nil); !bytes.Equal(d.raw, block("persist")) {
		t.Fatal("data after restart differs")
	}
}

// errAfter yields n zero bytes, then err.
type errAfter struct {
	n   int
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, e.err
	}
	k := min(len(p), e.n)
	clear(p[:k])
	e.n -= k
	return k, nil
}

func TestHashCopyEndsOnlyAtEOF(t *testing.T) {
	var buf bytes.Buffer
	n, err := hashCopy(&buf, md5.New(), sha512.New(), &errAfter{n: 3 << 20, err: io.ErrUnexpectedEOF})
	if err != io.ErrUnexpectedEOF || n != 3<<20 {
		t.Fatalf("truncated stream: n=%d err=%v", n, err)
	}
	buf.Reset()
	h := md5.New()
	n, err = hashCopy(&buf, h, sha512.New(), &errAfter{n: 5<<20 + 7, err: io.EOF})
	want := md5.Sum(make([]byte, 5<<20+7))
	if err != nil || n != 5<<20+7 || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("complete stream: n=%d err=%v", n, err)
	}
}

func TestConcurrentUploadsOneWins(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", pr)
		req.Header.Set("X-Auth-Token", tc.alice)
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	_, _ = pw.Write(make([]byte, 4096))
	tc.waitStatus(id, "saving")
	tc.must(409, "PUT", "/v2/images/"+id+"/file", tc.alice, make([]byte, 512))
	_, _ = pw.Write(make([]byte, 4096))
	pw.Close()
	if st := <-first; st != 204 {
		t.Fatalf("first upload: %d", st)
	}
	if im := tc.waitStatus(id, "active"); im["size"] != float64(8192) {
		t.Fatalf("size: %v", im["size"])
	}
}

func TestDeleteDuringUpload(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", pr)
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
	_, _ = pw.Write(make([]byte, 4096))
	tc.waitStatus(id, "saving")
	tc.must(204, "DELETE", "/v2/images/"+id, tc.alice, nil)
	pw.Close()
	if st := <-done; st != http.StatusGone {
		t.Fatalf("upload of a deleted image: %d", st)
	}
	assertNoTempFiles(t, tc)
	if _, err := os.Stat(tc.svc.dataPath(id)); err == nil {
		t.Fatal("data of an image deleted during upload is on disk")
	}
}

// unwrapper is a middleware's response writer without ReadFrom, as the
// platform's status writer.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// Downloads reach net/http's own ReadFrom (sendfile) through a wrapper
// that hides it.
func TestDownloadFindsReaderFrom(t *testing.T) {
	found := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isRF := readerFrom(unwrapper{w}).(io.ReaderFrom)
		found <- isRF
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !<-found {
		t.Fatal("no io.ReaderFrom found under the wrapper: downloads would not use sendfile")
	}
}
