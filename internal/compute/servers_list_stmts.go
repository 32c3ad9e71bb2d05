package compute

import (
	"context"
	"database/sql"
	"sync"
)

// The list queries' texts repeat (one per filter and sort shape, and the
// page loads' few), and parsing one costs SQLite as much as reading
// a hundred rows: they are prepared once per database. The cache stops
// growing at maxListStmts and never closes a statement another request
// may be using; past the limit a query is prepared each time as before.
const maxListStmts = 256

type stmtKey struct {
	db *sql.DB
	q  string
}

var listStmts = struct {
	sync.Mutex
	m map[stmtKey]*sql.Stmt
}{m: map[stmtKey]*sql.Stmt{}}

// queryCached runs q on r through a cached prepared statement.
func queryCached(ctx context.Context, r *sql.DB, q string, args ...any) (*sql.Rows, error) {
	st, done, err := cachedStmt(ctx, r, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if done != nil {
		done() // after the query: Close waits for its rows
	}
	return rows, err
}

// cachedStmt returns r's prepared statement of q; done (not nil past the
// cache's limit) closes it when the caller has used it.
func cachedStmt(ctx context.Context, r *sql.DB, q string) (*sql.Stmt, func(), error) {
	k := stmtKey{r, q}
	listStmts.Lock()
	st := listStmts.m[k]
	listStmts.Unlock()
	if st != nil {
		return st, nil, nil
	}
	// Prepared outside the lock: two requests may both prepare; one
	// statement is kept and the other closed.
	st, err := r.PrepareContext(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	listStmts.Lock()
	defer listStmts.Unlock()
	switch kept := listStmts.m[k]; {
	case kept != nil:
		st.Close()
		return kept, nil, nil
	case len(listStmts.m) < maxListStmts:
		listStmts.m[k] = st
		return st, nil, nil
	}
	return st, func() { st.Close() }, nil
}
