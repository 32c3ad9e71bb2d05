package containerserver

import (
	"context"
	"database/sql/driver"
	"sync"
)

// Object updates to one container are group-committed: while one
// transaction commits, later updates queue, and the next transaction takes
// them all. Every caller still returns only after its own row is committed
// (without an fsync of its own: see commitObjects); concurrent object
// servers just share the transactions. This is the job Swift's .pending
// file does.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*pendingRecord
	running bool
}

type pendingRecord struct {
	rec  ObjectRecord
	done chan error
}

// maxLeaderRounds bounds how many batches one caller commits for others
// before handing the rest to a goroutine, so no caller waits unboundedly.
const maxLeaderRounds = 4

// maxBatch bounds one transaction's rows.
const maxBatch = 1000

func (s *Store) groupFor(path string) *groupCommit {
	s.groupsMu.Lock()
	defer s.groupsMu.Unlock()
	g, ok := s.groups[path]
	if !ok {
		g = &groupCommit{}
		s.groups[path] = g
	}
	return g
}

// PutObjectRecord records an object PUT or DELETE (rec.Deleted) in the
// container's listing. The newest timestamp wins; replays and older updates
// change nothing. A missing or deleted container is ErrNotFound.
func (s *Store) PutObjectRecord(ctx context.Context, ref ContainerRef, rec ObjectRecord) error {
	path := s.containerPath(ref.Device, ref.Partition, ref.Account, ref.Container)
	g := s.groupFor(path)
	p := &pendingRecord{rec: rec, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.running {
		g.mu.Unlock()
		return <-p.done
	}
	g.running = true
	g.mu.Unlock()
	// This caller leads: commit batches until the queue is empty. A client
	// going away must not fail the others' rows, hence WithoutCancel.
	bctx := context.WithoutCancel(ctx)
	for round := 0; ; round++ {
		if round == maxLeaderRounds {
			go s.drain(bctx, ref, path, g)
			break
		}
		if !s.commitRound(bctx, ref, path, g) {
			break
		}
	}
	return <-p.done
}

func (s *Store) drain(ctx context.Context, ref ContainerRef, path string, g *groupCommit) {
	for s.commitRound(ctx, ref, path, g) {
	}
}

// commitRound commits one batch from the queue; false means the queue was
// empty and leadership is released.
func (s *Store) commitRound(ctx context.Context, ref ContainerRef, path string, g *groupCommit) bool {
	g.mu.Lock()
	n := min(len(g.queue), maxBatch)
	if n == 0 {
		g.running = false
		g.mu.Unlock()
		// Forget idle groups so the map holds only busy containers. A
		// caller that already holds g simply leads on it; at worst two
		// groups briefly share the database's single writer.
		s.groupsMu.Lock()
		g.mu.Lock()
		if s.groups[path] == g && !g.running && len(g.queue) == 0 {
			delete(s.groups, path)
		}
		g.mu.Unlock()
		s.groupsMu.Unlock()
		return false
	}
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	recs := make([]ObjectRecord, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
	}
	err := s.commitObjects(ctx, ref, recs)
	for _, p := range batch {
		p.done <- err
	}
	return true
}

// commitObjects writes a batch of listing rows in one transaction without
// waiting for the disk: SQLite's synchronous=NORMAL in WAL mode, for this
// transaction only. The rows survive a crash of kumo (they are in the
// kernel's page cache) and reach the disk at the next checkpoint or
// writeback; a power loss may drop the newest ones. That is what Swift
// does with listing updates (appended to the container's .pending file,
// flushed, not fsynced): the objects themselves are fsynced on a quorum
// before the client hears 201, the listing is eventually consistent.
// Every other write to the database keeps synchronous=FULL.
func (s *Store) commitObjects(ctx context.Context, ref ContainerRef, recs []ObjectRecord) error {
	c, err := s.openContainer(ref, false, "", 0)
	if err != nil {
		return err
	}
	defer c.release()
	sc := s.cache.statements(c.path)
	if err := sc.prepare(ctx, mergeGuard, mergeSelect, mergeDelete, mergeInsert, mergeCount); err != nil {
		return err
	}
	// The writer pool has exactly one connection: holding it keeps every
	// other write out until synchronous is FULL again.
	conn, err := c.d.W.Conn(ctx)
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
	var info ContainerInfo
	if st, serr := sc.in(ctx, tx, mergeGuard); serr != nil {
		err = serr
	} else {
		err = st.QueryRowContext(ctx).Scan(&info.PutTimestamp, &info.DeleteTimestamp, &info.ObjectCount)
		st.Close()
	}
	if err == nil && (info.Deleted() || info.PutTimestamp == zeroTimestamp) {
		err = ErrNotFound
	}
	if err == nil {
		_, err = mergeObjects(ctx, tx, sc, recs)
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
