package objserver

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const objPath = "/sdb1/7/AUTH_a/photos/cats/tabby.jpg"

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestPutGetHeadRoundTrip(t *testing.T) {
	n := newTestNode(t, []string{"sdb1", "sdc1"}, nil)
	body := []byte("a tabby cat, in bytes")
	r := n.put(objPath, "1700000000.00001", body, map[string]string{
		"Content-Type": "image/jpeg", "X-Object-Meta-Color": "orange", "Content-Disposition": "inline",
		"X-Backend-Ignored": "x", "ETag": md5hex(body),
	})
	expectStatus(t, r, 201, "PUT")
	if r.header.Get("ETag") != `"`+md5hex(body)+`"` {
		t.Fatalf("PUT ETag = %q", r.header.Get("ETag"))
	}
	g := n.do("GET", objPath, nil, nil)
	expectStatus(t, g, 200, "GET")
	if string(g.body) != string(body) {
		t.Fatalf("GET body = %q", g.body)
	}
	want := map[string]string{
		"Content-Type":        "image/jpeg",
		"Content-Length":      "21",
		"ETag":                `"` + md5hex(body) + `"`,
		"X-Timestamp":         "1700000000.00001",
		"X-Backend-Timestamp": "1700000000.00001",
		"X-Object-Meta-Color": "orange",
		"Content-Disposition": "inline",
		"Last-Modified":       "Tue, 14 Nov 2023 22:13:21 GMT", // ceil of the timestamp
		"Accept-Ranges":       "bytes",
	}
	for k, v := range want {
		if got := g.header.Get(k); got != v {
			t.Errorf("GET %s = %q, want %q", k, got, v)
		}
	}
	if g.header.Get("X-Backend-Ignored") != "" || g.header.Get(keyUpdateTargets) != "" {
		t.Error("GET leaked a header that is not object metadata")
	}
	h := n.do("HEAD", objPath, nil, nil)
	expectStatus(t, h, 200, "HEAD")
	if len(h.body) != 0 || h.header.Get("Content-Length") != "21" || h.header.Get("X-Object-Meta-Color") != "orange" {
		t.Fatalf("HEAD: body %q headers %v", h.body, h.header)
	}
	// The object is one .data file in <dev>/objects/<part>/<hash> on the
	// device named in the path, and nothing is left in tmp.
	dir := filepath.Join(n.root, "sdb1", "objects", "7", testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg"))
	if got := joinNames(filesIn(t, dir)); got != "1700000000.00001.data" {
		t.Fatalf("hash dir %s holds %q", dir, got)
	}
	if got := filesIn(t, n.store.tmpDir("sdb1")); len(got) != 0 {
		t.Fatalf("tmp holds %v after PUT", got)
	}
	expectStatus(t, n.do("GET", "/sdc1/7/AUTH_a/photos/cats/tabby.jpg", nil, nil), 404, "GET on other device")
	// An empty object is an object.
	expectStatus(t, n.put("/sdb1/7/AUTH_a/photos/empty", "1700000000.00001", []byte{}, nil), 201, "PUT empty")
	e := n.do("GET", "/sdb1/7/AUTH_a/photos/empty", nil, nil)
	if e.status != 200 || len(e.body) != 0 || e.header.Get("ETag") != `"d41d8cd98f00b204e9800998ecf8427e"` {
		t.Fatalf("empty GET: %d %q %v", e.status, e.body, e.header)
	}
}

func TestPutRejectsBadRequests(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	body := []byte("payload")
	cases := []struct {
		what   string
		path   string
		hdr    map[string]string
		status int
	}{
		{"no timestamp", objPath, map[string]string{"Content-Type": "text/plain"}, 400},
		{"bad timestamp", objPath, map[string]string{"X-Timestamp": "yesterday", "Content-Type": "text/plain"}, 400},
		{"no content type", objPath, map[string]string{"X-Timestamp": "1700000000.1"}, 400},
		{"etag mismatch", objPath, map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b", "ETag": md5hex([]byte("other"))}, 422},
		{"delete-at not integer", objPath, map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b", "X-Delete-At": "soon"}, 400},
		{"delete-at in past", objPath, map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b", "X-Delete-At": "1600000000"}, 400},
		{"short path", "/sdb1/7/AUTH_a/photos", map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b"}, 400},
		{"bad partition", "/sdb1/x7/AUTH_a/c/o", map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b"}, 400},
		{"bad device", "/../7/AUTH_a/c/o", map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b"}, 400},
	}
	for _, c := range cases {
		r := n.do("PUT", c.path, c.hdr, body)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.what, r.status, c.status, r.body)
		}
		if c.status == 422 && !strings.Contains(string(r.body), "Unprocessable Entity") {
			t.Errorf("422 body %q is not Swift's", r.body)
		}
	}
	// None of them left anything behind: no object dir, no temp file.
	if got := filesIn(t, n.store.objectsDir("sdb1")); len(got) != 0 {
		t.Fatalf("objects dir holds %v after rejected PUTs", got)
	}
	if got := filesIn(t, n.store.tmpDir("sdb1")); len(got) != 0 {
		t.Fatalf("tmp holds %v after rejected PUTs", got)
	}
	expectStatus(t, n.do("GET", objPath, nil, nil), 404, "GET after rejected PUTs")
}

func TestPutLengthRequiredAndShortBody(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	// A Go client always sends a length for PUT; raw HTTP can omit it.
	status := rawStatus(t, n, "PUT "+objPath+" HTTP/1.1\r\nHost: x\r\nX-Timestamp: 1700000000.1\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
	if status != http.StatusLengthRequired {
		t.Fatalf("PUT without length: %d, want 411", status)
	}
	// Announce 100 bytes, send 10, hang up: the server must not commit.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", n.srv.URL+objPath, pr)
	req.ContentLength = 100
	req.Header.Set("X-Timestamp", "1700000000.1")
	req.Header.Set("Content-Type", "text/plain")
	go func() {
		pw.Write([]byte("0123456789"))
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}()
	if r, err := n.srv.Client().Do(req); err == nil {
		r.Body.Close()
	}
	// The handler may still be finishing; wait for it, boundedly.
	deadline := time.Now().Add(5 * time.Second)
	for len(filesIn(t, n.store.tmpDir("sdb1"))) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := filesIn(t, n.store.tmpDir("sdb1")); len(got) != 0 {
		t.Fatalf("tmp holds %v after a short body", got)
	}
	expectStatus(t, n.do("GET", objPath, nil, nil), 404, "GET after short body")
}

func TestChunkedPut(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	body := strings.Repeat("chunk-", 50000)
	var chunks strings.Builder
	for i := 0; i < len(body); i += 70000 {
		c := body[i:min(i+70000, len(body))]
		fmt.Fprintf(&chunks, "%x\r\n%s\r\n", len(c), c)
	}
	chunks.WriteString("0\r\n\r\n")
	status := rawStatus(t, n, "PUT "+objPath+" HTTP/1.1\r\nHost: x\r\nX-Timestamp: 1700000000.1\r\nContent-Type: text/plain\r\n"+
		"ETag: "+md5hex([]byte(body))+"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"+chunks.String())
	if status != 201 {
		t.Fatalf("chunked PUT: %d", status)
	}
	g := n.do("GET", objPath, nil, nil)
	if string(g.body) != body || g.header.Get("Content-Length") != "300000" {
		t.Fatalf("GET after chunked PUT: %d bytes, length header %s", len(g.body), g.header.Get("Content-Length"))
	}
}

func TestTimestampsOrderWrites(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 2), []byte("v2"), nil), 201, "PUT t2")
	r := n.put(objPath, fmtTS(1700000000, 1), []byte("v1"), nil)
	expectStatus(t, r, 409, "PUT t1 after t2")
	if r.header.Get("X-Backend-Timestamp") != fmtTS(1700000000, 2) {
		t.Fatalf("409 X-Backend-Timestamp = %q", r.header.Get("X-Backend-Timestamp"))
	}
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 2), []byte("v2'"), nil), 409, "PUT same timestamp")
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 1)}, nil), 409, "DELETE older")
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 3)}, nil), 204, "DELETE t3")
	if got := joinNames(filesIn(t, dir)); got != fmtTS(1700000000, 3)+".ts" {
		t.Fatalf("after DELETE the dir holds %q, want only the tombstone", got)
	}
	// An older PUT arriving after a newer DELETE is refused: the delete wins.
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 2)+"_0000000000000001", []byte("late"), nil), 409, "PUT older than tombstone")
	g := n.do("GET", objPath, nil, nil)
	expectStatus(t, g, 404, "GET deleted")
	if g.header.Get("X-Backend-Timestamp") != fmtTS(1700000000, 3) {
		t.Fatalf("404 X-Backend-Timestamp = %q", g.header.Get("X-Backend-Timestamp"))
	}
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 4)}, nil), 404, "DELETE deleted")
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 5), []byte("v5"), nil), 201, "PUT t5")
	if got := joinNames(filesIn(t, dir)); got != fmtTS(1700000000, 5)+".data" {
		t.Fatalf("older files not cleaned: %q", got)
	}
	if g := n.do("GET", objPath, nil, nil); string(g.body) != "v5" {
		t.Fatalf("GET = %q, want v5", g.body)
	}
}

