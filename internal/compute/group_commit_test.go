package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"kumo/internal/platform/db"
)

// TestGroupCommitIsolatesFailures: many concurrent writes grouped into
// shared transactions each commit or fail alone; a failed one leaves none
// of its rows, the others all of theirs, and every caller that returned
// nil finds its rows committed.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	d, err := db.OpenSQLite(filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.W.Exec(`CREATE TABLE g (k TEXT PRIMARY KEY, part INTEGER)`); err != nil {
		t.Fatal(err)
	}
	g := committerOf(d)
	errBoom := errors.New("boom")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.do(ctx, func(tx *sql.Tx) error {
				// Two rows per write: a failure after the first must undo it.
				if _, err := tx.Exec(`INSERT INTO g VALUES (?, 1)`, fmt.Sprint("k", i)); err != nil {
					return err
				}
				if i%7 == 3 {
					return errBoom
				}
				_, err := tx.Exec(`INSERT INTO g VALUES (?, 2)`, fmt.Sprint("k", i, "b"))
				return err
			})
		}()
	}
	wg.Wait()
	if c := g.commits.Load(); c >= n {
		t.Fatalf("%d transactions for %d concurrent writes: none grouped", c, n)
	}
	t.Logf("%d writes in %d transactions", n, g.commits.Load())
	for i := range n {
		var rows int
		if err := d.R.QueryRow(`SELECT COUNT(*) FROM g WHERE k IN (?, ?)`, fmt.Sprint("k", i), fmt.Sprint("k", i, "b")).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		switch {
		case i%7 == 3 && (!errors.Is(errs[i], errBoom) || rows != 0):
			t.Errorf("failing write %d: err %v, %d rows left, want boom and 0", i, errs[i], rows)
		case i%7 != 3 && (errs[i] != nil || rows != 2):
			t.Errorf("write %d: err %v, %d rows, want nil and 2", i, errs[i], rows)
		}
	}
	// A write after another's failure in the same group sees the state
	// before it: a unique key freed by the rollback can be taken.
	if err := g.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO g VALUES ('k3', 9)`)
		return err
	}); err != nil {
		t.Fatalf("insert of a key a failed write rolled back: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.do(cctx, func(tx *sql.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("write with a cancelled context: %v", err)
	}
}
