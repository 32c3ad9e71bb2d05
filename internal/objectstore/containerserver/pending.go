package containerserver

import (
	"bufio"
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Object updates (the listing rows of object PUTs and DELETEs) are
// acknowledged once appended to the container's pending file,
// <hash>.db.pending: one write, no fsync, as Swift's .pending file. They
// survive a crash of kumo (the kernel holds them), not necessarily a power
// loss, which is all Swift promises of listings too; the objects
// themselves were fsynced on a quorum before the client heard 201. The
// rows reach the database in batches: a merge runs 50 ms after an
// append, and everything else that opens the database (a listing, a HEAD,
// a container PUT or DELETE, replication, the account updater) merges what
// is pending first, so it sees every acknowledged row. A pending file
// left by a crash is merged when its database is next opened.
//
// An object server waited for a whole SQLite transaction per row before;
// the merge costs the same per row but shares its transaction.

// defaultMergeDelay is how long appended rows wait for others to share
// their transaction (Store.mergeDelay).
const defaultMergeDelay = 50 * time.Millisecond

const pendingSuffix = ".pending"

// maxIdlePending bounds the idle pendingRows kept in memory.
const maxIdlePending = 1024

// maxBatch bounds one merge transaction's rows.
const maxBatch = 1000

// pendingRows is one container's rows not yet in its database.
type pendingRows struct {
	path string // the database's

	// mergeMu makes merges one at a time, so a reader that merges waits
	// for rows another merge has taken.
	mergeMu sync.Mutex

	mu      sync.Mutex
	refs    int            // users; guarded by Store.pendingMu
	f       *os.File       // the pending file, open for appends; nil when closed
	recs    []ObjectRecord // appended, not yet taken by a merge
	taken   int            // taken by the running merge, not yet committed
	timer   *time.Timer    // the scheduled merge, if any
	live    bool           // the container was found live ...
	opened  uint64         // ... and not opened by anything else since (a count)
	loadErr error          // reading the file left by a crash failed
}

func (p *pendingRows) idle() bool {
	return p.refs == 0 && len(p.recs) == 0 && p.taken == 0 && p.timer == nil && p.f == nil && p.loadErr == nil
}

// pendingFor returns path's pendingRows, reading the file a crash left on
// first use; release it with releasePending.
func (s *Store) pendingFor(path string) *pendingRows {
	s.pendingMu.Lock()
	p := s.pending[path]
	if p == nil {
		if len(s.pending) >= maxIdlePending {
			for k, q := range s.pending {
				q.mu.Lock()
				if q.idle() {
					delete(s.pending, k)
				}
				q.mu.Unlock()
			}
		}
		p = &pendingRows{path: path}
		p.recs, p.loadErr = readPending(path + pendingSuffix)
		s.pending[path] = p
	}
	p.refs++
	s.pendingMu.Unlock()
	return p
}

func (s *Store) releasePending(p *pendingRows) {
	s.pendingMu.Lock()
	p.refs--
	s.pendingMu.Unlock()
}

// readPending reads the rows of a pending file; a torn last line (a power
// loss during its write) is dropped.
func readPending(name string) ([]ObjectRecord, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) || len(b) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []ObjectRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r ObjectRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Name != "" {
			recs = append(recs, r)
		}
	}
	return recs, sc.Err()
}

// PutObjectRecord records an object PUT or DELETE (rec.Deleted) in the
// container's listing: appended to its pending file, merged newest-wins
// later. A missing or deleted container is ErrNotFound.
func (s *Store) PutObjectRecord(ctx context.Context, ref ContainerRef, rec ObjectRecord) error {
	path := s.containerPath(ref.Device, ref.Partition, ref.Account, ref.Container)
	p := s.pendingFor(path)
	defer s.releasePending(p)
	if err := s.checkLive(ctx, p); err != nil {
		return err
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		if p.f, err = os.OpenFile(path+pendingSuffix, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			return err
		}
	}
	if _, err := p.f.Write(line); err != nil {
		return err
	}
	p.recs = append(p.recs, rec)
	if p.timer == nil && s.scheduleMerge() {
		p.timer = time.AfterFunc(s.mergeDelay, func() {
			defer s.merges.Done()
			p.mu.Lock()
			p.timer = nil
			p.mu.Unlock()
			// A failure leaves the rows pending, for the next reader
			// or append to merge.
			_ = s.mergePending(context.Background(), p)
		})
	}
	return nil
}

// scheduleMerge counts a merge about to be scheduled, unless the store is
// closing.
func (s *Store) scheduleMerge() bool {
	s.mergesMu.Lock()
	defer s.mergesMu.Unlock()
	if s.closing {
		return false
	}
	s.merges.Add(1)
	return true
}