func TestConcurrentPutsNewestWins(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	var wg sync.WaitGroup
	for i := 1; i <= 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.put(objPath, fmtTS(1700000000, i), []byte(strings.Repeat("x", i)), nil)
		}()
	}
	wg.Wait()
	g := n.do("GET", objPath, nil, nil)
	if g.status != 200 || len(g.body) != 12 || g.header.Get("X-Timestamp") != fmtTS(1700000000, 12) {
		t.Fatalf("after racing PUTs: %d, %d bytes, ts %s", g.status, len(g.body), g.header.Get("X-Timestamp"))
	}
	if got := filesIn(t, n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")); len(got) != 1 {
		t.Fatalf("hash dir holds %v, want one file", got)
	}
}

func TestDeleteRules(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	// Deleting what is not there is 404, but the tombstone is kept so a
	// late replica of an older PUT cannot resurrect it.
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 5)}, nil), 404, "DELETE missing")
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 4), []byte("old"), nil), 409, "PUT older than tombstone")
	expectStatus(t, n.do("DELETE", objPath, nil, nil), 400, "DELETE without timestamp")

	expectStatus(t, n.put(objPath, fmtTS(1700000000, 6), []byte("v"), map[string]string{"X-Delete-At": "1700000500"}), 201, "PUT")
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 7), "X-If-Delete-At": "1700000499"}, nil), 412, "X-If-Delete-At mismatch")
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 7), "X-If-Delete-At": "1700000500"}, nil), 204, "X-If-Delete-At match")
}

