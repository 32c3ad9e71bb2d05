// Package db opens kumo's databases and applies each service's embedded
// migrations. SQLite is the embedded default. Writes go through one
// connection, so concurrent API writers queue in Go instead of failing with
// "database is locked", and reads use a pool of their own. SQL in kumo stays
// portable: plain ANSI statements with "?" placeholders, which Rebind turns
// into "$n" for PostgreSQL when that backend is added.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a database handle split into a writer and a reader pool.
type DB struct {
	W *sql.DB // exactly one connection: all writes and write transactions
	R *sql.DB // read-only queries
}

// OpenSQLite opens (creating if needed) the SQLite database at path, in WAL
// mode with full fsync, so an acknowledged write survives a crash.
func OpenSQLite(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	n := runtime.GOMAXPROCS(0) * 2
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &DB{W: w, R: r}, nil
}

// Close closes both pools.
func (d *DB) Close() error { return errors.Join(d.R.Close(), d.W.Close()) }

// Tx runs fn in a write transaction, committing when fn returns nil.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Migrate applies, in name order, every "*.sql" file of dir in fsys that has
// not been applied yet for service, each in its own transaction, and records
// it in kumo_migrations. A file may hold several statements separated by ";"
// at line ends.
func (d *DB) Migrate(ctx context.Context, service string, fsys fs.FS, dir string) (applied []string, err error) {
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS kumo_migrations (
		service TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (service, name))`); err != nil {
		return nil, fmt.Errorf("migrate %s: %w", service, err)
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", service, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := d.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM kumo_migrations WHERE service = ? AND name = ?`, service, name).Scan(&n); err != nil {
			return applied, fmt.Errorf("migrate %s: %w", service, err)
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", service, err)
		}
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			for _, stmt := range splitStatements(string(body)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w\n%s", name, err, stmt)
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO kumo_migrations (service, name) VALUES (?, ?)`, service, name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", service, err)
		}
		applied = append(applied, name)
	}
	return applied, nil
}

func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

// IsUniqueViolation reports whether err is a unique-constraint failure, which
// the APIs turn into 409 Conflict.
func IsUniqueViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "constraint failed: PRIMARY KEY") ||
		strings.Contains(err.Error(), "duplicate key value"))
}
