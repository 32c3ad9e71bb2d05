package objserver

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAuditorQuarantinesAndReplicationRestores(t *testing.T) {
	a := newTestNode(t, []string{"sdb1"}, nil)
	b := newTestNode(t, []string{"sdb1"}, nil)
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for _, n := range []*testNode{a, b} {
		expectStatus(t, n.put(objPath, "1700000000.1", body, nil), 201, "PUT")
		expectStatus(t, n.put("/sdb1/7/AUTH_a/c/healthy", "1700000000.1", []byte("fine"), nil), 201, "PUT healthy")
	}
	hash := testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg")
	data := filepath.Join(a.store.hashDir("sdb1", "7", hash), "1700000000.10000.data")
	good, _ := os.ReadFile(data)
	aud := NewAuditor(a.store)
	if st, err := aud.RunOnce(t.Context()); err != nil || st.Checked != 2 || st.Quarantined != 0 || st.Bytes < int64(len(body)) {
		t.Fatalf("clean audit: %+v %v", st, err)
	}
	// Flip one bit in the middle of the body, in place.
	f, err := os.OpenFile(data, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	f.ReadAt(one[:], 30000)
	one[0] ^= 0x01
	f.WriteAt(one[:], 30000)
	f.Close()
	// REPLICATE before the audit caches the suffix hash.
	before := a.do("REPLICATE", "/sdb1/7", nil, nil)
	st, err := aud.RunOnce(t.Context())
	if err != nil || st.Quarantined != 1 {
		t.Fatalf("audit: %+v %v", st, err)
	}
	q := filepath.Join(a.store.quarantine("sdb1"), hash, "1700000000.10000.data")
	if _, err := os.Stat(q); err != nil {
		t.Fatalf("corrupt file not in quarantine: %v", err)
	}
	expectStatus(t, a.do("GET", objPath, nil, nil), 404, "GET quarantined")
	if after := a.do("REPLICATE", "/sdb1/7", nil, nil); string(after.body) == string(before.body) {
		t.Fatal("suffix hash not invalidated by quarantine")
	}
	// The peer pushes its good copy back.
	rb := NewReplicator(b.store, staticPeers{nodes: []Node{a.node("sdb1")}, primary: true})
	if st, err := rb.RunOnce(t.Context()); err != nil || st.FilesPushed != 1 {
		t.Fatalf("replicate: %+v %v", st, err)
	}
	restored, err := os.ReadFile(data)
	if err != nil || !bytes.Equal(restored, good) {
		t.Fatalf("restored file differs from the original (%v)", err)
	}
	g := a.do("GET", objPath, nil, nil)
	if g.status != 200 || !bytes.Equal(g.body, body) || g.header.Get("X-Timestamp") != "1700000000.10000" {
		t.Fatalf("GET restored: %d, %d bytes", g.status, len(g.body))
	}
	r := a.do("GET", "/recon/quarantined", nil, nil)
	if string(r.body) != `{"objects":1}` {
		t.Fatalf("recon quarantined = %s", r.body)
	}
}

func TestAuditorCatchesTruncationAndBadMetadata(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	damage := map[string]func(path string){
		"truncated": func(p string) {
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-3)
		},
		"zeroed": func(p string) { os.WriteFile(p, make([]byte, 64), 0o644) },
	}
	for name, hurt := range damage {
		path := "/sdb1/7/AUTH_a/c/" + name
		expectStatus(t, n.put(path, "1700000000.1", []byte("some bytes for "+name), nil), 201, "PUT")
		hurt(filepath.Join(n.hashDirOf("sdb1", "7", "AUTH_a", "c", name), "1700000000.10000.data"))
	}
	st, err := NewAuditor(n.store).RunOnce(t.Context())
	if err != nil || st.Quarantined != 2 {
		t.Fatalf("audit: %+v %v", st, err)
	}
}

