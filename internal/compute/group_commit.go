package compute

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"kumo/internal/platform/db"
)

// groupCommit runs the small write transactions of many callers (an
// instance's state changes, its action events, the hosts' heartbeats) in
// one SQLite transaction: the database commits with a full fsync, about a
// millisecond each, and one writer; ten commits per instance built capped
// the cloud near a hundred builds a second. Each caller's work runs in
// its own savepoint, in arrival order, so it sees the earlier ones' writes
// and its failure undoes only its own; each caller returns only after the
// transaction holding its work committed, as with db.Tx.
type groupCommit struct {
	db *db.DB

	mu      sync.Mutex
	queue   []*groupWrite
	running bool
	commits atomic.Int64 // transactions run, for tests
}

type groupWrite struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// maxGroup bounds a transaction, so that one commit does not hold the
// writer for long.
const maxGroup = 256

// committers has one group committer per database.
var committers sync.Map // *db.DB → *groupCommit

func committerOf(d *db.DB) *groupCommit {
	if g, ok := committers.Load(d); ok {
		return g.(*groupCommit)
	}
	g, _ := committers.LoadOrStore(d, &groupCommit{db: d})
	return g.(*groupCommit)
}

// groupTx runs fn as a write transaction of st's database, grouped with
// others waiting at the same time.
func (st instanceStore) groupTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return committerOf(st.db).do(ctx, fn)
}

// do queues fn and waits for the commit of the transaction that ran it.
// fn must use only tx (the writer connection is the committer's).
func (g *groupCommit) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &groupWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	// Not abandoned on ctx's end: the work may be committed already, and
	// the caller must know.
	return <-w.done
}

// loop commits what is queued until the queue is empty.
func (g *groupCommit) loop() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		if n == 0 {
			g.queue = nil
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.commit(batch)
	}
}

// commit runs batch in one transaction and tells every caller its result.
func (g *groupCommit) commit(batch []*groupWrite) {
	g.commits.Add(1)
	if len(batch) == 1 {
		// Alone, the work is the transaction: no savepoint needed.
		w := batch[0]
		w.done <- g.db.Tx(context.Background(), w.fn)
		return
	}
	errs := make([]error, len(batch))
	err := g.db.Tx(context.Background(), func(tx *sql.Tx) error {
		for i, w := range batch {
			if errs[i] = w.ctx.Err(); errs[i] != nil {
				continue
			}
			if _, err := tx.Exec(`SAVEPOINT grouped`); err != nil {
				return err
			}
			if errs[i] = w.fn(tx); errs[i] != nil {
				if _, err := tx.Exec(`ROLLBACK TO grouped`); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(`RELEASE grouped`); err != nil {
				return err
			}
		}
		return nil
	})
	for i, w := range batch {
		if err != nil {
			w.done <- err
		} else {
			w.done <- errs[i]
		}
	}
}
