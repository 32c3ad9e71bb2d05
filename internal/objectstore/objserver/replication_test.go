package objserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// staticPeers is a one-partition ring: the same peers for every partition.
type staticPeers struct {
	nodes   []Node
	primary bool
}

func (p staticPeers) Peers(string, int) ([]Node, bool) { return p.nodes, p.primary }

func (n *testNode) node(dev string) Node { return Node{URL: n.srv.URL, Device: dev} }

// snapshotDir maps every file under dir (relative path) to its bytes.
func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "hashes.") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

func sameTree(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(b[k], v) {
			return false
		}
	}
	return true
}

func TestReplicationRestoresMissingReplica(t *testing.T) {
	a := newTestNode(t, []string{"sdb1"}, nil)
	b := newTestNode(t, []string{"sdb1"}, nil)
	// The proxy writes every replica with the same timestamps.
	for _, n := range []*testNode{a, b} {
		expectStatus(t, n.put("/sdb1/7/AUTH_a/c/plain", "1700000000.1", []byte("plain body"), map[string]string{"X-Object-Meta-K": "v"}), 201, "PUT plain")
		expectStatus(t, n.put("/sdb1/7/AUTH_a/c/posted", "1700000000.1", bytes.Repeat([]byte("p"), 1<<20), nil), 201, "PUT posted")
		expectStatus(t, n.do("POST", "/sdb1/7/AUTH_a/c/posted", map[string]string{"X-Timestamp": "1700000000.2", "X-Object-Meta-New": "1"}, nil), 202, "POST")
		expectStatus(t, n.put("/sdb1/7/AUTH_a/c/gone", "1700000000.1", []byte("x"), nil), 201, "PUT gone")
		expectStatus(t, n.do("DELETE", "/sdb1/7/AUTH_a/c/gone", map[string]string{"X-Timestamp": "1700000000.3"}, nil), 204, "DELETE gone")
	}
	// Written while b was down: only a has it.
	expectStatus(t, a.put("/sdb1/7/AUTH_a/c/only-a", "1700000000.4", []byte("late"), nil), 201, "PUT only-a")
	want := snapshotDir(t, a.store.partDir("sdb1", "7"))
	// b loses its whole partition (a replaced disk).
	if err := os.RemoveAll(b.store.partDir("sdb1", "7")); err != nil {
		t.Fatal(err)
	}
	ra := NewReplicator(a.store, staticPeers{nodes: []Node{b.node("sdb1")}, primary: true})
	st, err := ra.RunOnce(t.Context())
	if err != nil || st.Failures != 0 {
		t.Fatalf("replicate: %+v %v", st, err)
	}
	if st.FilesPushed != 5 { // plain.data, posted.data+.meta, gone.ts, only-a.data
		t.Fatalf("pushed %d files, want 5 (%+v)", st.FilesPushed, st)
	}
	if got := snapshotDir(t, b.store.partDir("sdb1", "7")); !sameTree(got, want) {
		t.Fatalf("b's partition differs from a's after replication:\n got %d files\nwant %d files", len(got), len(want))
	}
	g := b.do("GET", "/sdb1/7/AUTH_a/c/posted", nil, nil)
	if g.status != 200 || len(g.body) != 1<<20 || g.header.Get("X-Timestamp") != "1700000000.20000" || g.header.Get("X-Object-Meta-New") != "1" {
		t.Fatalf("restored object: %d, %d bytes, %v", g.status, len(g.body), g.header)
	}
	expectStatus(t, b.do("GET", "/sdb1/7/AUTH_a/c/gone", nil, nil), 404, "restored tombstone")
	// In sync now: a second pass compares hashes and pushes nothing.
	st, err = ra.RunOnce(t.Context())
	if err != nil || st.FilesPushed != 0 || st.SuffixesSynced != 0 {
		t.Fatalf("second pass: %+v %v", st, err)
	}
}

func TestReplicationKeepsNewerVersion(t *testing.T) {
	a := newTestNode(t, []string{"sdb1"}, nil)
	b := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, a.put("/sdb1/3/AUTH_a/c/o", "1700000000.1", []byte("old"), nil), 201, "PUT old on a")
	expectStatus(t, b.put("/sdb1/3/AUTH_a/c/o", "1700000000.2", []byte("new"), nil), 201, "PUT new on b")
	ra := NewReplicator(a.store, staticPeers{nodes: []Node{b.node("sdb1")}, primary: true})
	rb := NewReplicator(b.store, staticPeers{nodes: []Node{a.node("sdb1")}, primary: true})
	if st, err := ra.RunOnce(t.Context()); err != nil || st.Failures != 0 || st.FilesPushed != 0 {
		t.Fatalf("a -> b: %+v %v", st, err)
	}
	if g := b.do("GET", "/sdb1/3/AUTH_a/c/o", nil, nil); string(g.body) != "new" {
		t.Fatalf("b lost its newer version: %q", g.body)
	}
	if st, err := rb.RunOnce(t.Context()); err != nil || st.FilesPushed != 1 {
		t.Fatalf("b -> a: %+v %v", st, err)
	}
	if g := a.do("GET", "/sdb1/3/AUTH_a/c/o", nil, nil); string(g.body) != "new" {
		t.Fatalf("a did not get the newer version: %q", g.body)
	}
	if got := joinNames(filesIn(t, a.hashDirOf("sdb1", "3", "AUTH_a", "c", "o"))); got != "1700000000.20000.data" {
		t.Fatalf("a still holds %q", got)
	}
}