func TestPostReplacesMetadata(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, n.do("POST", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 1)}, nil), 404, "POST missing")
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 2), []byte("body"), map[string]string{"X-Object-Meta-A": "1", "X-Object-Meta-B": "2"}), 201, "PUT")
	expectStatus(t, n.do("POST", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 2)}, nil), 409, "POST same timestamp")
	r := n.do("POST", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 3), "X-Object-Meta-C": "3", "X-Delete-At": "1700009999"}, nil)
	expectStatus(t, r, 202, "POST")
	g := n.do("GET", objPath, nil, nil)
	if g.header.Get("X-Object-Meta-A") != "" || g.header.Get("X-Object-Meta-C") != "3" || string(g.body) != "body" {
		t.Fatalf("after POST: meta A=%q C=%q body %q", g.header.Get("X-Object-Meta-A"), g.header.Get("X-Object-Meta-C"), g.body)
	}
	if g.header.Get("X-Timestamp") != fmtTS(1700000000, 3) || g.header.Get("X-Backend-Data-Timestamp") != fmtTS(1700000000, 2) || g.header.Get("X-Delete-At") != "1700009999" {
		t.Fatalf("after POST: headers %v", g.header)
	}
	expectStatus(t, n.do("POST", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 3)}, nil), 409, "POST as old as .meta")
	expectStatus(t, n.do("POST", objPath, map[string]string{"X-Timestamp": fmtTS(1700000000, 4), "X-Object-Meta-D": "4"}, nil), 202, "second POST")
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	if got := joinNames(filesIn(t, dir)); got != fmtTS(1700000000, 2)+".data,"+fmtTS(1700000000, 4)+".meta" {
		t.Fatalf("hash dir holds %q, want the .data and the newest .meta", got)
	}
	g = n.do("HEAD", objPath, nil, nil)
	if g.header.Get("X-Object-Meta-C") != "" || g.header.Get("X-Object-Meta-D") != "4" || g.header.Get("X-Delete-At") != "" {
		t.Fatalf("second POST did not replace the first: %v", g.header)
	}
	// A newer PUT supersedes the .meta too.
	expectStatus(t, n.put(objPath, fmtTS(1700000000, 5), []byte("new"), nil), 201, "PUT over meta")
	if got := joinNames(filesIn(t, dir)); got != fmtTS(1700000000, 5)+".data" {
		t.Fatalf("hash dir holds %q after PUT", got)
	}
}

