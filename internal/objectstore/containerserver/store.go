package containerserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"kumo/internal/platform/db"
)

// Errors the HTTP layer maps to Swift's status codes.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrDeleted  = errors.New("recently deleted")
)

// Store opens the account and container databases under one root holding
// one directory per device. Handles stay open in a bounded LRU.
type Store struct {
	root  string
	hash  HashPath
	cache *handleCache
	// createMu serialises creating a database file, so two first writers
	// do not both initialise the info row.
	createMu sync.Mutex

	// Listing rows not yet merged into their databases (pending.go).
	pendingMu sync.Mutex
	pending   map[string]*pendingRows // by container database path
	mergesMu  sync.Mutex
	closing   bool           // no more merges are scheduled; under mergesMu
	merges    sync.WaitGroup // scheduled merges
	// mergeDelay is defaultMergeDelay; a test of a crash sets it long.
	mergeDelay time.Duration
}

// DefaultOpenHandles bounds the open database handles per Store. Each
// handle holds a writer and a small reader pool, each with the database,
// WAL and shared-memory files open, so the bound is what keeps a node with
// many containers inside its file-descriptor limit.
const DefaultOpenHandles = 64

// NewStore returns a Store rooted at root (the devices directory, Swift's
// /srv/node). maxOpen <= 0 means DefaultOpenHandles.
func NewStore(root string, hp HashPath, maxOpen int) *Store {
	if maxOpen <= 0 {
		maxOpen = DefaultOpenHandles
	}
	return &Store{root: root, hash: hp, cache: newHandleCache(maxOpen),
		pending: map[string]*pendingRows{}, mergeDelay: defaultMergeDelay}
}

// Close merges the pending listing rows and closes idle database handles.
func (s *Store) Close() {
	s.flushPending()
	s.cache.closeAll()
}

// Root is the devices directory.
func (s *Store) Root() string { return s.root }

// deviceOK reports whether the device directory exists; Swift answers 507
// for a missing (unmounted) device.
func (s *Store) deviceOK(dev string) bool {
	if dev == "" || dev == "." || dev == ".." || strings.ContainsRune(dev, '/') {
		return false
	}
	st, err := os.Stat(filepath.Join(s.root, dev))
	return err == nil && st.IsDir()
}

func (s *Store) openFile(path string) (*db.DB, error) {
	d, err := db.OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	if err := upgradeSchema(d); err != nil {
		d.Close()
		return nil, fmt.Errorf("upgrade %s: %w", path, err)
	}
	return d, nil
}

// handle opens the database at path. With create false a missing file is
// ErrNotFound and nothing is created. A container's pending listing rows
// are merged first (pending.go).
func (s *Store) handle(path string, create bool, kind Kind, initInfo func(tx *sql.Tx) error) (*db.DB, func(), error) {
	d, release, err := s.acquire(path, create, kind, initInfo)
	if err != nil || kind != KindContainer {
		return d, release, err
	}
	if err := s.mergeBefore(path); err != nil {
		release()
		return nil, nil, err
	}
	return d, release, nil
}

// acquire is handle without the merge.
func (s *Store) acquire(path string, create bool, kind Kind, initInfo func(tx *sql.Tx) error) (*db.DB, func(), error) {
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
		if !create {
			return nil, nil, ErrNotFound
		}
		if err := s.createDB(path, kind, initInfo); err != nil {
			return nil, nil, err
		}
	}
	return s.cache.acquire(path, s.openFile)
}

// createDB builds a new database in a temporary file and renames it into
// place, so a crash never leaves a half-initialised database that later
// looks like an existing container.
func (s *Store) createDB(path string, kind Kind, initInfo func(tx *sql.Tx) error) error {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	d, err := db.OpenSQLite(tmp)
	if err != nil {
		return err
	}
	schema := containerSchema
	if kind == KindAccount {
		schema = accountSchema
	}
	err = d.Tx(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(schema); err != nil {
			return err
		}
		return initInfo(tx)
	})
	if err == nil {
		// Fold the WAL into the main file before the rename moves only it.
		_, err = d.W.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("create database %s: %w", path, err)
	}
	for _, sfx := range []string{"-wal", "-shm"} {
		_ = os.Remove(tmp + sfx)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	// Make the new file and the directories MkdirAll may have made durable,
	// up to the device: <kind>/<part>/<suffix>/<hash>.
	dir := filepath.Dir(path)
	for i := 0; i < 5 && dir != s.root; i++ {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
		dir = filepath.Dir(dir)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func newDBID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// containerPath is where the container database for account/container lives.
func (s *Store) containerPath(dev string, part int, account, container string) string {
	return dbPath(s.root, dev, KindContainer, part, s.hash.Hash(account, container))
}

// accountPath is where the account database lives.
func (s *Store) accountPath(dev string, part int, account string) string {
	return dbPath(s.root, dev, KindAccount, part, s.hash.Hash(account, ""))
}

// syncPoint returns how far rows from remoteID have been merged here.
func syncPoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, remoteID string) (int64, error) {
	var p int64
	err := q.QueryRowContext(ctx, `SELECT sync_point FROM incoming_sync WHERE remote_id = ?`, remoteID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	return p, err
}

func setSyncPoint(ctx context.Context, tx *sql.Tx, remoteID string, p int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO incoming_sync (remote_id, sync_point) VALUES (?, ?)
		ON CONFLICT (remote_id) DO UPDATE SET sync_point = max(sync_point, excluded.sync_point)`, remoteID, p)
	return err
}