func TestHandoffPartitionRemovedOncePrimariesHaveIt(t *testing.T) {
	handoff := newTestNode(t, []string{"sdb1"}, nil)
	p1 := newTestNode(t, []string{"sdb1"}, nil)
	p2 := newTestNode(t, []string{"sdc1"}, nil)
	expectStatus(t, handoff.put("/sdb1/9/AUTH_a/c/o1", "1700000000.1", []byte("one"), nil), 201, "PUT o1")
	expectStatus(t, handoff.put("/sdb1/9/AUTH_a/c/o2", "1700000000.1", []byte("two"), nil), 201, "PUT o2")
	// With one primary unreachable, the handoff keeps its copy.
	dead := Node{URL: "http://127.0.0.1:1", Device: "sdb1"}
	r := NewReplicator(handoff.store, staticPeers{nodes: []Node{p1.node("sdb1"), dead}})
	st, err := r.RunOnce(t.Context())
	if err != nil || st.Failures != 1 || st.HandoffsRemoved != 0 {
		t.Fatalf("with a dead primary: %+v %v", st, err)
	}
	if _, err := os.Stat(handoff.store.partDir("sdb1", "9")); err != nil {
		t.Fatalf("handoff partition removed while a primary lacked it: %v", err)
	}
	r = NewReplicator(handoff.store, staticPeers{nodes: []Node{p1.node("sdb1"), p2.node("sdc1")}})
	st, err = r.RunOnce(t.Context())
	if err != nil || st.Failures != 0 || st.HandoffsRemoved != 1 {
		t.Fatalf("handoff pass: %+v %v", st, err)
	}
	if _, err := os.Stat(handoff.store.partDir("sdb1", "9")); !os.IsNotExist(err) {
		t.Fatalf("handoff partition still there: %v", err)
	}
	for _, p := range []struct {
		n   *testNode
		dev string
	}{{p1, "sdb1"}, {p2, "sdc1"}} {
		if g := p.n.do("GET", "/"+p.dev+"/9/AUTH_a/c/o2", nil, nil); g.status != 200 || string(g.body) != "two" {
			t.Fatalf("primary %s: %d %q", p.dev, g.status, g.body)
		}
	}
}

func TestReplicateVerbAndSuffixHashCache(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	get := func(path string) map[string]string {
		t.Helper()
		r := n.do("REPLICATE", path, nil, nil)
		expectStatus(t, r, 200, "REPLICATE "+path)
		var m map[string]string
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := get("/sdb1/7"); len(m) != 0 {
		t.Fatalf("empty partition hashes = %v", m)
	}
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("x"), nil), 201, "PUT")
	sfx := suffixOf(testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg"))
	h1 := get("/sdb1/7")
	if len(h1) != 1 || len(h1[sfx]) != 32 {
		t.Fatalf("hashes after PUT = %v (suffix %s)", h1, sfx)
	}
	// A POST changes the suffix's file names, so its hash.
	expectStatus(t, n.do("POST", objPath, map[string]string{"X-Timestamp": "1700000000.2"}, nil), 202, "POST")
	h2 := get("/sdb1/7")
	if h2[sfx] == h1[sfx] {
		t.Fatal("suffix hash unchanged after POST: invalidation lost")
	}
	// The cache is used when nothing was invalidated...
	pdir := n.store.partDir("sdb1", "7")
	stale, _ := json.Marshal(map[string]string{sfx: "stale"})
	if err := os.WriteFile(filepath.Join(pdir, hashesFile), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if m := get("/sdb1/7"); m[sfx] != "stale" {
		t.Fatalf("cached hash not used: %v", m)
	}
	// ...and REPLICATE with suffixes recomputes them.
	if m := get("/sdb1/7/" + sfx); m[sfx] != h2[sfx] {
		t.Fatalf("recalculated hash = %v, want %s", m, h2[sfx])
	}
	for _, bad := range []string{"/sdb1/7/xyz", "/sdb1/7/abcd", "/sdb1/notapart"} {
		expectStatus(t, n.do("REPLICATE", bad, nil, nil), 400, "REPLICATE "+bad)
	}
}

func TestSyncRejectsCorruptOrMisplacedFiles(t *testing.T) {
	a := newTestNode(t, []string{"sdb1"}, nil)
	b := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, a.put(objPath, "1700000000.1", []byte("good body"), nil), 201, "PUT")
	hash := testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg")
	name := "1700000000.10000.data"
	good, err := os.ReadFile(filepath.Join(a.store.hashDir("sdb1", "7", hash), name))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[0] ^= 0xff
	other := testHashPath.ObjectHash("AUTH_a", "photos", "other")
	cases := []struct {
		path   string
		body   []byte
		status int
	}{
		{"/sdb1/7/" + hash + "/" + name, bad, 422},
		{"/sdb1/7/" + other + "/" + name, good, 422},
		{"/sdb1/7/" + hash + "/1700000000.20000.data", good, 422},
		{"/sdb1/7/" + hash + "/evil.sh", good, 400},
		{"/sdb1/7/" + hash + "/" + name, good, 201},
		{"/sdb1/7/" + hash + "/" + name, good, 409},
	}
	for _, c := range cases {
		r := b.do("SYNC", c.path, nil, c.body)
		if r.status != c.status {
			t.Errorf("SYNC %s: %d, want %d (%s)", c.path, r.status, c.status, r.body)
		}
	}
	if g := b.do("GET", objPath, nil, nil); g.status != http.StatusOK || string(g.body) != "good body" {
		t.Fatalf("after SYNC: %d %q", g.status, g.body)
	}
	if got := filesIn(t, b.store.hashDir("sdb1", "7", other)); len(got) != 0 {
		t.Fatalf("misplaced file stored: %v", got)
	}
}

