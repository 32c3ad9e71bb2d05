package objserver

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recordingFS performs every operation on the real file system and
// records it, so the test can check the durability order.
type recordingFS struct {
	root string
	mu   sync.Mutex
	ops  []string
}

func (r *recordingFS) add(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.ops); n > 0 && r.ops[n-1] == op && strings.HasPrefix(op, "write") {
		return // one entry per run of writes
	}
	r.ops = append(r.ops, op)
}

func (r *recordingFS) rel(p string) string {
	if strings.HasPrefix(filepath.Base(p), "tmp-") {
		return "TMP"
	}
	s, _ := filepath.Rel(r.root, p)
	return s
}

func (r *recordingFS) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ops
	r.ops = nil
	return out
}

type recordingFile struct {
	tempFile
	r *recordingFS
}

func (r *recordingFS) CreateTemp(dir string) (tempFile, error) {
	f, err := osFS{}.CreateTemp(dir)
	if err != nil {
		return nil, err
	}
	r.add("create " + r.rel(f.Name()))
	return recordingFile{f, r}, nil
}

func (r *recordingFS) Rename(from, to string) error {
	r.add("rename " + r.rel(from) + " " + r.rel(to))
	return osFS{}.Rename(from, to)
}

func (r *recordingFS) SyncDir(dir string) error {
	r.add("fsyncdir " + r.rel(dir))
	return osFS{}.SyncDir(dir)
}

func (r *recordingFS) CreateUnnamed(dir string) (tempFile, error) {
	f, err := osFS{}.CreateUnnamed(dir)
	if err != nil {
		return nil, err
	}
	r.add("create-unnamed " + r.rel(dir))
	return recordingFile{f, r}, nil
}

func (r *recordingFS) Link(f tempFile, to string) error {
	r.add("link " + r.rel(f.Name()) + " " + r.rel(to))
	return osFS{}.Link(f, to)
}

func (r *recordingFS) LinkPath(from, to string) error {
	r.add("link " + r.rel(from) + " " + r.rel(to))
	return osFS{}.LinkPath(from, to)
}

func (r *recordingFS) Datasync(f *os.File) error {
	r.add("datasync " + r.rel(f.Name()))
	return osFS{}.Datasync(f)
}

func (r *recordingFS) Syncfs(f *os.File) error {
	r.add("syncfs " + r.rel(f.Name()))
	return osFS{}.Syncfs(f)
}

func (f recordingFile) Write(p []byte) (int, error) {
	f.r.add("write TMP")
	return f.tempFile.Write(p)
}

func (f recordingFile) Sync() error {
	f.r.add("fsync TMP")
	return f.tempFile.Sync()
}

func (f recordingFile) Close() error {
	f.r.add("close TMP")
	return f.tempFile.Close()
}

// A file larger than the journal takes is made durable on its own, as in
// Swift's diskfile.
func TestLargeWritesAreFsyncedBeforeRenameAndDirectoryAfter(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	rec := &recordingFS{root: n.root}
	n.store.fs = rec // set before the first request
	hash := testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg")
	obj := filepath.Join("sdb1", "objects", "7")
	hdir := filepath.Join(obj, hash)
	large := bytes.Repeat([]byte("L"), journalMaxFile+1)

	expectStatus(t, n.put(objPath, "1700000000.1", large, nil), 201, "first PUT")
	// New directories: each parent is fsynced once it gains an entry, all
	// before the rename that publishes the object (objects/ itself was
	// made, and sdb1 fsynced, when the store opened: topdir_test.go).
	want := []string{
		"create TMP", "write TMP", "fsync TMP", "close TMP",
		"fsyncdir " + filepath.Join("sdb1", "objects"), "fsyncdir " + obj,
		"rename TMP " + filepath.Join(hdir, "1700000000.10000.data"),
		"fsyncdir " + hdir,
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("first PUT did\n  %q\nwant\n  %q", got, want)
	}
	expectStatus(t, n.put(objPath, "1700000000.2", large, nil), 201, "second PUT")
	want = []string{"create TMP", "write TMP", "fsync TMP", "close TMP",
		"rename TMP " + filepath.Join(hdir, "1700000000.20000.data"), "fsyncdir " + hdir}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("second PUT did\n  %q\nwant\n  %q", got, want)
	}
	// A refused write touches nothing durable.
	expectStatus(t, n.put(objPath, "1700000000.15", large, nil), 409, "late PUT")
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("refused PUT did %q", got)
	}
}

// A small file gets its name only once its journal record is durable, and
// then without an fsync of its own (journal.go).
func TestSmallWritesAreJournaledBeforeRename(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	rec := &recordingFS{root: n.root}
	n.store.fs = rec // set before the first request
	hash := testHashPath.ObjectHash("AUTH_a", "photos", "cats/tabby.jpg")
	hdir := filepath.Join("sdb1", "objects", "7", hash)
	seg := filepath.Join(journalDirName, segmentName(0))

	expectStatus(t, n.put(objPath, "1700000000.1", []byte("durable"), nil), 201, "first PUT")
	// The devices share the root's file system, so the journal is the
	// root's; its first use creates it.
	// The file is made unnamed in its hash directory, then linked there.
	want := []string{"fsyncdir " + journalDirName,
		"create-unnamed " + hdir, "write TMP", "datasync " + seg,
		"link TMP " + filepath.Join(hdir, "1700000000.10000.data"), "close TMP"}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("first PUT did\n  %q\nwant\n  %q", got, want)
	}
	expectStatus(t, n.do("DELETE", objPath, map[string]string{"X-Timestamp": "1700000000.3"}, nil), 204, "DELETE")
	// A tombstone is a link of the device's shared empty file, made once
	// its (empty) record is durable. The device's first tombstone makes
	// that file first, durably.
	tomb, shared := filepath.Join(hdir, "1700000000.30000.ts"), filepath.Join("sdb1", tombstoneFile)
	want = []string{"datasync " + seg, "link " + shared + " " + tomb,
		"create TMP", "fsync TMP", "close TMP", "rename TMP " + shared, "fsyncdir sdb1",
		"link " + shared + " " + tomb}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("DELETE did\n  %q\nwant\n  %q", got, want)
	}
	expectStatus(t, n.put(objPath, "1700000000.25", []byte("late"), nil), 409, "late PUT")
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("refused PUT did %q", got)
	}
	// Each record holds the whole file it stands for.
	b, err := os.ReadFile(filepath.Join(n.root, seg))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	recs, _ := segmentRecords(b, 0)
	for _, r := range recs {
		disk, err := os.ReadFile(filepath.Join(n.root, r.dev, r.dir, r.name))
		if r.name == "1700000000.10000.data" {
			// Removed by the DELETE: its bytes still start with the body.
			if !bytes.HasPrefix(r.content, []byte("durable")) {
				t.Fatalf("record of the PUT holds %q", r.content)
			}
		} else if err != nil || !bytes.Equal(disk, r.content) {
			t.Fatalf("record %s differs from the file (%v)", r.name, err)
		}
		names = append(names, filepath.Join(r.dev, r.dir, r.name))
	}
	if want := []string{filepath.Join(hdir, "1700000000.10000.data"), filepath.Join(hdir, "1700000000.30000.ts")}; !slices.Equal(names, want) {
		t.Fatalf("journal holds %q, want %q", names, want)
	}
}
