package objserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
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
// removed. There is one journal per file system: devices that are plain
// directories on one disk share it, so the three replicas of one PUT cost
// one fdatasync; a device that is a file system of its own keeps its own.
type journal struct {
	dir string
	fs  fileSystem
	log *slog.Logger

	mu      sync.Mutex
	cur     *journalBatch // records for the next flush
	seg     *segment
	nextSeg uint64
	err     error // a failed write or fdatasync: nothing after it can be trusted
	closed  bool
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
	// gatherWindow is the longest the flusher waits for announced
	// records before a flush: the replicas of one PUT reach the node
	// tens of microseconds apart, and a flush costs far more.
	gatherWindow = 500 * time.Microsecond
	recordMagic  = 0x4c4e4a4b // "KJNL"
	recordHeader = 12         // magic, payload length, CRC-32C of the payload
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
}

// journalBatch is the records of one flush.
type journalBatch struct {
	buf  []byte
	n    int
	done chan struct{} // closed once durable or failed
	seg  *segment
	err  error
}

func newBatch() *journalBatch { return &journalBatch{done: make(chan struct{})} }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openJournal starts a journal in dir with a new segment numbered first.
func openJournal(dir string, first uint64, fsys fileSystem, log *slog.Logger) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	j := &journal{dir: dir, fs: fsys, log: log, cur: newBatch(), nextSeg: first, window: gatherWindow,
		work: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	seg, err := j.newSegment()
	if err != nil {
		return nil, err
	}
	j.seg = seg
	go j.run()
	return j, nil
}

func segmentName(n uint64) string { return fmt.Sprintf("%016x.seg", n) }

// newSegment creates and preallocates the next segment and makes its name
// durable.
func (j *journal) newSegment() (*segment, error) {
	p := filepath.Join(j.dir, segmentName(j.nextSeg))
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	// Written extents of a preallocated file need no size change on each
	// fdatasync; where fallocate is missing, or a small device has no
	// room for a whole segment, the file simply grows.
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, segmentSize); err != nil &&
		err != syscall.EOPNOTSUPP && err != syscall.ENOSYS && err != syscall.ENOSPC {
		_ = f.Close()
		_ = os.Remove(p)
		return nil, err
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		_ = f.Close()
		_ = os.Remove(p)
		return nil, err
	}
	j.nextSeg++
	return &segment{n: j.nextSeg - 1, f: f, born: time.Now()}, nil
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
	b.buf = appendRecord(b.buf, dev, dir, name, content)
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
	full := seg.torn || seg.off > 0 && (seg.off+int64(len(b.buf)) > segmentSize || time.Since(seg.born) > checkpointAge)
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
	_ = seg.f.Close()
	if err := os.Remove(filepath.Join(j.dir, segmentName(seg.n))); err != nil {
		j.log.Warn("journal checkpoint: remove segment", "err", err)
	}
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

// appendRecord encodes one record: a 12-byte header (magic, payload
// length, CRC-32C of the payload), then the payload: device, directory and
// name, each with a 2-byte length, and the file's bytes.
func appendRecord(buf []byte, dev, dir, name string, content []byte) []byte {
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
	return buf
}

// journalRecord is one decoded record.
type journalRecord struct {
	dev, dir, name string
	content        []byte
}

// nextRecord decodes the record at the start of b. ok is false at the end
// of the log: zeros (preallocated space), a torn write or a bad checksum.
func nextRecord(b []byte) (rec journalRecord, size int, ok bool) {
	if len(b) < recordHeader || binary.LittleEndian.Uint32(b) != recordMagic {
		return rec, 0, false
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n > len(b)-recordHeader {
		return rec, 0, false
	}
	payload := b[recordHeader : recordHeader+n]
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
	return journalRecord{dev: fields[0], dir: fields[1], name: fields[2], content: p}, recordHeader + n, true
}
