package objserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A journal makes small files durable with one fdatasync per group of
// concurrent writes. Swift's diskfile makes each new file durable on its
// own: fsync the file, rename it into its hash directory, fsync that
// directory and every directory the write created, about 0.7 ms of disk
// flushes per replica on this kind of machine. Here the whole new file is
// appended to a log segment instead, and the log is fdatasynced once for
// every write that arrived meanwhile; the file itself is then written and
// renamed into place without any fsync. A crash can lose those unsynced
// files, and replay (journal_replay.go) writes them again from the log
// when the store next opens.
//
// A segment is checkpointed when it is full or old: new records go to a
// fresh segment, the old one waits until each of its writers has renamed
// its file, syncfs makes all of those files durable, and the segment is
// recycled (below). There is one journal per file system: devices that are plain
// directories on one disk share it, so the three replicas of one PUT cost
// one fdatasync; a device that is a file system of its own keeps its own.
//
// Checkpointed segments are recycled, as PostgreSQL recycles its WAL
// files: appending into blocks a file has written before needs no
// metadata update, so its fdatasync is one write and a flush, while
// appending into fallocated space converts unwritten extents on every
// flush (measured here: fdatasync p50 80 µs against 168 µs). So a spare
// is a whole segment of written blocks: a retired segment has the rest of
// its space written with zeros, in the background, before it becomes one;
// the next segment is a spare renamed. A journal that starts without one
// writes into a fallocated segment; once that has taken spareWarmUp bytes
// (a store under load, not a short-lived one) it prepares a spare and
// moves to it. Each record carries its segment's number, and numbers only
// grow, so replay stops at the first record a previous use of the file
// left.
type journal struct {
	dir string
	fs  fileSystem
	log *slog.Logger

	mu      sync.Mutex
	cur     *journalBatch // records for the next flush
	seg     *segment
	nextSeg uint64
	spares  []string // zero-filled segment files to reuse, oldest first
	// preparing: a spare is being written for a journal that had none.
	preparing bool
	// warmUpAfter is how much a cold segment takes before a spare is
	// prepared (0: never).
	warmUpAfter int64
	err         error // a failed write or fdatasync: nothing after it can be trusted
	closed      bool
	// expected counts writes that announced a record (expect) and have
	// not queued it yet: the flusher waits up to window for them.
	expected int
	window   time.Duration

	work        chan struct{} // capacity 1: wakes the flusher
	quit        chan struct{}
	stopped     chan struct{}
	checkpoints sync.Mutex // one at a time, oldest segment first
	pending     sync.WaitGroup
}

const (
	journalDirName = ".journal"
	// segmentSize is preallocated per segment; a segment past it is
	// checkpointed at the next flush.
	segmentSize = 64 << 20
	// journalMaxFile is the largest file written through the journal;
	// larger ones are fsynced on their own, where the flush costs less
	// than writing the bytes twice.
	journalMaxFile = 256 << 10
	// checkpointAge bounds how long a segment lives, so an idle node
	// does not keep records to replay for long.
	checkpointAge = 30 * time.Second
	// spareWarmUp is what a cold segment takes before the journal
	// prepares a spare: a second or so of small writes under load.
	spareWarmUp = 4 << 20
	// gatherWindow is the longest the flusher waits for announced
	// records before a flush: the replicas of one PUT reach the node
	// tens of microseconds apart, and a flush costs far more.
	gatherWindow = 500 * time.Microsecond
	// recordMagic starts a record: its header is the magic, the payload's
	// length and CRC-32C, and the number of the segment it was written to.
	recordMagic  = 0x324e4a4b // "KJN2"
	recordHeader = 20
	// legacyMagic starts a record of an older kumo, whose segments were
	// never reused: 12-byte header without the segment number.
	legacyMagic  = 0x4c4e4a4b // "KJNL"
	legacyHeader = 12
	// maxSpares is how many checkpointed segments a journal keeps.
	maxSpares = 2
)

// segment is one log file.
type segment struct {
	n    uint64
	f    *os.File
	off  int64 // only the flusher moves it
	born time.Time
	// torn is set by the flusher after a failed write: the segment may
	// end in part of a record, so the next flush starts a new one.
	torn bool
	// refs counts the records of this segment whose files are not renamed
	// into place yet: a checkpoint waits for them.
	refs sync.WaitGroup
	// reusable: the file has its whole size allocated (fallocated or a
	// spare), so it can be a spare once checkpointed; warm: it is a spare,
	// every block written before.
	reusable, warm bool
}

// journalBatch is the records of one flush.
type journalBatch struct {
	buf  []byte
	recs []int // where each record starts in buf
	n    int
	done chan struct{} // closed once durable or failed
	seg  *segment
	err  error
}

