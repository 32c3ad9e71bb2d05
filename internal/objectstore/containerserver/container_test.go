package containerserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type objLine struct {
	Name         string `json:"name"`
	Hash         string `json:"hash"`
	Bytes        int64  `json:"bytes"`
	ContentType  string `json:"content_type"`
	LastModified string `json:"last_modified"`
	Subdir       string `json:"subdir"`
}

func jsonList(t *testing.T, r resp) []objLine {
	t.Helper()
	var out []objLine
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("listing is not JSON: %v: %q", err, r.body)
	}
	return out
}

func TestContainerVerbs(t *testing.T) {
	n := newNode(t)
	expect(t, n.c("HEAD", "/AUTH_a/c", nil), 404, "HEAD missing container")
	expect(t, n.c("GET", "/AUTH_a/c", nil), 404, "GET missing container")
	expect(t, n.c("PUT", "/AUTH_a/c", nil), 400, "PUT without X-Timestamp")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(100, "X-Container-Meta-Color", "blue", "X-Container-Read", ".r:*")), 201, "PUT new container")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(101)), 202, "PUT existing container")

	r := n.c("HEAD", "/AUTH_a/c", nil)
	expect(t, r, 204, "HEAD container")
	for k, want := range map[string]string{
		"X-Container-Object-Count": "0", "X-Container-Bytes-Used": "0",
		"X-Put-Timestamp": ts(101), "X-Container-Meta-Color": "blue", "X-Container-Read": ".r:*",
		"X-Backend-Storage-Policy-Index": "0",
	} {
		if got := r.h.Get(k); got != want {
			t.Errorf("HEAD %s = %q, want %q", k, got, want)
		}
	}
	if _, err := ParseTimestamp(r.h.Get("X-Timestamp")); err != nil {
		t.Errorf("X-Timestamp %q: %v", r.h.Get("X-Timestamp"), err)
	}

	expect(t, n.c("POST", "/AUTH_a/c", hdrTS(102, "X-Container-Meta-Color", "red", "X-Container-Meta-Size", "L")), 204, "POST metadata")
	// An older POST must not undo a newer value.
	expect(t, n.c("POST", "/AUTH_a/c", hdrTS(101.5, "X-Container-Meta-Color", "green")), 204, "older POST")
	// An empty value removes the item from responses.
	expect(t, n.c("POST", "/AUTH_a/c", hdrTS(103, "X-Container-Meta-Size", "")), 204, "POST delete item")
	r = n.c("HEAD", "/AUTH_a/c", nil)
	if got := r.h.Get("X-Container-Meta-Color"); got != "red" {
		t.Errorf("color after POSTs = %q, want red", got)
	}
	if _, ok := r.h["X-Container-Meta-Size"]; ok {
		t.Errorf("deleted metadata still shown: %q", r.h.Get("X-Container-Meta-Size"))
	}

	n.putObj("/AUTH_a/c/o1", 110, 5, "etag1")
	expect(t, n.c("DELETE", "/AUTH_a/c", hdrTS(120)), 409, "DELETE non-empty container")
	expect(t, n.c("DELETE", "/AUTH_a/c/o1", hdrTS(121)), 204, "DELETE object row")
	expect(t, n.c("DELETE", "/AUTH_a/c", hdrTS(122)), 204, "DELETE empty container")
	r = n.c("HEAD", "/AUTH_a/c", nil)
	expect(t, r, 404, "HEAD deleted container")
	if r.h.Get("X-Backend-Delete-Timestamp") != ts(122) {
		t.Errorf("deleted container's X-Backend-Delete-Timestamp = %q", r.h.Get("X-Backend-Delete-Timestamp"))
	}
	expect(t, n.c("DELETE", "/AUTH_a/c", hdrTS(123)), 404, "DELETE deleted container")
	expect(t, n.c("POST", "/AUTH_a/c", hdrTS(123)), 404, "POST deleted container")
	expect(t, n.c("PUT", "/AUTH_a/c/late", hdrTS(124, "X-Size", "1", "X-Content-Type", "a/b", "X-Etag", "e")), 404, "object PUT into deleted container")
	// A PUT older than the delete leaves it deleted: 409 as in Swift.
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(115)), 409, "PUT older than delete")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(130)), 201, "re-create deleted container")
}