func TestConditionalRequests(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	body := []byte("conditional")
	etag := `"` + md5hex(body) + `"`
	r := n.put(objPath, "1700000000.5", body, map[string]string{"If-None-Match": "*"})
	expectStatus(t, r, 201, "PUT If-None-Match * on new")
	expectStatus(t, n.put(objPath, "1700000001.5", body, map[string]string{"If-None-Match": "*"}), 412, "PUT If-None-Match * on existing")
	expectStatus(t, n.put(objPath, "1700000001.5", body, map[string]string{"If-None-Match": etag}), 412, "PUT If-None-Match etag")
	lastMod := "Tue, 14 Nov 2023 22:13:21 GMT" // ceil(1700000000.5)
	before := "Tue, 14 Nov 2023 22:13:20 GMT"
	cases := []struct {
		hdr    map[string]string
		status int
	}{
		{map[string]string{"If-Match": etag}, 200},
		{map[string]string{"If-Match": "*"}, 200},
		{map[string]string{"If-Match": `"nope"`}, 412},
		{map[string]string{"If-None-Match": etag}, 304},
		{map[string]string{"If-None-Match": "*"}, 304},
		{map[string]string{"If-None-Match": `"nope"`}, 200},
		{map[string]string{"If-Modified-Since": lastMod}, 304},
		{map[string]string{"If-Modified-Since": before}, 200},
		{map[string]string{"If-Unmodified-Since": before}, 412},
		{map[string]string{"If-Unmodified-Since": lastMod}, 200},
	}
	for _, c := range cases {
		for _, m := range []string{"GET", "HEAD"} {
			r := n.do(m, objPath, c.hdr, nil)
			if r.status != c.status {
				t.Errorf("%s %v: %d, want %d", m, c.hdr, r.status, c.status)
			}
			if c.status == 304 && r.header.Get("ETag") != etag {
				t.Errorf("304 without ETag: %v", r.header)
			}
		}
	}
}

func TestRanges(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	body := []byte("0123456789abcdefghij")
	expectStatus(t, n.put(objPath, "1700000000.1", body, map[string]string{"Content-Type": "text/plain"}), 201, "PUT")
	r := n.do("GET", objPath, map[string]string{"Range": "bytes=2-5"}, nil)
	if r.status != 206 || string(r.body) != "2345" || r.header.Get("Content-Range") != "bytes 2-5/20" {
		t.Fatalf("single range: %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	r = n.do("GET", objPath, map[string]string{"Range": "bytes=-3"}, nil)
	if r.status != 206 || string(r.body) != "hij" {
		t.Fatalf("suffix range: %d %q", r.status, r.body)
	}
	r = n.do("GET", objPath, map[string]string{"Range": "bytes=15-"}, nil)
	if r.status != 206 || string(r.body) != "fghij" {
		t.Fatalf("open range: %d %q", r.status, r.body)
	}
	r = n.do("GET", objPath, map[string]string{"Range": "bytes=0-1,10-12,18-"}, nil)
	if r.status != 206 {
		t.Fatalf("multi range: %d", r.status)
	}
	parts := readMultipart(t, r)
	want := []struct{ rng, body string }{{"bytes 0-1/20", "01"}, {"bytes 10-12/20", "abc"}, {"bytes 18-19/20", "ij"}}
	if len(parts) != len(want) {
		t.Fatalf("multipart has %d parts, want 3", len(parts))
	}
	for i, w := range want {
		if parts[i].rng != w.rng || parts[i].body != w.body || parts[i].ctype != "text/plain" {
			t.Errorf("part %d = %+v, want %+v", i, parts[i], w)
		}
	}
	r = n.do("GET", objPath, map[string]string{"Range": "bytes=50-60"}, nil)
	if r.status != 416 || r.header.Get("Content-Range") != "bytes */20" {
		t.Fatalf("unsatisfiable: %d %q", r.status, r.header.Get("Content-Range"))
	}
	// Swift ignores a Range header it cannot parse.
	for _, bad := range []string{"bytes=5-2", "lines=1-2", "bytes=a-b", "bytes=" + strings.Repeat("1-2,", 50) + "1-2"} {
		r = n.do("GET", objPath, map[string]string{"Range": bad}, nil)
		if r.status != 200 || string(r.body) != string(body) {
			t.Errorf("Range %q: %d %q, want the whole object", bad, r.status, r.body)
		}
	}
}

func TestExpiredObjectsAreNeverServed(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	at := n.clock.Now().Unix() + 60
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("ephemeral"), map[string]string{"X-Delete-At": strconvI(at)}), 201, "PUT")
	g := n.do("GET", objPath, nil, nil)
	if g.status != 200 || g.header.Get("X-Delete-At") != strconvI(at) {
		t.Fatalf("before expiry: %d %v", g.status, g.header)
	}
	n.clock.Advance(61 * time.Second)
	for _, m := range []string{"GET", "HEAD"} {
		expectStatus(t, n.do(m, objPath, nil, nil), 404, m+" expired")
	}
	expectStatus(t, n.do("POST", objPath, map[string]string{"X-Timestamp": "1700000000.2"}, nil), 404, "POST expired")
	// The file is still there until the expirer runs.
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	if got := joinNames(filesIn(t, dir)); got != "1700000000.10000.data" {
		t.Fatalf("hash dir %q", got)
	}
}

