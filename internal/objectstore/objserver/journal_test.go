package objserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dataFiles maps every file under the device's objects dir to its bytes.
func dataFiles(t *testing.T, root, dev string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	base := filepath.Join(root, dev, "objects")
	err := filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) == ".pkl" || filepath.Base(p) == invalidFile {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func segments(t *testing.T, root string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, journalDirName, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A crash loses files that were never fsynced: reopening the store writes
// them again from the journal, and only then serves.
func TestJournalReplayRestoresLostFiles(t *testing.T) {
	n := newTestNode(t, []string{"sdb1", "sdc1"}, nil)
	for i := range 5 {
		dev := []string{"sdb1", "sdc1"}[i%2]
		expectStatus(t, n.put(fmt.Sprintf("/%s/7/AUTH_a/c/o%d", dev, i), "1700000000.1", []byte(fmt.Sprintf("body %d", i)), nil), 201, "PUT")
	}
	expectStatus(t, n.do("DELETE", "/sdb1/7/AUTH_a/c/o0", map[string]string{"X-Timestamp": "1700000000.2"}, nil), 204, "DELETE")
	want := dataFiles(t, n.root, "sdb1")
	for p, b := range dataFiles(t, n.root, "sdc1") {
		want[p] = b
	}
	if len(want) != 5 { // o0's tombstone, o1 to o4
		t.Fatalf("%d files before the crash", len(want))
	}
	// The crash: some files never reached the disk, one only partly.
	lost := 0
	for p := range want {
		switch lost {
		case 0, 1:
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := os.Truncate(p, 3); err != nil {
				t.Fatal(err)
			}
		}
		lost++
	}
	if len(segments(t, n.root)) != 1 {
		t.Fatalf("segments before the restart: %v", segments(t, n.root))
	}
	restarted, err := NewStore(n.store.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	got := dataFiles(t, n.root, "sdb1")
	for p, b := range dataFiles(t, n.root, "sdc1") {
		got[p] = b
	}
	if len(got) != len(want) {
		t.Fatalf("after replay %d files, want %d", len(got), len(want))
	}
	for p, b := range want {
		if !bytes.Equal(got[p], b) {
			t.Fatalf("%s differs after replay", p)
		}
	}
	// The replayed files were made durable and the segment dropped.
	if s := segments(t, n.root); len(s) != 0 {
		t.Fatalf("segments after replay: %v", s)
	}
}

// replayFixture is a store root with device sdb1 and its journal
// directory, and a hash directory's path relative to the device.
func replayFixture(t *testing.T) (root, hdir string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"sdb1", journalDirName} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root, filepath.Join("objects", "7", "0123456789abcdef0123456789abcabc")
}

// openReplayed opens a store on root, which replays its journal; the
// test closes it.
func openReplayed(t *testing.T, root string) *Store {
	t.Helper()
	st, err := NewStore(Config{Root: root, HashPath: testHashPath, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// segmentRecords decodes the records of segment seg at the start of b, as
// replay would, and returns what follows them.
func segmentRecords(b []byte, seg uint64) (recs []journalRecord, rest []byte) {
	for {
		rec, size, ok := nextRecord(b, seg)
		if !ok {
			return recs, b
		}
		recs = append(recs, rec)
		b = b[size:]
	}
}

// Replay stops at the first record that is torn or fails its checksum:
// nothing after it was acknowledged.
func TestJournalReplayStopsAtTornRecord(t *testing.T) {
	root, hdir := replayFixture(t)
	var seg []byte
	seg = appendRecord(seg, 41, "sdb1", hdir, "1700000000.10000.data", []byte("one"))
	second := len(seg)
	seg = appendRecord(seg, 41, "sdb1", hdir, "1700000000.20000.data", []byte("two"))
	seg = appendRecord(seg, 41, "sdb1", hdir, "1700000000.30000.data", []byte("three"))
	seg[second+recordHeader+5] ^= 0xff // a bit flip in the second record
	torn := appendRecord(nil, 41, "sdb1", hdir, "1700000000.40000.data", []byte("four"))
	seg = append(seg, torn[:len(torn)-2]...)
	if err := os.WriteFile(filepath.Join(root, journalDirName, segmentName(41)), seg, 0o600); err != nil {
		t.Fatal(err)
	}
	st := openReplayed(t, root)
	ents, err := os.ReadDir(filepath.Join(root, "sdb1", hdir))
	if err != nil || len(ents) != 1 || ents[0].Name() != "1700000000.10000.data" {
		t.Fatalf("replayed %v (%v), want the first record only", ents, err)
	}
	if st.nextSegment != 42 {
		t.Fatalf("next segment %d, want 42", st.nextSegment)
	}
}

// Writes that arrive while a flush is under way share the next one.
func TestJournalGroupsConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	g := &countingFS{gate: make(chan struct{}), entered: make(chan struct{})}
	j, err := openJournal(dir, 0, g, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	first, err := j.enqueue("sdb1", "d", "first", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered // the first flush is in its fdatasync
	var batches []*journalBatch
	for i := range 16 {
		b, err := j.enqueue("sdb1", "d", fmt.Sprint(i), []byte("y"))
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	close(g.gate)
	for _, b := range append(batches, first) {
		if err := b.wait(); err != nil {
			t.Fatal(err)
		}
		b.release()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.datasyncs != 2 {
		t.Fatalf("17 writes took %d fdatasyncs, want 2", g.datasyncs)
	}
}

// countingFS counts fdatasyncs. With gate set, the first one closes
// entered and waits for gate, so a test knows which writes queue behind it.
type countingFS struct {
	osFS
	mu        sync.Mutex
	datasyncs int
	gate      chan struct{}
	entered   chan struct{}
}

func (c *countingFS) Datasync(f *os.File) error {
	c.mu.Lock()
	c.datasyncs++
	first := c.datasyncs == 1
	c.mu.Unlock()
	if first && c.gate != nil {
		close(c.entered)
		<-c.gate
	}
	return c.osFS.Datasync(f)
}

// A record announced before another is queued shares its flush: the
// flusher waits for it, and no longer than it takes to arrive.
func TestJournalWaitsForAnnouncedRecords(t *testing.T) {
	c := &countingFS{}
	dir := t.TempDir()
	j, err := openJournal(dir, 0, c, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	j.mu.Lock()
	j.window = time.Minute // far longer than the test may take
	j.mu.Unlock()
	exp := j.expect()
	start := time.Now()
	other, err := j.enqueue("sdb1", "d", "other", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	select {
	case <-other.done:
		t.Fatal("flushed without the announced record")
	default:
	}
	mine, err := j.enqueue("sdb1", "d", "mine", []byte("y"))
	if err != nil {
		t.Fatal(err)
	}
	exp.settle()
	for _, b := range []*journalBatch{other, mine} {
		if err := b.wait(); err != nil {
			t.Fatal(err)
		}
		b.release()
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("flush waited %v, past the announced record's arrival", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.datasyncs != 1 {
		t.Fatalf("%d fdatasyncs, want 1", c.datasyncs)
	}
}

// A full or old segment is replaced; the old one is removed only after
// every file it stands for is in place and syncfs has made them durable.
func TestJournalCheckpointWaitsForRenames(t *testing.T) {
	dir := t.TempDir()
	rec := &recordingFS{root: dir}
	j, err := openJournal(dir, 0, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	a, err := j.enqueue("sdb1", "d", "a", []byte("a"))
	if err != nil || a.wait() != nil {
		t.Fatal(err, a.wait())
	}
	// a is durable but its file not yet renamed; the segment gets old.
	j.mu.Lock()
	j.seg.born = time.Now().Add(-2 * checkpointAge)
	j.mu.Unlock()
	b, err := j.enqueue("sdb1", "d", "b", []byte("b"))
	if err != nil || b.wait() != nil {
		t.Fatal(err, b.wait())
	}
	if b.seg.n == 0 {
		t.Fatal("b went to the old segment")
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, segmentName(0))); err != nil {
		t.Fatalf("old segment gone while a file of it was not in place: %v", err)
	}
	a.release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, segmentName(0))); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("old segment not removed after its last rename")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.release()
	synced := false
	for _, op := range rec.take() {
		if op == "syncfs "+segmentName(0) {
			synced = true
		}
	}
	if !synced {
		t.Fatal("old segment dropped without a syncfs")
	}
}

// noTmpfileFS is a file system without O_TMPFILE.
type noTmpfileFS struct{ osFS }

func (noTmpfileFS) CreateUnnamed(string) (tempFile, error) {
	return nil, &os.PathError{Op: "open", Err: syscall.EOPNOTSUPP}
}

// A small file whose name exists replaces it, as a rename does; without
// O_TMPFILE the write goes through <dev>/tmp and a rename instead.
func TestPublishReplacesAndFallsBack(t *testing.T) {
	for _, fsys := range []fileSystem{osFS{}, noTmpfileFS{}} {
		n := newTestNode(t, []string{"sdb1"}, nil)
		n.store.fs = fsys
		dir := filepath.Join(n.store.asyncDir("sdb1"), "abc")
		for _, body := range []string{"first", "second"} {
			if err := n.store.publish("sdb1", dir, "update", []byte(body), nil); err != nil {
				t.Fatalf("%T: %v", fsys, err)
			}
			if got, err := os.ReadFile(filepath.Join(dir, "update")); err != nil || string(got) != body {
				t.Fatalf("%T: file holds %q (%v), want %q", fsys, got, err, body)
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("%T: %d entries in %s", fsys, len(ents), dir)
		}
	}
}

// The replicas of one object on three devices of this node share one
// flush: each waits for its own directory's lock only.
func TestReplicasOnOneNodeShareAFlush(t *testing.T) {
	n := newTestNode(t, []string{"sdb1", "sdc1", "sdd1"}, nil)
	c := &countingFS{}
	n.store.fs = c
	j, err := n.store.journalFor("sdb1")
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	j.window = time.Minute // only the three announced records end the wait
	j.mu.Unlock()
	start := time.Now()
	body := []byte("three replicas")
	var pipes []*io.PipeWriter
	done := make(chan int, 3)
	for _, dev := range []string{"sdb1", "sdc1", "sdd1"} {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		req, _ := http.NewRequest("PUT", n.srv.URL+"/"+dev+"/7/AUTH_a/c/o", pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("X-Timestamp", "1700000000.10000")
		req.Header.Set("Content-Type", "text/plain")
		go func() {
			r, err := n.srv.Client().Do(req)
			if err != nil {
				done <- 0
				return
			}
			r.Body.Close()
			done <- r.StatusCode
		}()
	}
	// Every handler has announced its record before any body arrives.
	for {
		j.mu.Lock()
		announced := j.expected
		j.mu.Unlock()
		if announced == 3 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d of 3 PUTs announced", announced)
		}
		time.Sleep(time.Millisecond)
	}
	for _, pw := range pipes {
		go func() {
			_, _ = pw.Write(body)
			pw.Close()
		}()
	}
	for range 3 {
		if st := <-done; st != 201 {
			t.Fatalf("PUT answered %d", st)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the PUTs took %v: the flush waited out its window", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.datasyncs != 1 {
		t.Fatalf("3 replicas took %d fdatasyncs, want 1", c.datasyncs)
	}
}

// failingFS fails every fdatasync, as a disk that lost its data would.
type failingFS struct{ osFS }

func (failingFS) Datasync(*os.File) error { return syscall.EIO }

// After a failed fdatasync nothing more is taken: the page cache may no
// longer hold what the disk lacks.
func TestJournalStopsAfterFailedDatasync(t *testing.T) {
	j, err := openJournal(t.TempDir(), 0, failingFS{}, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	b, err := j.enqueue("sdb1", "d", "a", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.wait(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("wait: %v, want EIO", err)
	}
	if _, err := j.enqueue("sdb1", "d", "b", []byte("b")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("enqueue after the failure: %v, want EIO", err)
	}
}

// write queues one record, waits until it is durable and releases it.
func write(t *testing.T, j *journal, name, content string) *journalBatch {
	t.Helper()
	b, err := j.enqueue("sdb1", "d", name, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.wait(); err != nil {
		t.Fatal(err)
	}
	b.release()
	return b
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A spare is reused as the next segment (the same file: no new
// allocation), and that segment replays its own records only, not the
// ones its previous use left after them.
func TestJournalReusesSpares(t *testing.T) {
	dir := t.TempDir()
	var stale []byte
	for i := range 3 {
		stale = appendRecord(stale, 7, "sdb1", "d", fmt.Sprintf("old%d", i), []byte("stale content"))
	}
	spare := filepath.Join(dir, spareName(7))
	if err := os.WriteFile(spare, append(stale, make([]byte, segmentSize-len(stale))...), 0o600); err != nil {
		t.Fatal(err)
	}
	var before syscall.Stat_t
	if err := syscall.Stat(spare, &before); err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(dir, 0, osFS{}, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	// As long as an old record: the next old one starts right after it.
	b := write(t, j, "new0", "fresh content")
	if b.seg.n != 8 || !b.seg.warm {
		t.Fatalf("record went to segment %d (warm %v), want the spare as 8", b.seg.n, b.seg.warm)
	}
	var after syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, segmentName(8)), &after); err != nil || after.Ino != before.Ino {
		t.Fatalf("segment 8 is not the spare's file (%v)", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, segmentName(8)))
	if err != nil {
		t.Fatal(err)
	}
	recs, rest := segmentRecords(data, 8)
	if len(recs) != 1 || recs[0].name != "new0" {
		t.Fatalf("segment 8 replays %v, want only its own record", recs)
	}
	if stale, _ := segmentRecords(rest, 7); len(stale) == 0 || stale[0].name != "old1" {
		t.Fatal("the previous use's records are not where the test expects them")
	}
}

// A journal that starts without a spare writes into a fallocated segment,
// prepares a spare meanwhile and moves to it at the next flush; the cold
// segment, once checkpointed, is zero-filled into a spare itself.
func TestJournalWarmsUpWithoutSpares(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir, 0, osFS{}, slog.New(slog.NewTextHandler(io.Discard, nil)), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	first := write(t, j, "a", "in the cold segment")
	if first.seg.n != 0 || first.seg.warm {
		t.Fatalf("first record in segment %d (warm %v), want the new cold segment 0", first.seg.n, first.seg.warm)
	}
	waitFor(t, "no spare prepared", func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return len(j.spares) == 1
	})
	next := write(t, j, "b", "in the spare")
	if next.seg.n != 2 || !next.seg.warm {
		t.Fatalf("next record in segment %d (warm %v), want the prepared spare as 2", next.seg.n, next.seg.warm)
	}
	waitFor(t, "the cold segment did not become a spare", func() bool {
		info, err := os.Stat(filepath.Join(dir, spareName(0)))
		return err == nil && info.Size() == segmentSize
	})
	if _, err := os.Stat(filepath.Join(dir, segmentName(0))); !os.IsNotExist(err) {
		t.Fatalf("segment 0 still there: %v", err)
	}
}

// A store that opens replays the records of each segment up to the first
// one stamped with another segment's number, reads records of kumo's
// older format, and numbers new segments past the old ones.
func TestJournalReplayOfReusedAndLegacySegments(t *testing.T) {
	root, hdir := replayFixture(t)
	var seg []byte
	seg = appendRecord(seg, 50, "sdb1", hdir, "1700000000.10000.data", []byte("current"))
	seg = appendRecord(seg, 44, "sdb1", hdir, "1700000000.20000.data", []byte("stale"))
	legacy := legacyRecord("sdb1", hdir, "1700000000.15000.meta", []byte("old format"))
	jdir := filepath.Join(root, journalDirName)
	for name, b := range map[string][]byte{segmentName(50): seg, segmentName(30): legacy} {
		if err := os.WriteFile(filepath.Join(jdir, name), append(b, make([]byte, segmentSize-len(b))...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := openReplayed(t, root)
	ents, err := os.ReadDir(filepath.Join(root, "sdb1", hdir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, []string{"1700000000.10000.data", "1700000000.15000.meta"}) {
		t.Fatalf("replayed %q", got)
	}
	if s := segments(t, root); len(s) != 0 {
		t.Fatalf("segments left after replay: %v", s)
	}
	j, err := st.journalFor("sdb1")
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	n := j.seg.n
	j.mu.Unlock()
	if n != 51 {
		t.Fatalf("journal opened segment %d, want 51: numbers only grow", n)
	}
}

// legacyRecord is a record as kumo wrote it before segments were reused:
// a 12-byte header without the segment number.
func legacyRecord(dev, dir, name string, content []byte) []byte {
	var payload []byte
	for _, s := range []string{dev, dir, name} {
		payload = binary.LittleEndian.AppendUint16(payload, uint16(len(s)))
		payload = append(payload, s...)
	}
	payload = append(payload, content...)
	b := binary.LittleEndian.AppendUint32(nil, legacyMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// Spares beyond maxSpares, and any smaller than a segment (a small device
// whose segments grew), are removed when the journal opens.
func TestJournalAdoptsAtMostMaxSpares(t *testing.T) {
	dir := t.TempDir()
	for n, size := range map[uint64]int64{3: segmentSize, 4: segmentSize, 5: segmentSize, 9: 4096} {
		f, err := os.Create(filepath.Join(dir, spareName(n)))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	j, err := openJournal(dir, 0, osFS{}, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	left, _ := filepath.Glob(filepath.Join(dir, "*.spare"))
	// Two adopted, one of them already taken as segment 10.
	if j.seg.n != 10 || len(left) != 1 {
		t.Fatalf("segment %d, spares left %v", j.seg.n, left)
	}
}