func TestContainerBadRequests(t *testing.T) {
	n := newNode(t)
	expect(t, n.do(n.cont.URL, "HEAD", "/sdz/0/AUTH_a/c", nil), 507, "missing device")
	expect(t, n.do(n.cont.URL, "HEAD", "/sda/x/AUTH_a/c", nil), 400, "bad partition")
	expect(t, n.do(n.cont.URL, "HEAD", "/sda/0/AUTH_a", nil), 400, "too short a path")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(1)), 201, "PUT")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(2, "X-Backend-Storage-Policy-Index", "1")), 409, "PUT with another policy")
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(2, "X-Backend-Storage-Policy-Index", "x")), 400, "PUT with bad policy")
	expect(t, n.c("PUT", "/AUTH_a/c/o", hdrTS(3, "X-Content-Type", "a/b", "X-Etag", "e")), 400, "object PUT without X-Size")
	expect(t, n.c("PUT", "/AUTH_a/c/o", map[string]string{"X-Size": "1", "X-Content-Type": "a/b", "X-Etag": "e"}), 400, "object PUT without X-Timestamp")
	expect(t, n.c("PUT", "/AUTH_a/nope/o", hdrTS(3, "X-Size", "1", "X-Content-Type", "a/b", "X-Etag", "e")), 404, "object PUT into missing container")
	expect(t, n.c("GET", "/AUTH_a/c?limit=10001", nil), 412, "limit above maximum")
	expect(t, n.c("GET", "/AUTH_a/c?delimiter=ab", nil), 412, "two-character delimiter")
	expect(t, n.c("GET", "/AUTH_a/c?marker=%ff", nil), 400, "marker not UTF-8")
	expect(t, n.c("PUT", "/AUTH_a/c/%ff", hdrTS(3, "X-Size", "1", "X-Content-Type", "a/b", "X-Etag", "e")), 400, "object name not UTF-8")
	expect(t, n.c("GET", "/AUTH_a/c", map[string]string{"Accept": "image/png"}), 406, "unacceptable Accept")
	expect(t, n.c("PATCH", "/AUTH_a/c", hdrTS(3)), 405, "unknown verb")
	if r := n.c("HEAD", "/AUTH_a/c", map[string]string{"X-Trans-Id": "tx123"}); r.h.Get("X-Trans-Id") != "tx123" {
		t.Errorf("X-Trans-Id not echoed: %v", r.h)
	}
	// System accounts' containers are created by their first object update.
	expect(t, n.c("PUT", "/.expiring_objects/123/o", hdrTS(3, "X-Size", "0", "X-Content-Type", "text/plain", "X-Etag", "e")), 201, "auto-create")
}

func TestObjectRowCounters(t *testing.T) {
	n := newNode(t)
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(1)), 201, "PUT container")
	counts := func(wantN, wantB string) {
		t.Helper()
		r := n.c("HEAD", "/AUTH_a/c", nil)
		if r.h.Get("X-Container-Object-Count") != wantN || r.h.Get("X-Container-Bytes-Used") != wantB {
			t.Fatalf("counters = %s objects / %s bytes, want %s / %s", r.h.Get("X-Container-Object-Count"),
				r.h.Get("X-Container-Bytes-Used"), wantN, wantB)
		}
	}
	n.putObj("/AUTH_a/c/a", 10, 100, "e1")
	n.putObj("/AUTH_a/c/b", 11, 50, "e2")
	counts("2", "150")
	n.putObj("/AUTH_a/c/a", 12, 30, "e3") // overwrite
	counts("2", "80")
	n.putObj("/AUTH_a/c/a", 12, 30, "e3") // replay: idempotent
	counts("2", "80")
	n.putObj("/AUTH_a/c/a", 11.5, 999, "old") // older than current row: ignored
	counts("2", "80")
	expect(t, n.c("DELETE", "/AUTH_a/c/b", hdrTS(13)), 204, "delete b")
	counts("1", "30")
	expect(t, n.c("DELETE", "/AUTH_a/c/b", hdrTS(13)), 204, "delete b again")
	counts("1", "30")
	// Out of order: the object server's newer PUT arrived before an older
	// DELETE; the delete must lose.
	n.putObj("/AUTH_a/c/d", 20, 7, "e4")
	expect(t, n.c("DELETE", "/AUTH_a/c/d", hdrTS(19)), 204, "older delete")
	counts("2", "37")
	// And a newer delete before an older put: the put must lose.
	expect(t, n.c("DELETE", "/AUTH_a/c/e", hdrTS(30)), 204, "delete before put")
	n.putObj("/AUTH_a/c/e", 29, 1000, "e5")
	counts("2", "37")
	got := jsonList(t, n.c("GET", "/AUTH_a/c?format=json", nil))
	if len(got) != 2 || got[0].Name != "a" || got[0].Hash != "e3" || got[0].Bytes != 30 || got[1].Name != "d" {
		t.Fatalf("listing after updates = %+v", got)
	}
	if got[0].LastModified != TimestampFromTime(unixSec(12)).ISO() || !strings.HasSuffix(got[0].LastModified, ".000000") {
		t.Errorf("last_modified = %q", got[0].LastModified)
	}
}