func TestInsufficientStorage(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, func(c *Config) { c.FallocateReserve = 1 << 62 })
	for _, m := range []string{"PUT", "GET", "DELETE", "REPLICATE"} {
		path := "/sdz9/7/AUTH_a/c/o"
		if m == "REPLICATE" {
			path = "/sdz9/7"
		}
		r := n.do(m, path, map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b"}, []byte("x"))
		expectStatus(t, r, 507, m+" on a missing device")
	}
	// sdb1 exists, but the reserve is larger than any disk: the device is full.
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("x"), nil), 507, "PUT on a full device")
	if got := filesIn(t, n.store.objectsDir("sdb1")); len(got) != 0 {
		t.Fatalf("full device got files %v", got)
	}
	// Mount check: a plain directory is not a mount point.
	m := newTestNode(t, []string{"sdb1"}, func(c *Config) { c.MountCheck = true })
	expectStatus(t, m.put(objPath, "1700000000.1", []byte("x"), nil), 507, "PUT on an unmounted device")
	// A percent reserve that this disk does satisfy lets writes through.
	ok := newTestNode(t, []string{"sdb1"}, func(c *Config) { c.FallocateReservePercent = 0.0001 })
	expectStatus(t, ok.put(objPath, "1700000000.1", []byte("x"), nil), 201, "PUT under a small reserve")
}

func TestHealthcheckAndRecon(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	r := n.do("GET", "/healthcheck", nil, nil)
	if r.status != 200 || string(r.body) != "OK" {
		t.Fatalf("healthcheck: %d %q", r.status, r.body)
	}
	r = n.do("GET", "/recon/diskusage", nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"device":"sdb1","mounted":true`) {
		t.Fatalf("recon diskusage: %d %s", r.status, r.body)
	}
	expectStatus(t, n.do("PATCH", objPath, nil, nil), 405, "unknown verb")
}

// rawStatus writes a raw HTTP request and returns the response status.
func rawStatus(t *testing.T, n *testNode, raw string) int {
	t.Helper()
	c, err := net.Dial("tcp", n.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode
}

// Error pages are HTML: a path echoed into one must be escaped, or a name
// with markup would inject it into whatever renders the page.
func TestErrorPageEscapesPath(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	r := n.do("PUT", "/sdb1/7/%3Cscript%3Ealert(1)%3C%2Fscript%3E", map[string]string{"X-Timestamp": "1700000000.1", "Content-Type": "a/b"}, []byte("x"))
	expectStatus(t, r, 400, "short path with markup")
	if strings.Contains(string(r.body), "<script>") || !strings.Contains(string(r.body), "&lt;script&gt;") {
		t.Fatalf("error page does not escape the path: %q", r.body)
	}
}
