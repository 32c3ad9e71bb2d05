package placement

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"time"

	"kumo/internal/platform/db"
)

// Store is the placement state: the in-memory view that every decision is
// made on, and the database that makes each change durable. All methods
// are safe for concurrent use.
type Store struct {
	db    *db.DB
	now   func() time.Time
	stmts map[string]*sql.Stmt // prepared at Open (sql.go)

	mu        sync.Mutex
	providers map[string]*provider // by uuid
	names     map[string]string    // provider name → uuid
	consumers map[string]*consumer // by uuid; only consumers with allocations
	// queue holds changes applied in memory but not yet committed, in the
	// order they were applied; the committer writes them in that order, so
	// the database always holds a prefix of the in-memory history.
	queue      []*write
	committing bool
	broken     error // set when the database failed and memory could not be reloaded
	closed     bool
	wg         sync.WaitGroup // the running committer
}

type provider struct {
	uuid, name string
	generation int64
	// res has one entry per class with an inventory or a usage, sorted by
	// class: a short slice scans faster than maps, and candidates are read
	// for every provider on every scheduling request.
	res []resource
}

type resource struct {
	class string
	inv   Inventory
	has   bool // the provider has an inventory of the class
	used  int64
}

// get returns the provider's entry for class rc, nil if it has none.
func (p *provider) get(rc string) *resource {
	for i := range p.res {
		if p.res[i].class == rc {
			return &p.res[i]
		}
	}
	return nil
}

// ensure returns the entry for class rc, adding an empty one if needed.
func (p *provider) ensure(rc string) *resource {
	if r := p.get(rc); r != nil {
		return r
	}
	p.res = append(p.res, resource{class: rc})
	sort.Slice(p.res, func(i, j int) bool { return p.res[i].class < p.res[j].class })
	return p.get(rc)
}

type consumer struct {
	project, user string
	generation    int64
	allocs        map[string]map[string]int64 // provider uuid → class → amount
}

// write is one change waiting for its transaction.
type write struct {
	exec func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// Open applies placement's migrations to d and loads the state into memory.
// The store shares d with nobody's writes to its tables: they are its own.
func Open(ctx context.Context, d *db.DB) (*Store, error) {
	if _, err := Migrate(ctx, d); err != nil {
		return nil, err
	}
	s := &Store{db: d, now: time.Now}
	if err := s.load(ctx); err != nil {
		return nil, fmt.Errorf("placement: load: %w", err)
	}
	if err := s.prepare(ctx); err != nil {
		return nil, fmt.Errorf("placement: %w", err)
	}
	return s, nil
}

// Close waits for the changes being committed and refuses new ones. It does
// not close d.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	return s.closeStatements()
}

// load replaces the in-memory view with what the database holds. The
// caller holds s.mu, or has the store to itself.
func (s *Store) load(ctx context.Context) error {
	providers := map[string]*provider{}
	names := map[string]string{}
	consumers := map[string]*consumer{}
	rows, err := s.db.W.QueryContext(ctx, `SELECT uuid, name, generation FROM resource_providers`)
	if err != nil {
		return err
	}
	for rows.Next() {
		p := &provider{}
		if err := rows.Scan(&p.uuid, &p.name, &p.generation); err != nil {
			rows.Close()
			return err
		}
		providers[p.uuid] = p
		names[p.name] = p.uuid
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = s.db.W.QueryContext(ctx, `SELECT provider_uuid, resource_class, total, reserved,
		min_unit, max_unit, step_size, allocation_ratio FROM inventories`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var puuid, rc string
		var i Inventory
		if err := rows.Scan(&puuid, &rc, &i.Total, &i.Reserved, &i.MinUnit, &i.MaxUnit, &i.StepSize, &i.AllocationRatio); err != nil {
			rows.Close()
			return err
		}
		if p := providers[puuid]; p != nil {
			r := p.ensure(rc)
			r.inv, r.has = i, true
		}
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = s.db.W.QueryContext(ctx, `SELECT uuid, project_id, user_id, generation FROM placement_consumers`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		c := &consumer{allocs: map[string]map[string]int64{}}
		if err := rows.Scan(&id, &c.project, &c.user, &c.generation); err != nil {
			rows.Close()
			return err
		}
		consumers[id] = c
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = s.db.W.QueryContext(ctx, `SELECT consumer_uuid, provider_uuid, resource_class, used FROM allocations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var cid, puuid, rc string
		var used int64
		if err := rows.Scan(&cid, &puuid, &rc, &used); err != nil {
			rows.Close()
			return err
		}
		c, p := consumers[cid], providers[puuid]
		if c == nil || p == nil {
			continue // foreign keys make this impossible; skip rather than crash
		}
		if c.allocs[puuid] == nil {
			c.allocs[puuid] = map[string]int64{}
		}
		c.allocs[puuid][rc] += used
		p.ensure(rc).used += used
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	for id, c := range consumers {
		if len(c.allocs) == 0 {
			delete(consumers, id)
		}
	}
	s.providers, s.names, s.consumers = providers, names, consumers
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// usable returns why the store cannot take changes, if it cannot. The
// caller holds s.mu.
func (s *Store) usable() error {
	if s.closed {
		return ErrClosed
	}
	if s.broken != nil {
		return fmt.Errorf("placement: database failed: %w", s.broken)
	}
	return nil
}

// enqueue queues exec, a change already applied in memory, for the next
// group commit and starts the committer if none runs. The caller holds s.mu
// and waits on the returned channel after unlocking.
func (s *Store) enqueue(exec func(ctx context.Context, tx *sql.Tx) error) chan error {
	w := &write{exec: exec, done: make(chan error, 1)}
	s.queue = append(s.queue, w)
	if !s.committing {
		s.committing = true
		s.wg.Add(1)
		go s.commitLoop()
	}
	return w.done
}

// commitLoop writes queued changes, all that are waiting in one
// transaction, until the queue is empty. A change's caller learns of
// success only after its transaction committed with a full fsync.
func (s *Store) commitLoop() {
	defer s.wg.Done()
	// Commits are not tied to one caller's context: a change applied in
	// memory must reach the database or be undone by a reload.
	ctx := context.Background()
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		if len(batch) == 0 {
			s.committing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, w := range batch {
				if err := w.exec(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, w := range batch {
				w.done <- nil
			}
			continue
		}
		// The batch is lost, and changes queued behind it were decided on a
		// memory view that included it: fail them all and go back to what
		// the database holds.
		s.mu.Lock()
		rest := s.queue
		s.queue = nil
		if lerr := s.load(ctx); lerr != nil {
			s.broken = lerr
		}
		s.mu.Unlock()
		err = fmt.Errorf("placement: commit: %w", err)
		for _, w := range append(batch, rest...) {
			w.done <- err
		}
	}
}