func newBatch() *journalBatch { return &journalBatch{done: make(chan struct{})} }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openJournal starts a journal in dir with a new segment numbered first.
// Once warmUpAfter bytes went into a cold segment it prepares a spare (0:
// never; tests that look at segment numbers).
func openJournal(dir string, first uint64, fsys fileSystem, log *slog.Logger, warmUpAfter int64) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	j := &journal{dir: dir, fs: fsys, log: log, cur: newBatch(), nextSeg: first, window: gatherWindow, warmUpAfter: warmUpAfter,
		work: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	if err := j.adoptSpares(); err != nil {
		return nil, err
	}
	seg, err := j.newSegment()
	if err != nil {
		return nil, err
	}
	j.seg = seg
	go j.run()
	return j, nil
}

func segmentName(n uint64) string { return fmt.Sprintf("%016x.seg", n) }

func spareName(n uint64) string { return fmt.Sprintf("%016x.spare", n) }

// parseJournalName reads the number of a segment or spare file name.
func parseJournalName(name, ext string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, ext)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	return n, err == nil
}

// adoptSpares takes the spares a previous run left, numbering new
// segments after them: the records they still hold (stamped with their
// own number or older ones) must never match a new segment's number.
// Spares beyond maxSpares, or smaller than a segment, are removed.
func (j *journal) adoptSpares() error {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".spare.tmp") {
			// A spare being prepared when the process stopped.
			if err := os.Remove(filepath.Join(j.dir, e.Name())); err != nil {
				return err
			}
			continue
		}
		n, ok := parseJournalName(e.Name(), ".spare")
		if !ok {
			continue
		}
		j.nextSeg = max(j.nextSeg, n+1)
		p := filepath.Join(j.dir, e.Name())
		if info, err := e.Info(); err == nil && info.Size() >= segmentSize && len(j.spares) < maxSpares {
			j.spares = append(j.spares, p)
			continue
		}
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}

// newSegment opens the next segment, a spare renamed or a new file
// preallocated, and makes its name durable.
func (j *journal) newSegment() (*segment, error) {
	p := filepath.Join(j.dir, segmentName(j.nextSeg))
	f, err := j.takeSpare(p)
	if err != nil {
		return nil, err
	}
	warm, reusable := true, true
	if f == nil {
		if f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return nil, err
		}
		// Where fallocate is missing, or a small device has no room for
		// a whole segment, the file simply grows and is not reused.
		err = syscall.Fallocate(int(f.Fd()), 0, 0, segmentSize)
		if err != nil && err != syscall.EOPNOTSUPP && err != syscall.ENOSYS && err != syscall.ENOSPC {
			_ = f.Close()
			_ = os.Remove(p)
			return nil, err
		}
		warm, reusable = false, err == nil
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		_ = f.Close()
		_ = os.Remove(p)
		return nil, err
	}
	seg := &segment{n: j.nextSeg, f: f, born: time.Now(), reusable: reusable, warm: warm}
	j.nextSeg++
	return seg, nil
}

// warmUp starts preparing a spare when the journal writes into a cold
// segment under load and has none. Called with j.mu held.
func (j *journal) warmUp(seg *segment) {
	if seg.warm || !seg.reusable || j.warmUpAfter == 0 || seg.off < j.warmUpAfter || j.preparing || len(j.spares) > 0 {
		return
	}
	j.preparing = true
	j.pending.Add(1)
	go j.prepareSpare(j.nextSeg)
	j.nextSeg++
}

// takeSpare renames the oldest spare to p and opens it; nil when there is
// none. Called with j.mu held, or before the journal runs.
func (j *journal) takeSpare(p string) (*os.File, error) {
	for len(j.spares) > 0 {
		sp := j.spares[0]
		j.spares = j.spares[1:]
		if err := os.Rename(sp, p); err != nil {
			j.log.Warn("journal: spare segment unusable", "file", sp, "err", err)
			continue
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0o600)
		if err != nil {
			_ = os.Remove(p)
			return nil, err
		}
		return f, nil
	}
	return nil, nil
}

// retire keeps a checkpointed segment as a spare, its unwritten space
// zero-filled, or removes it. The file is still open.
func (j *journal) retire(seg *segment) {
	p := filepath.Join(j.dir, segmentName(seg.n))
	j.mu.Lock()
	keep := seg.reusable && len(j.spares) < maxSpares
	j.mu.Unlock()
	if keep && !seg.warm {
		keep = j.zeroFill(seg.f, seg.off) == nil
	}
	_ = seg.f.Close()
	if keep && j.addSpare(p, spareName(seg.n)) {
		return
	}
	if err := os.Remove(p); err != nil {
		j.log.Warn("journal checkpoint: remove segment", "err", err)
	}
}

