package objserver

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// mkdirFirst makes what is missing, whatever is there already.
func TestMkdirFirst(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "objects", "7", "ee9", "hash")
	for i := range 2 { // made, then already there
		if made, err := mkdirFirst(deep); err != nil || made != (i == 0) {
			t.Fatalf("call %d: made %v, %v", i, made, err)
		}
		if fi, err := os.Stat(deep); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", deep, err)
		}
	}
	if _, err := mkdirFirst(filepath.Join(root, "objects", "7", "ee9", "other")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := mkdirFirst(filepath.Join(file, "sub", "dir")); err == nil {
		t.Fatal("made a directory under a file")
	}
}

// A PUT that made its hash directory reads it all the same when another
// writer has held the directory's lock since: here a newer PUT of the same
// object got in between, and the older one is refused, not stored beside it.
func TestPutInNewDirSeesWriterInBetween(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	mu := n.store.objLock(n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg"))
	var first atomic.Bool
	newer := make(chan resp, 1)
	n.store.afterMkdir = func() {
		if !first.CompareAndSwap(false, true) {
			return // the newer PUT's own
		}
		// The newer PUT takes the lock first; it publishes once this
		// one, waiting for the lock, lets the journal flush.
		go func() { newer <- n.put(objPath, "1700000000.00002", []byte("newer"), nil) }()
		for deadline := time.Now().Add(5 * time.Second); mu.turns.Load()%2 == 0; {
			if time.Now().After(deadline) {
				t.Error("the newer PUT never took the lock")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	expectStatus(t, n.put(objPath, "1700000000.00001", []byte("older"), nil), 409, "older PUT")
	expectStatus(t, <-newer, 201, "newer PUT")
	if g := n.do("GET", objPath, nil, nil); g.status != 200 || string(g.body) != "newer" {
		t.Fatalf("GET: %d %q", g.status, g.body)
	}
	// Alone in its new directory, a PUT stores its object.
	path2 := "/sdb1/7/AUTH_a/photos/cats/alone.jpg"
	expectStatus(t, n.put(path2, "1700000000.00001", []byte("alone"), nil), 201, "PUT alone")
	if g := n.do("GET", path2, nil, nil); g.status != 200 || string(g.body) != "alone" {
		t.Fatalf("GET alone: %d %q", g.status, g.body)
	}
}

// The turns of an object lock are odd while it is held.
func TestObjMutexTurns(t *testing.T) {
	var m objMutex
	m.Lock()
	if m.turns.Load() != 1 {
		t.Fatalf("held: %d turns", m.turns.Load())
	}
	m.Unlock()
	if !m.TryLock() || m.turns.Load() != 3 {
		t.Fatalf("TryLock: %d turns", m.turns.Load())
	}
	m.Unlock()
	if m.turns.Load() != 4 {
		t.Fatalf("released: %d turns", m.turns.Load())
	}
}