func TestContainerReopenDurable(t *testing.T) {
	root := t.TempDir()
	n := newNodeAt(t, root)
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(1, "X-Container-Meta-K", "v")), 201, "PUT container")
	for i := 0; i < 50; i++ {
		n.putObj("/AUTH_a/c/obj"+itoa(i), 2+float64(i), i, "e")
	}
	expect(t, n.c("DELETE", "/AUTH_a/c/obj7", hdrTS(100)), 204, "delete obj7")
	n.close()

	m := newNodeAt(t, root)
	r := m.c("HEAD", "/AUTH_a/c", nil)
	expect(t, r, 204, "HEAD after reopen")
	if r.h.Get("X-Container-Object-Count") != "49" || r.h.Get("X-Container-Bytes-Used") != itoa(49*50/2-7) || r.h.Get("X-Container-Meta-K") != "v" {
		t.Fatalf("after reopen: %v", r.h)
	}
	if got := jsonList(t, m.c("GET", "/AUTH_a/c?format=json", nil)); len(got) != 49 {
		t.Fatalf("after reopen %d objects listed, want 49", len(got))
	}
	if got := http.StatusText(r.code); got == "" {
		t.Fatal("no status")
	}
}

func TestHandleCacheBounded(t *testing.T) {
	n := newNode(t) // cache bound 16
	for i := 0; i < 40; i++ {
		expect(t, n.c("PUT", "/AUTH_a/c"+itoa(i), hdrTS(1)), 201, "PUT container")
		n.putObj("/AUTH_a/c"+itoa(i)+"/o", 2, 1, "e")
	}
	if got := n.store.cache.len(); got > 16 {
		t.Fatalf("%d handles open, bound is 16", got)
	}
	// Evicted databases reopen on demand with their data.
	for i := 0; i < 40; i++ {
		r := n.c("HEAD", "/AUTH_a/c"+itoa(i), nil)
		if r.h.Get("X-Container-Object-Count") != "1" {
			t.Fatalf("c%d after eviction: %d %v", i, r.code, r.h)
		}
	}
}

// A DELETE no newer than the container's PUT cannot delete it: Swift's
// container server answers 409 and the container stays listed.
func TestContainerDeleteOlderThanPutConflicts(t *testing.T) {
	n := newNode(t)
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(200)), 201, "PUT container")
	expect(t, n.c("DELETE", "/AUTH_a/c", hdrTS(150)), 409, "DELETE older than PUT")
	expect(t, n.c("DELETE", "/AUTH_a/c", hdrTS(200)), 409, "DELETE as old as PUT")
	r := n.c("HEAD", "/AUTH_a/c", nil)
	expect(t, r, 204, "HEAD after stale DELETEs")
	if got := r.h.Get("X-Backend-Status-Changed-At"); got == ts(150) {
		t.Errorf("stale DELETE changed status_changed_at to %q", got)
	}
	expect(t, n.c("DELETE", "/AUTH_a/c", hdrTS(201)), 204, "newer DELETE")
}

// A POST's new content type reaches the listing as an update of the same
// data with a content-type timestamp: the newest content type wins for
// that data, a newer PUT wins over both, and the counters do not move.
func TestContentTypeFromPost(t *testing.T) {
	n := newNode(t)
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(1)), 201, "PUT container")
	ctypeUpdate := func(data, ctypeAt float64, ct string) resp {
		return n.c("PUT", "/AUTH_a/c/o", hdrTS(data, "X-Size", "5", "X-Content-Type", ct, "X-Etag", "e1",
			"X-Content-Type-Timestamp", ts(ctypeAt)))
	}
	listed := func(wantType, wantHash string) {
		t.Helper()
		got := jsonList(t, n.c("GET", "/AUTH_a/c?format=json", nil))
		if len(got) != 1 || got[0].ContentType != wantType || got[0].Hash != wantHash {
			t.Fatalf("listing = %+v, want one object of type %s, hash %s", got, wantType, wantHash)
		}
		r := n.c("HEAD", "/AUTH_a/c", nil)
		if r.h.Get("X-Container-Object-Count") != "1" || r.h.Get("X-Container-Bytes-Used") != "5" {
			t.Fatalf("counters %s / %s, want 1 / 5", r.h.Get("X-Container-Object-Count"), r.h.Get("X-Container-Bytes-Used"))
		}
	}
	n.putObj("/AUTH_a/c/o", 10, 5, "e1")
	listed("application/octet-stream", "e1")
	expect(t, ctypeUpdate(10, 12, "text/plain"), 201, "POST's content type")
	listed("text/plain", "e1")
	expect(t, ctypeUpdate(10, 11, "text/older"), 201, "an older POST's content type, late")
	listed("text/plain", "e1")
	expect(t, ctypeUpdate(9, 13, "text/other-data"), 201, "a content type for older data")
	listed("text/plain", "e1")
	n.putObj("/AUTH_a/c/o", 14, 5, "e2")
	listed("application/octet-stream", "e2")
	expect(t, n.c("PUT", "/AUTH_a/c/o", hdrTS(14, "X-Size", "5", "X-Content-Type", "a/b", "X-Etag", "e2",
		"X-Content-Type-Timestamp", "yesterday")), 400, "a bad content-type timestamp")
}