func TestCrashLeftoversAreIgnoredAndCleaned(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, n.put(objPath, "1700000000.1", []byte("committed"), nil), 201, "PUT")
	hashes := n.do("REPLICATE", "/sdb1/7", nil, nil)
	// A crash mid-upload leaves a partial temp file; one in progress is young.
	tmp := n.store.tmpDir("sdb1")
	if err := os.MkdirAll(tmp, 0o755); err != nil { // small writes need none
		t.Fatal(err)
	}
	old := filepath.Join(tmp, "tmp-crashed")
	young := filepath.Join(tmp, "tmp-uploading")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("half an obj"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Also a crash mid-cleanup: a superseded version still next to the new one.
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	stale, _ := os.ReadFile(filepath.Join(dir, "1700000000.10000.data"))
	os.WriteFile(filepath.Join(dir, "1699999999.00000.data"), stale, 0o644)
	g := n.do("GET", objPath, nil, nil)
	if g.status != 200 || string(g.body) != "committed" {
		t.Fatalf("GET with leftovers: %d %q", g.status, g.body)
	}
	if got := joinNames(filesIn(t, dir)); got != "1700000000.10000.data" {
		t.Fatalf("superseded version not cleaned on read: %q", got)
	}
	if r := n.do("REPLICATE", "/sdb1/7/"+suffixOf(testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg")), nil, nil); string(r.body) != string(hashes.body) {
		t.Fatalf("leftovers changed the suffix hash: %s vs %s", r.body, hashes.body)
	}
	past := n.clock.Now().Add(-2 * time.Hour)
	os.Chtimes(old, past, past)
	os.Chtimes(young, n.clock.Now(), n.clock.Now())
	st, err := NewReplicator(n.store, staticPeers{primary: true}).RunOnce(t.Context())
	if err != nil || st.TmpRemoved != 1 {
		t.Fatalf("replicator pass: %+v %v", st, err)
	}
	if got := joinNames(filesIn(t, tmp)); got != "tmp-uploading" {
		t.Fatalf("tmp holds %q, want only the young upload", got)
	}
}

func TestTombstonesReclaimed(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": "1700000000.1"}, nil), 404, "DELETE")
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	if got := joinNames(filesIn(t, dir)); got != "1700000000.10000.ts" {
		t.Fatalf("tombstone missing: %q", got)
	}
	n.clock.Advance(8 * 24 * time.Hour)
	n.do("REPLICATE", "/sdb1/7", nil, nil)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("reclaimed tombstone's directory still there: %v", err)
	}
}

func TestReadsQuarantineCorruptObjects(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	for _, name := range []string{"flipped", "zeroed", "ranged"} {
		expectStatus(t, n.put("/sdb1/7/AUTH_a/c/"+name, "1700000000.1", []byte("the original body of "+name), nil), 201, "PUT")
		p := filepath.Join(n.hashDirOf("sdb1", "7", "AUTH_a", "c", name), "1700000000.10000.data")
		if name == "zeroed" {
			os.WriteFile(p, make([]byte, 40), 0o644)
			continue
		}
		f, _ := os.OpenFile(p, os.O_RDWR, 0)
		f.WriteAt([]byte("T"), 0)
		f.Close()
	}
	// Unreadable metadata: 404 at once, and quarantined.
	expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/c/zeroed", nil, nil), 404, "GET zeroed")
	// A small object is checked before a byte is sent (verify_small.go):
	// a body that does not match the ETag is never served, not even a
	// range of it; it is quarantined and answered 404, so the proxy reads
	// another replica.
	expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/c/flipped", nil, nil), 404, "GET flipped")
	expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/c/ranged", map[string]string{"Range": "bytes=0-3"}, nil), 404, "GET ranged")
	expectStatus(t, n.do("HEAD", "/sdb1/7/AUTH_a/c/ranged", nil, nil), 404, "HEAD after the check")
	if got := filesIn(t, n.store.quarantine("sdb1")); len(got) != 3 {
		t.Fatalf("quarantine holds %v, want 3 objects", got)
	}
}

func TestAuditorRateLimit(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	for i := range 4 {
		expectStatus(t, n.put("/sdb1/7/AUTH_a/c/o"+strconvI(int64(i)), "1700000000.1", bytes.Repeat([]byte("r"), 64<<10), nil), 201, "PUT")
	}
	a := NewAuditor(n.store)
	a.BytesPerSecond = 1 << 20 // 256 KiB of objects: at least 0.25 s
	start := time.Now()
	st, err := a.RunOnce(t.Context())
	if err != nil || st.Checked != 4 {
		t.Fatalf("audit: %+v %v", st, err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("audit of %d bytes at 1 MiB/s took only %v", st.Bytes, el)
	}
}
