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
	k := stmtKey{r, q}
	listStmts.Lock()
	st := listStmts.m[k]
	listStmts.Unlock()
	if st == nil {
		var err error
		// Prepared outside the lock: two requests may both prepare; one
		// statement is kept and the other closed.
		if st, err = r.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		listStmts.Lock()
		switch kept := listStmts.m[k]; {
		case kept != nil:
			st.Close()
			st = kept
		case len(listStmts.m) < maxListStmts:
			listStmts.m[k] = st
		default:
			defer st.Close() // after the rows are read: Close waits for them
		}
		listStmts.Unlock()
	}
	return st.QueryContext(ctx, args...)
}
