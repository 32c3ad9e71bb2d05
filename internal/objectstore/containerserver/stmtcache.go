package containerserver

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps a database's prepared writer statements while its
// handle stays open. The listing-row commit of every object PUT and DELETE
// prepared its statements afresh, and SQLite's parser took about a tenth
// of a small PUT's CPU.
type stmtCache struct {
	w  *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(w *sql.DB) *stmtCache { return &stmtCache{w: w, m: map[string]*sql.Stmt{}} }

// prepare puts queries in the cache, prepared on the writer pool. Call it
// before taking the pool's one connection: preparing needs it.
func (sc *stmtCache) prepare(ctx context.Context, queries ...string) error {
	if sc == nil {
		return nil
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, q := range queries {
		if _, ok := sc.m[q]; ok {
			continue
		}
		st, err := sc.w.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		sc.m[q] = st
	}
	return nil
}

// in returns query for tx: the cached statement, which database/sql reuses
// on the connection it was prepared on (or prepares again on tx's), else
// one prepared in tx alone.
func (sc *stmtCache) in(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	var st *sql.Stmt
	if sc != nil {
		sc.mu.Lock()
		st = sc.m[query]
		sc.mu.Unlock()
	}
	if st == nil {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, st), nil
}
