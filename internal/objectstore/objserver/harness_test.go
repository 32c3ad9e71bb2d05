package objserver

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var testHashPath = HashPath{Prefix: "kumo-test-prefix", Suffix: "kumo-test-suffix"}

// testClock is a settable clock so expiry and reclaim can be tested
// without sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testNode is one storage node with real devices in a temp dir, served
// over real HTTP.
type testNode struct {
	t     testing.TB
	root  string
	store *Store
	srv   *httptest.Server
	clock *testClock
}

func newTestNode(t testing.TB, devs []string, tweak func(*Config)) *testNode {
	t.Helper()
	root := t.TempDir()
	for _, d := range devs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{now: time.Unix(1700000000, 0)}
	cfg := Config{Root: root, HashPath: testHashPath, Now: clock.Now, UpdateTimeout: 2 * time.Second, NodeTimeout: 5 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tweak != nil {
		tweak(&cfg)
	}
	st, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Writes stay in the segments the tests expect (journal_test.go
	// tests the warm-up on its own).
	st.noSpareWarmUp = true
	n := &testNode{t: t, root: root, store: st, clock: clock}
	n.srv = httptest.NewServer(NewServer(st))
	t.Cleanup(func() {
		n.srv.Close()
		st.WaitUpdates()
		st.Close()
	})
	return n
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; body nil means no body.
func (n *testNode) do(method, path string, hdr map[string]string, body []byte) resp {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, n.srv.URL+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := n.srv.Client().Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

// put stores an object with a timestamp and content type.
func (n *testNode) put(path, ts string, body []byte, extra map[string]string) resp {
	n.t.Helper()
	h := map[string]string{"X-Timestamp": ts, "Content-Type": "application/octet-stream"}
	for k, v := range extra {
		h[k] = v
	}
	return n.do(http.MethodPut, path, h, body)
}

func expectStatus(t testing.TB, r resp, want int, what string) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d (body %q)", what, r.status, want, r.body)
	}
}

// hashDirOf is where the node keeps /a/c/o of partition part on dev.
func (n *testNode) hashDirOf(dev, part, a, c, o string) string {
	return n.store.hashDir(dev, part, testHashPath.ObjectHash(a, c, o))
}

// filesIn lists a directory's names, sorted; none when it is absent.
func filesIn(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func fmtTS(sec int64, frac int) string { return fmt.Sprintf("%010d.%05d", sec, frac) }

func joinNames(v []string) string { return strings.Join(v, ",") }