// A write that lands in a handoff partition while the replicator is
// dropping it (the proxy picked this handoff for a new object) must
// survive: only files the primaries were given may be removed.
func TestHandoffDropKeepsWriteThatRacesIt(t *testing.T) {
	handoff := newTestNode(t, []string{"sdb1"}, nil)
	p1 := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, handoff.put("/sdb1/9/AUTH_a/c/o1", "1700000000.1", []byte("one"), nil), 201, "PUT o1")
	handoff.store.beforeHandoffDrop = func() {
		handoff.store.beforeHandoffDrop = nil
		expectStatus(t, handoff.put("/sdb1/9/AUTH_a/c/late", "1700000000.2", []byte("late"), nil), 201, "PUT racing the drop")
	}
	r := NewReplicator(handoff.store, staticPeers{nodes: []Node{p1.node("sdb1")}})
	if st, err := r.RunOnce(t.Context()); err != nil || st.Failures != 0 {
		t.Fatalf("handoff pass: %+v %v", st, err)
	}
	if g := handoff.do("GET", "/sdb1/9/AUTH_a/c/late", nil, nil); g.status != 200 || string(g.body) != "late" {
		t.Fatalf("write that raced the handoff drop was lost: %d %q", g.status, g.body)
	}
	if g := handoff.do("GET", "/sdb1/9/AUTH_a/c/o1", nil, nil); g.status != 404 {
		t.Fatalf("o1, which the primary has, is still on the handoff: %d", g.status)
	}
	// The next pass hands the late object over and drops the partition.
	st, err := r.RunOnce(t.Context())
	if err != nil || st.Failures != 0 || st.HandoffsRemoved != 1 {
		t.Fatalf("second pass: %+v %v", st, err)
	}
	if g := p1.do("GET", "/sdb1/9/AUTH_a/c/late", nil, nil); g.status != 200 || string(g.body) != "late" {
		t.Fatalf("primary lacks the late object: %d %q", g.status, g.body)
	}
	if _, err := os.Stat(handoff.store.partDir("sdb1", "9")); !os.IsNotExist(err) {
		t.Fatalf("handoff partition still there: %v", err)
	}
}

// The invalid suffixes are kept in memory, so a restart loses them while
// the objects they were for survive. A restarted store must not trust a
// cache written before it started, or the two replicas would agree on a
// stale hash forever and never exchange the object.
func TestSuffixHashCacheNotTrustedAcrossRestart(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/o", "1700000000.1", []byte("x"), nil), 201, "PUT")
	before, err := n.store.suffixHashes("sdb1", "7", nil)
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/o", "1700000000.2", []byte("y"), nil), 201, "second PUT")
	// The crash: the new .data is on disk, its invalidation was in memory.
	restarted, err := NewStore(n.store.cfg)
	if err != nil {
		t.Fatal(err)
	}
	after, err := restarted.suffixHashes("sdb1", "7", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sameHashes(before, after) {
		t.Fatalf("restarted store served the stale cached hashes %v", after)
	}
}