// addSpare renames the file p to a spare, unless there are enough.
func (j *journal) addSpare(p, name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.spares) >= maxSpares {
		return false
	}
	sp := filepath.Join(j.dir, name)
	if err := os.Rename(p, sp); err != nil {
		return false
	}
	j.spares = append(j.spares, sp)
	return true
}

// prepareSpare writes a spare numbered n for a journal that started
// without one; the next flush moves to it.
func (j *journal) prepareSpare(n uint64) {
	defer j.pending.Done()
	defer func() {
		j.mu.Lock()
		j.preparing = false
		j.mu.Unlock()
	}()
	p := filepath.Join(j.dir, spareName(n)+".tmp")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	err = syscall.Fallocate(int(f.Fd()), 0, 0, segmentSize)
	if err == nil {
		err = j.zeroFill(f, 0)
	}
	_ = f.Close()
	if err != nil || !j.addSpare(p, spareName(n)) {
		_ = os.Remove(p)
	}
}

// zeroFill writes zeros from off to the end of the segment file and
// fdatasyncs them, so that its blocks count as written. It gives up when
// the journal closes.
func (j *journal) zeroFill(f *os.File, off int64) error {
	zeros := make([]byte, 1<<20)
	for off < segmentSize {
		select {
		case <-j.quit:
			return errors.New("journal closed")
		default:
		}
		n := min(int64(len(zeros)), segmentSize-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	// Not through j.fs: what a spare holds does not matter, only that its
	// blocks are allocated as written.
	return syscall.Fdatasync(int(f.Fd()))
}

// enqueue adds a record for the file dir/name (dir relative to the device)
// to the next flush. The caller waits for it with wait, and calls release
// once the file is renamed into place.
func (j *journal) enqueue(dev, dir, name string, content []byte) (*journalBatch, error) {
	j.mu.Lock()
	if j.err != nil || j.closed {
		err := j.err
		j.mu.Unlock()
		if err == nil {
			err = errors.New("journal closed")
		}
		return nil, err
	}
	b := j.cur
	b.recs = append(b.recs, len(b.buf))
	b.buf = appendRecord(b.buf, 0, dev, dir, name, content)
	b.n++
	j.mu.Unlock()
	j.kick()
	return b, nil
}

// expectation is one announced record; settle it once the record is
// queued or will not come. One goroutine owns it.
type expectation struct {
	j       *journal
	settled bool
}

// expect announces a record that is on its way (a request being read).
func (j *journal) expect() *expectation {
	j.mu.Lock()
	j.expected++
	j.mu.Unlock()
	return &expectation{j: j}
}

func (e *expectation) settle() {
	if e == nil || e.settled {
		return
	}
	e.settled = true
	e.j.mu.Lock()
	e.j.expected--
	e.j.mu.Unlock()
	e.j.kick()
}

func (j *journal) kick() {
	select {
	case j.work <- struct{}{}:
	default:
	}
}

// wait blocks until the batch is durable.
func (b *journalBatch) wait() error {
	<-b.done
	return b.err
}

// release tells the segment that one of its files is in place.
func (b *journalBatch) release() { b.seg.refs.Done() }

// run is the flusher: one write and one fdatasync for whatever has queued.
func (j *journal) run() {
	defer close(j.stopped)
	tick := time.NewTicker(checkpointAge / 3)
	defer tick.Stop()
	gather := time.NewTimer(gatherWindow)
	for {
		select {
		case <-j.work:
			j.gather(gather)
			j.flush()
		case <-tick.C:
			j.flush()
		case <-j.quit:
			j.flush()
			return
		}
	}
}

// gather waits, up to the window, for the announced records to queue.
func (j *journal) gather(t *time.Timer) {
	j.mu.Lock()
	window := j.window
	j.mu.Unlock()
	t.Reset(window)
	defer t.Stop()
	for {
		j.mu.Lock()
		waiting := j.expected > 0 && j.cur.n > 0 && len(j.cur.buf) < segmentSize/16
		j.mu.Unlock()
		if !waiting {
			return
		}
		select {
		case <-j.work:
		case <-t.C:
			return
		case <-j.quit:
			return
		}
	}
}

func (j *journal) flush() {
	j.mu.Lock()
	b := j.cur
	seg := j.seg
	// A cold segment (fallocated) gives way as soon as a spare is ready.
	full := seg.torn || seg.off > 0 && (seg.off+int64(len(b.buf)) > segmentSize || time.Since(seg.born) > checkpointAge) ||
		!seg.warm && len(j.spares) > 0
	if b.n == 0 && !full {
		j.mu.Unlock()
		return
	}
	j.cur = newBatch()
	err := j.err
	if err == nil && full {
		// A failed rotation (a full disk) fails this batch only; the
		// next flush tries again.
		if next, rerr := j.newSegment(); rerr != nil {
			err = rerr
		} else {
			j.seg = next
			j.pending.Add(1)
			go j.checkpoint(seg)
			seg = next
		}
	}
	if err == nil {
		seg.refs.Add(b.n)
	}
	j.mu.Unlock()
	if b.n == 0 {
		close(b.done)
		return
	}
	if err == nil {
		for _, off := range b.recs {
			stampSegment(b.buf[off:], seg.n)
		}
		if _, err = seg.f.WriteAt(b.buf, seg.off); err != nil {
			// A full disk: this batch fails, the next goes to a new
			// segment. What part of it was written may be replayed;
			// its writers were told it failed, not that it did not
			// happen.
			seg.refs.Add(-b.n)
			seg.torn = true
		} else if err = j.fs.Datasync(seg.f); err != nil {
			// After a failed fdatasync the page cache may no longer hold
			// what the disk lacks: stop taking writes until restarted.
			seg.refs.Add(-b.n)
			j.mu.Lock()
			j.err = fmt.Errorf("journal %s: %w", j.dir, err)
			j.mu.Unlock()
			j.log.Error("journal write failed; small writes on this file system fail until restart", "dir", j.dir, "err", err)
		} else {
			seg.off += int64(len(b.buf))
			j.mu.Lock()
			j.warmUp(seg)
			j.mu.Unlock()
		}
	}
	b.seg, b.err = seg, err
	close(b.done)
}

// checkpoint makes every file of seg durable with syncfs, then drops seg.
// If syncfs fails the segment stays, for replay.
func (j *journal) checkpoint(seg *segment) {
	defer j.pending.Done()
	j.checkpoints.Lock()
	defer j.checkpoints.Unlock()
	seg.refs.Wait()
	if seg.off > 0 {
		if err := j.fs.Syncfs(seg.f); err != nil {
			j.log.Error("journal checkpoint: syncfs failed; the segment stays for replay", "dir", j.dir, "err", err)
			_ = seg.f.Close()
			return
		}
	}
	j.retire(seg)
}

// close flushes what is queued, checkpoints every segment and stops. The
// caller has stopped the writers.
func (j *journal) close() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.closed = true
	j.mu.Unlock()
	close(j.quit)
	<-j.stopped
	j.mu.Lock()
	seg := j.seg
	j.mu.Unlock()
	if j.err == nil {
		j.pending.Add(1)
		j.checkpoint(seg)
	} else {
		_ = seg.f.Close()
	}
	j.pending.Wait()
}

// appendRecord encodes one record: a 20-byte header (magic, payload
// length, CRC-32C of the payload, segment number), then the payload:
// device, directory and name, each with a 2-byte length, and the file's
// bytes. The flusher stamps the segment number once it knows it.
func appendRecord(buf []byte, seg uint64, dev, dir, name string, content []byte) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, recordHeader)...)
	for _, s := range []string{dev, dir, name} {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(s)))
		buf = append(buf, s...)
	}
	buf = append(buf, content...)
	payload := buf[start+recordHeader:]
	binary.LittleEndian.PutUint32(buf[start:], recordMagic)
	binary.LittleEndian.PutUint32(buf[start+4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+8:], crc32.Checksum(payload, castagnoli))
	stampSegment(buf[start:], seg)
	return buf
}