// checkLive fails unless the container exists and is not deleted. The
// answer is kept until anything else opens the database, which could
// change it.
func (s *Store) checkLive(ctx context.Context, p *pendingRows) error {
	p.mu.Lock()
	live, opened := p.live, p.opened
	p.mu.Unlock()
	if live {
		return nil
	}
	d, release, err := s.acquire(p.path, false, KindContainer, nil)
	if err != nil {
		return err
	}
	defer release()
	var info ContainerInfo
	if err := d.R.QueryRowContext(ctx, mergeGuard).Scan(&info.PutTimestamp, &info.DeleteTimestamp, &info.ObjectCount); err != nil {
		return err
	}
	if info.Deleted() || info.PutTimestamp == zeroTimestamp {
		return ErrNotFound
	}
	p.mu.Lock()
	if p.opened == opened {
		p.live = true
	}
	p.mu.Unlock()
	return nil
}

// mergeBefore merges path's pending rows before another use of its
// database, and forgets whether the container is live.
func (s *Store) mergeBefore(path string) error {
	p := s.pendingFor(path)
	defer s.releasePending(p)
	p.mu.Lock()
	p.live = false
	p.opened++
	empty := len(p.recs) == 0 && p.taken == 0 && p.loadErr == nil
	p.mu.Unlock()
	if empty {
		return nil
	}
	return s.mergePending(context.Background(), p)
}

// mergePending commits p's rows in batches until none are left, then
// empties the pending file.
func (s *Store) mergePending(ctx context.Context, p *pendingRows) error {
	p.mergeMu.Lock()
	defer p.mergeMu.Unlock()
	for {
		p.mu.Lock()
		if p.loadErr != nil {
			// Read the file again: its rows must not be lost.
			recs, err := readPending(p.path + pendingSuffix)
			if err != nil {
				p.mu.Unlock()
				return err
			}
			p.recs, p.loadErr = append(recs, p.recs...), nil
		}
		n := min(len(p.recs), maxBatch)
		if n == 0 {
			err := p.emptyFile()
			p.mu.Unlock()
			return err
		}
		batch := p.recs[:n:n]
		p.recs = p.recs[n:]
		p.taken = n
		p.mu.Unlock()
		err := s.commitObjects(ctx, p.path, batch)
		p.mu.Lock()
		p.taken = 0
		if err != nil {
			p.recs = append(batch, p.recs...)
		}
		p.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// emptyFile truncates and closes the pending file once every row in it is
// committed; the caller holds p.mu.
func (p *pendingRows) emptyFile() error {
	if p.f == nil {
		// Rows read from a file left by a crash, or none at all.
		err := os.Truncate(p.path+pendingSuffix, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	err := p.f.Truncate(0)
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	return err
}

// flushPending merges every container's pending rows; Close calls it
// after stopping the timers.
func (s *Store) flushPending() {
	s.mergesMu.Lock()
	s.closing = true
	s.mergesMu.Unlock()
	s.pendingMu.Lock()
	var ps []*pendingRows
	for _, p := range s.pending {
		ps = append(ps, p)
	}
	s.pendingMu.Unlock()
	for _, p := range ps {
		p.mu.Lock()
		if p.timer != nil && p.timer.Stop() {
			p.timer = nil
			s.merges.Done()
		}
		p.mu.Unlock()
	}
	s.merges.Wait()
	for _, p := range ps {
		// Rows that cannot be merged now stay in their file.
		_ = s.mergePending(context.Background(), p)
	}
}

// commitObjects writes a batch of listing rows in one transaction without
// waiting for the disk: SQLite's synchronous=NORMAL in WAL mode, for this
// transaction only. The rows are as durable as the pending file they come
// from: they survive a crash of kumo and reach the disk at the next
// checkpoint or writeback. Every other write to the database keeps
// synchronous=FULL. A deleted container still takes the rows, as in
// Swift: they were accepted while it was live, and a container with rows
// is not deleted.
func (s *Store) commitObjects(ctx context.Context, path string, recs []ObjectRecord) error {
	d, release, err := s.acquire(path, false, KindContainer, nil)
	if err != nil {
		return err
	}
	defer release()
	sc := s.cache.statements(path)
	if err := sc.prepare(ctx, mergeSelect, mergeDelete, mergeInsert, mergeCount); err != nil {
		return err
	}
	// The writer pool has exactly one connection: holding it keeps every
	// other write out until synchronous is FULL again.
	conn, err := d.W.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); rerr != nil {
			// A connection left at NORMAL must not serve other writes.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := mergeObjects(ctx, tx, sc, recs); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
