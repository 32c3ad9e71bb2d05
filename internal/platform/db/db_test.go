package db

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
)

func TestMigrateOnceAndConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	d, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"m/0001_init.sql": {Data: []byte("-- a table\nCREATE TABLE t (id TEXT PRIMARY KEY,\n v INTEGER);\nCREATE INDEX t_v ON t (v);\n")},
		"m/0002_more.sql": {Data: []byte("ALTER TABLE t ADD COLUMN w TEXT;")},
	}
	got, err := d.Migrate(ctx, "svc", fsys, "m")
	if err != nil || len(got) != 2 {
		t.Fatalf("first migrate: %v %v", got, err)
	}
	got, err = d.Migrate(ctx, "svc", fsys, "m")
	if err != nil || len(got) != 0 {
		t.Fatalf("second migrate should apply nothing: %v %v", got, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := d.W.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, "same", i)
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	ok, dup := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case IsUniqueViolation(err):
			dup++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 || dup != 49 {
		t.Fatalf("want 1 insert and 49 conflicts, got %d and %d", ok, dup)
	}
	d.Close()
	d, err = OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.R.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after reopen: %d %v", n, err)
	}
}