// stampSegment writes the segment number into the record at the start of
// b.
func stampSegment(b []byte, seg uint64) { binary.LittleEndian.PutUint64(b[12:], seg) }

// journalRecord is one decoded record.
type journalRecord struct {
	dev, dir, name string
	content        []byte
}

// nextRecord decodes the record at the start of b, from segment seg. ok is
// false at the end of the log: zeros (preallocated space), a torn write, a
// bad checksum or a record of the file's previous use as another segment.
func nextRecord(b []byte, seg uint64) (rec journalRecord, size int, ok bool) {
	if len(b) < legacyHeader {
		return rec, 0, false
	}
	header := recordHeader
	switch binary.LittleEndian.Uint32(b) {
	case recordMagic:
		if len(b) < recordHeader || binary.LittleEndian.Uint64(b[12:]) != seg {
			return rec, 0, false
		}
	case legacyMagic:
		header = legacyHeader
	default:
		return rec, 0, false
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n > len(b)-header {
		return rec, 0, false
	}
	payload := b[header : header+n]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return rec, 0, false
	}
	var fields [3]string
	p := payload
	for i := range fields {
		if len(p) < 2 {
			return rec, 0, false
		}
		l := int(binary.LittleEndian.Uint16(p))
		if len(p) < 2+l {
			return rec, 0, false
		}
		fields[i] = string(p[2 : 2+l])
		p = p[2+l:]
	}
	return journalRecord{dev: fields[0], dir: fields[1], name: fields[2], content: p}, header + n, true
}
