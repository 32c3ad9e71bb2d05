package objserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// containerRecorder is a real HTTP server standing where a container
// server would, recording the updates it is sent.
type containerRecorder struct {
	mu   sync.Mutex
	reqs []recordedUpdate
}

type recordedUpdate struct {
	method, path string
	header       http.Header
}

func (c *containerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.reqs = append(c.reqs, recordedUpdate{r.Method, r.URL.Path, r.Header.Clone()})
	c.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func (c *containerRecorder) got() []recordedUpdate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recordedUpdate(nil), c.reqs...)
}

func containerHeaders(host string) map[string]string {
	return map[string]string{"X-Container-Host": host, "X-Container-Device": "sdc1", "X-Container-Partition": "42"}
}

func TestContainerUpdateSent(t *testing.T) {
	rec := &containerRecorder{}
	cs := httptest.NewServer(rec)
	defer cs.Close()
	n := newTestNode(t, []string{"sdb1"}, nil)
	host := strings.TrimPrefix(cs.URL, "http://")
	body := []byte("listed")
	expectStatus(t, n.put(objPath, "1700000000.1", body, containerHeaders(host)), 201, "PUT")
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": "1700000000.2",
		"X-Container-Host": host, "X-Container-Device": "sdc1", "X-Container-Partition": "42"}, nil), 204, "DELETE")
	// A refused write sends no update.
	expectStatus(t, n.put(objPath, "1700000000.05", body, containerHeaders(host)), 409, "older PUT")
	n.store.WaitUpdates()
	got := rec.got()
	if len(got) != 2 {
		t.Fatalf("container server got %d updates, want 2: %+v", len(got), got)
	}
	put, del := got[0], got[1]
	if put.method != "PUT" || put.path != "/sdc1/42/AUTH_a/photos/cats/tabby.jpg" ||
		put.header.Get("X-Size") != "6" || put.header.Get("X-Etag") != md5hex(body) ||
		put.header.Get("X-Content-Type") != "application/octet-stream" || put.header.Get("X-Timestamp") != "1700000000.10000" {
		t.Errorf("PUT update = %+v", put)
	}
	if del.method != "DELETE" || del.path != put.path || del.header.Get("X-Timestamp") != "1700000000.20000" {
		t.Errorf("DELETE update = %+v", del)
	}
	if n.store.pendingCount() != 0 {
		t.Fatal("async pending written although the updates succeeded")
	}
}

// flakyContainer drops connections without answering while down, as a
// crashed container server would, and records updates once it is up.
type flakyContainer struct {
	containerRecorder
	down atomic.Bool
}

func (f *flakyContainer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	f.containerRecorder.ServeHTTP(w, r)
}

func TestAsyncPendingWhenContainerServerDown(t *testing.T) {
	fc := &flakyContainer{}
	fc.down.Store(true)
	cs := httptest.NewServer(fc)
	defer cs.Close()
	n := newTestNode(t, []string{"sdb1"}, nil)
	// Two targets: the flaky one, and a port where nothing listens.
	hdr := containerHeaders(strings.TrimPrefix(cs.URL, "http://") + ",127.0.0.1:1")
	hdr["X-Container-Device"] = "sdc1,sdd1"
	start := time.Now()
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("x"), hdr), 201, "PUT with containers down")
	if time.Since(start) > 3*time.Second {
		t.Fatalf("PUT waited %v for dead container servers", time.Since(start))
	}
	n.store.WaitUpdates()
	if got := n.store.pendingCount(); got != 2 {
		t.Fatalf("async pending files = %d, want one per target (2)", got)
	}
	up := NewUpdater(n.store)
	st, err := up.RunOnce(t.Context())
	if err != nil || st.Failures != 2 || st.Successes != 0 {
		t.Fatalf("updater while down: %+v %v", st, err)
	}
	fc.down.Store(false)
	rec := &fc.containerRecorder
	st, err = up.RunOnce(t.Context())
	if err != nil || st.Successes != 1 || st.Failures != 1 {
		t.Fatalf("updater after recovery: %+v %v", st, err)
	}
	got := rec.got()
	if len(got) != 1 || got[0].method != "PUT" || got[0].path != "/sdc1/42/AUTH_a/photos/cats/tabby.jpg" || got[0].header.Get("X-Size") != "1" {
		t.Fatalf("flushed update = %+v", got)
	}
	if n.store.pendingCount() != 1 {
		t.Fatalf("pending = %d, want only the still-dead target's", n.store.pendingCount())
	}
	r := n.do("GET", "/recon/async", nil, nil)
	if !strings.Contains(string(r.body), `"async_pending":1`) {
		t.Fatalf("recon async = %s", r.body)
	}
}

func TestExpirerTombstonesAndUpdatesContainer(t *testing.T) {
	rec := &containerRecorder{}
	cs := httptest.NewServer(rec)
	defer cs.Close()
	n := newTestNode(t, []string{"sdb1"}, nil)
	host := strings.TrimPrefix(cs.URL, "http://")
	at := n.clock.Now().Unix() + 30
	hdr := containerHeaders(host)
	hdr["X-Delete-At"] = strconvI(at)
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("bye"), hdr), 201, "PUT expiring")
	expectStatus(t, n.put("/sdb1/7/AUTH_a/photos/keeper", "1700000000.1", []byte("stay"), nil), 201, "PUT keeper")
	ex := NewExpirer(n.store)
	if st, err := ex.RunOnce(t.Context()); err != nil || st.Expired != 0 {
		t.Fatalf("expirer before time: %+v %v", st, err)
	}
	n.clock.Advance(31 * time.Second)
	st, err := ex.RunOnce(t.Context())
	if err != nil || st.Expired != 1 {
		t.Fatalf("expirer: %+v %v", st, err)
	}
	n.store.WaitUpdates()
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	want := TimestampFromUnix(at).Internal() + ".ts"
	if got := joinNames(filesIn(t, dir)); got != want {
		t.Fatalf("after expiry the dir holds %q, want %q", got, want)
	}
	got := rec.got()
	if len(got) != 2 || got[1].method != "DELETE" || got[1].header.Get("X-Timestamp") != TimestampFromUnix(at).Internal() {
		t.Fatalf("container updates = %+v", got)
	}
	expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/photos/keeper", nil, nil), 200, "GET keeper")
}
