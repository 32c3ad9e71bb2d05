package objserver

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// linkLimitFS refuses the next links from the shared tombstone as a file
// system does once the file has as many links as it allows.
type linkLimitFS struct {
	osFS
	refuse int
}

func (l *linkLimitFS) LinkPath(from, to string) error {
	if l.refuse > 0 && filepath.Base(from) == tombstoneFile {
		l.refuse--
		return &os.LinkError{Op: "link", Old: from, New: to, Err: syscall.EMLINK}
	}
	return l.osFS.LinkPath(from, to)
}

// tombstoneOf is the one tombstone in o's hash directory on sdb1.
func (n *testNode) tombstoneOf(o string) os.FileInfo {
	n.t.Helper()
	dir := n.hashDirOf("sdb1", "7", "AUTH_a", "c", o)
	names := filesIn(n.t, dir)
	if len(names) != 1 || filepath.Ext(names[0]) != extTomb {
		n.t.Fatalf("%s holds %q, want one tombstone", o, names)
	}
	fi, err := os.Stat(filepath.Join(dir, names[0]))
	if err != nil {
		n.t.Fatal(err)
	}
	return fi
}

func sharedTombstone(t *testing.T, n *testNode) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(n.store.tombstonePath("sdb1"))
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// Every tombstone of a device is one empty file under many names, whether
// a DELETE found the object (204) or not (404), or the expirer wrote it.
func TestTombstonesShareOneEmptyFile(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/live", "1700000000.1", []byte("live"), nil), 201, "PUT live")
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/expiring", "1700000000.1", []byte("soon gone"),
		map[string]string{"X-Delete-At": "1700000100"}), 201, "PUT expiring")
	expectStatus(t, n.do("DELETE", "/sdb1/7/AUTH_a/c/live", map[string]string{"X-Timestamp": "1700000000.2"}, nil), 204, "DELETE live")
	expectStatus(t, n.do("DELETE", "/sdb1/7/AUTH_a/c/never", map[string]string{"X-Timestamp": "1700000000.2"}, nil), 404, "DELETE never")
	n.clock.Advance(200 * 1e9)
	if st, err := NewExpirer(n.store).RunOnce(t.Context()); err != nil || st.Expired != 1 {
		t.Fatalf("expirer: %+v %v", st, err)
	}
	shared := sharedTombstone(t, n)
	for _, o := range []string{"live", "never", "expiring"} {
		fi := n.tombstoneOf(o)
		if !os.SameFile(fi, shared) || fi.Size() != 0 {
			t.Fatalf("tombstone of %s is not the shared empty file (size %d)", o, fi.Size())
		}
		expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/c/"+o, nil, nil), 404, "GET "+o)
	}
	if nlink := shared.Sys().(*syscall.Stat_t).Nlink; nlink != 4 {
		t.Fatalf("shared tombstone has %d links, want 4", nlink)
	}
	// The auditor has nothing to hold against them.
	if st, err := NewAuditor(n.store).RunOnce(t.Context()); err != nil || st.Quarantined != 0 || st.Checked != 3 {
		t.Fatalf("audit: %+v %v", st, err)
	}
	// A newer PUT replaces a tombstone: one link fewer, the file stays.
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/live", "1700000000.3", []byte("back"), nil), 201, "PUT again")
	if nlink := sharedTombstone(t, n).Sys().(*syscall.Stat_t).Nlink; nlink != 3 {
		t.Fatalf("after the PUT the shared tombstone has %d links, want 3", nlink)
	}
}

// At the file system's link limit, and when the shared file is gone, the
// next tombstone makes a new one; the older tombstones keep theirs.
func TestTombstoneMakesANewSharedFile(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	lim := &linkLimitFS{}
	n.store.fs = lim
	del := func(o, ts string) {
		t.Helper()
		expectStatus(t, n.do("DELETE", "/sdb1/7/AUTH_a/c/"+o, map[string]string{"X-Timestamp": ts}, nil), 404, "DELETE "+o)
	}
	del("first", "1700000000.1")
	first := sharedTombstone(t, n)
	lim.refuse = 1
	del("second", "1700000000.2")
	second := sharedTombstone(t, n)
	if os.SameFile(first, second) {
		t.Fatal("the shared tombstone was not replaced at the link limit")
	}
	if !os.SameFile(n.tombstoneOf("first"), first) || !os.SameFile(n.tombstoneOf("second"), second) {
		t.Fatal("tombstones are not linked to the shared file of their time")
	}
	if err := os.Remove(n.store.tombstonePath("sdb1")); err != nil {
		t.Fatal(err)
	}
	del("third", "1700000000.3")
	if third := sharedTombstone(t, n); !os.SameFile(n.tombstoneOf("third"), third) || third.Size() != 0 {
		t.Fatal("a removed shared tombstone was not made again")
	}
	// A file system that keeps refusing is an error, not a loop.
	lim.refuse = 10
	expectStatus(t, n.do("DELETE", "/sdb1/7/AUTH_a/c/fourth", map[string]string{"X-Timestamp": "1700000000.4"}, nil), 500, "DELETE at a stuck limit")
}

// A tombstone with a footer (written before tombstones were shared) is
// still checked: one whose name does not hash to its directory is
// quarantined.
func TestAuditorChecksTombstonesWithAFooter(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	for _, o := range []string{"right", "wrong"} {
		name := "/AUTH_a/c/" + o
		if o == "wrong" {
			name = "/AUTH_a/c/elsewhere"
		}
		dir := n.hashDirOf("sdb1", "7", "AUTH_a", "c", o)
		footer, err := encodeFooter(Metadata{"name": name, "X-Timestamp": "1700000000.10000"})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "1700000000.10000.ts"), footer, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := NewAuditor(n.store).RunOnce(t.Context()); err != nil || st.Checked != 2 || st.Quarantined != 1 {
		t.Fatalf("audit: %+v %v", st, err)
	}
	if names := filesIn(t, n.hashDirOf("sdb1", "7", "AUTH_a", "c", "right")); joinNames(names) != "1700000000.10000.ts" {
		t.Fatalf("the right tombstone went: %q", names)
	}
}
