package objserver

import (
	"os"
	"path/filepath"
	"testing"
)

// An obsolete file leaves its hash directory by a rename into trash/ and
// is unlinked by the background goroutine, or at once when its queue is
// full; tombstones are unlinked at once.
func TestObsoleteFilesGoThroughTheTrash(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	s := n.store
	s.stopTrash()
	// An unlinker that never runs: what dispose queues stays in trash/.
	s.trash = &trash{ch: make(chan string, 1), prefix: "test-"}
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("first"), nil), 201, "PUT")
	expectStatus(t, n.put(objPath, "1700000000.2", []byte("second"), nil), 201, "PUT over it")
	trashed := filesIn(t, s.trashDir("sdb1"))
	if len(trashed) != 1 || len(s.trash.ch) != 1 {
		t.Fatalf("trash holds %q, queue %d; want the first version, queued", trashed, len(s.trash.ch))
	}
	if b, _ := os.ReadFile(filepath.Join(s.trashDir("sdb1"), trashed[0])); string(b[:5]) != "first" {
		t.Fatalf("trash holds %q, not the replaced version", b)
	}
	// The queue is full: the next obsolete file is unlinked at once.
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": "1700000000.3"}, nil), 204, "DELETE")
	if got := filesIn(t, s.trashDir("sdb1")); len(got) != 1 {
		t.Fatalf("trash holds %q after a full queue", got)
	}
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	if got := joinNames(filesIn(t, dir)); got != "1700000000.30000.ts" {
		t.Fatalf("hash dir holds %q", got)
	}
	// A tombstone replaced by a PUT is unlinked, not moved.
	<-s.trash.ch
	expectStatus(t, n.put(objPath, "1700000000.4", []byte("back"), nil), 201, "PUT after DELETE")
	if len(s.trash.ch) != 0 {
		t.Fatal("a tombstone went through the trash")
	}
}

// What a crash left in trash/ goes with the replicator's tmp pass; what
// this store has queued stays for its unlinker.
func TestReplicatorEmptiesTrashLeftByACrash(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	s := n.store
	if err := os.MkdirAll(s.trashDir("sdb1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"left-1", "left-2", s.trash.prefix + "queued"} {
		if err := os.WriteFile(filepath.Join(s.trashDir("sdb1"), name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := NewReplicator(s, staticPeers{primary: true}).RunOnce(t.Context())
	if err != nil || st.TmpRemoved != 2 {
		t.Fatalf("replicator pass: %+v %v", st, err)
	}
	if got := joinNames(filesIn(t, s.trashDir("sdb1"))); got != s.trash.prefix+"queued" {
		t.Fatalf("trash holds %q", got)
	}
}

// A DELETE or an overwriting PUT removes what it replaces from what its
// own scan found, without reading the directory again: the version before
// and an older .meta go, a .meta newer than the new file stays (as a scan
// would leave it).
func TestWritesRemoveWhatTheyReplace(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	const p = "/sdb1/7/AUTH_a/c/o"
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "c", "o")
	expectStatus(t, n.put(p, "1700000000.10000", []byte("one"), nil), 201, "PUT")
	expectStatus(t, n.do("POST", p, map[string]string{"X-Timestamp": "1700000000.30000"}, nil), 202, "POST")
	// A delayed DELETE, older than the POST.
	expectStatus(t, n.do("DELETE", p, map[string]string{"X-Timestamp": "1700000000.20000"}, nil), 204, "DELETE")
	if got := joinNames(filesIn(t, dir)); got != "1700000000.20000.ts,1700000000.30000.meta" {
		t.Fatalf("after the DELETE %s holds %s", dir, got)
	}
	expectStatus(t, n.put(p, "1700000000.40000", []byte("two"), nil), 201, "PUT again")
	if got := joinNames(filesIn(t, dir)); got != "1700000000.40000.data" {
		t.Fatalf("after the second PUT %s holds %s", dir, got)
	}
	expectStatus(t, n.do("POST", p, map[string]string{"X-Timestamp": "1700000000.60000"}, nil), 202, "POST")
	expectStatus(t, n.put(p, "1700000000.50000", []byte("three"), nil), 201, "PUT between")
	if got := joinNames(filesIn(t, dir)); got != "1700000000.50000.data,1700000000.60000.meta" {
		t.Fatalf("after the third PUT %s holds %s", dir, got)
	}
}
