package token

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxActiveKeys is Keystone's default [fernet_tokens] max_active_keys:
// the staged key, the primary and one secondary.
const DefaultMaxActiveKeys = 3

// Setup prepares a key repository the way keystone-manage fernet_setup does:
// it creates dir (mode 0700) if needed and, if the directory holds no keys,
// writes a primary key 1 and a staged key 0. It is idempotent. If keys exist
// but the staged key 0 is missing (a rotation was interrupted), Setup writes
// a new staged key and leaves the others alone.
func Setup(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("fernet setup: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("fernet setup: %w", err)
	}
	defer unlock()

	indexes, err := keyIndexes(dir)
	if err != nil {
		return fmt.Errorf("fernet setup: %w", err)
	}
	if len(indexes) == 0 {
		if err := writeKeyFile(dir, "1", generateKey()); err != nil {
			return fmt.Errorf("fernet setup: %w", err)
		}
	}
	if !slices.Contains(indexes, 0) {
		if err := writeKeyFile(dir, "0", generateKey()); err != nil {
			return fmt.Errorf("fernet setup: %w", err)
		}
	}
	return nil
}

// Rotate rotates the keys in dir as keystone-manage fernet_rotate does: the
// staged key 0 becomes the primary with the next free index, a new staged
// key 0 is written, and the oldest secondary keys are removed so that at
// most maxActive keys remain, the staged key included. maxActive must be at
// least 2 (the staged key and the primary).
//
// Every step is atomic on its own, so a process loading the directory during
// a rotation always sees a usable set. If a previous rotation stopped after
// promoting key 0, Rotate completes it (writes the staged key and purges)
// instead of promoting again.
func Rotate(dir string, maxActive int) error {
	if maxActive < 2 {
		return fmt.Errorf("fernet rotate: max active keys is %d, must be at least 2", maxActive)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("fernet rotate: %w", err)
	}
	defer unlock()

	indexes, err := keyIndexes(dir)
	if err != nil {
		return fmt.Errorf("fernet rotate: %w", err)
	}
	if len(indexes) == 0 {
		return fmt.Errorf("fernet rotate: no keys in %s (run setup first)", dir)
	}
	if indexes[0] == 0 {
		// Promote only a key that would load: a broken staged key must not
		// become the primary.
		if _, err := readKeyFile(dir, "0"); err != nil {
			return fmt.Errorf("fernet rotate: %w", err)
		}
		next := indexes[len(indexes)-1] + 1
		if err := os.Rename(filepath.Join(dir, "0"), filepath.Join(dir, strconv.Itoa(next))); err != nil {
			return fmt.Errorf("fernet rotate: promote staged key: %w", err)
		}
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("fernet rotate: %w", err)
		}
		indexes = append(indexes[1:], next)
	}
	if err := writeKeyFile(dir, "0", generateKey()); err != nil {
		return fmt.Errorf("fernet rotate: %w", err)
	}
	// indexes now holds the non-staged keys in ascending order; keep the
	// newest maxActive-1 of them.
	for len(indexes) > maxActive-1 {
		if err := os.Remove(filepath.Join(dir, strconv.Itoa(indexes[0]))); err != nil {
			return fmt.Errorf("fernet rotate: purge key: %w", err)
		}
		indexes = indexes[1:]
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("fernet rotate: %w", err)
	}
	return nil
}

// Load reads every key in dir. The highest index is the primary key. A key
// file that is not a 32-byte urlsafe base64 key is an error naming the file;
// files whose names are not integers (temporary files, notes) are ignored,
// as Keystone ignores them.
func Load(dir string) (*Keys, error) {
	indexes, err := keyIndexes(dir)
	if err != nil {
		return nil, fmt.Errorf("load fernet keys: %w", err)
	}
	if len(indexes) == 0 {
		return nil, fmt.Errorf("load fernet keys: no keys in %s", dir)
	}
	k := &Keys{keys: make([]fernetKey, 0, len(indexes))}
	for _, i := range slices.Backward(indexes) {
		raw, err := readKeyFile(dir, strconv.Itoa(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue // renamed or purged by a rotation since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("load fernet keys: %w", err)
		}
		fk, err := newFernetKey(i, raw)
		if err != nil {
			return nil, fmt.Errorf("load fernet keys: %w", err)
		}
		k.keys = append(k.keys, fk)
	}
	if len(k.keys) == 0 {
		return nil, fmt.Errorf("load fernet keys: no keys in %s", dir)
	}
	return k, nil
}

// keyIndexes lists the key indexes in dir in ascending order. Key files are
// regular files named by a decimal integer; symbolic links are followed, as
// a Kubernetes secret mounts its keys as links.
func keyIndexes(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var indexes []int
	for _, e := range entries {
		name := e.Name()
		if !isDigits(name) {
			continue
		}
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir, or a dangling link
		}
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		i, err := strconv.Atoi(name)
		if err != nil || strconv.Itoa(i) != name {
			return nil, fmt.Errorf("key file %s: name is not a canonical key index", path)
		}
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	return indexes, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// readKeyFile reads and decodes one key file.
func readKeyFile(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := parseKey(text)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return raw, nil
}

// writeKeyFile writes a key file atomically: a temporary file (mode 0600,
// named so that key loaders ignore it) is written, synced and renamed over
// the target, and the directory is synced.
func writeKeyFile(dir, name string, key []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-key-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(key); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// reloadInterval bounds how often a Repository looks at its directory.
const reloadInterval = time.Second

// Repository is a key directory that a long-running server reads keys from.
// Keys re-reads the directory when its modification time changes (a rotation
// renames, writes and removes files in it), looking at most once per second,
// so it costs next to nothing per request. It is safe for concurrent use.
type Repository struct {
	dir      string
	interval time.Duration

	mu    sync.Mutex // serializes reloads
	state atomic.Pointer[repoState]
}

type repoState struct {
	keys    *Keys     // the last set that loaded
	err     error     // the last reload's failure, if it failed
	mtime   time.Time // the directory's mtime when keys were read; zero forces a reload
	checked time.Time // when the directory was last looked at (monotonic)
}

// OpenRepository loads the keys in dir and returns a Repository that keeps
// them current.
func OpenRepository(dir string) (*Repository, error) {
	r := &Repository{dir: dir, interval: reloadInterval}
	st := r.reload(&repoState{})
	if st.err != nil {
		return nil, st.err
	}
	r.state.Store(st)
	return r, nil
}

// Dir returns the repository's directory.
func (r *Repository) Dir() string { return r.dir }

// Keys returns the current key set, re-reading the directory if it changed.
// If a re-read fails (say an operator dropped a broken file in), Keys returns
// the error together with the last set that loaded, so that a caller may log
// the error and go on serving; it tries again on the next check.
func (r *Repository) Keys() (*Keys, error) {
	st := r.state.Load()
	if time.Since(st.checked) < r.interval {
		return st.keys, st.err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st = r.state.Load()
	if time.Since(st.checked) < r.interval {
		return st.keys, st.err // another goroutine just looked
	}
	st = r.reload(st)
	r.state.Store(st)
	return st.keys, st.err
}

// reload returns the state after looking at the directory.
func (r *Repository) reload(old *repoState) *repoState {
	now := time.Now()
	info, err := os.Stat(r.dir)
	if err != nil {
		return &repoState{keys: old.keys, err: fmt.Errorf("load fernet keys: %w", err), checked: now}
	}
	mtime := info.ModTime()
	if old.err == nil && !old.mtime.IsZero() && mtime.Equal(old.mtime) {
		return &repoState{keys: old.keys, mtime: old.mtime, checked: now}
	}
	keys, err := Load(r.dir)
	if err != nil {
		return &repoState{keys: old.keys, err: err, checked: now}
	}
	// A change made within the file system's timestamp granularity after
	// this read may leave the mtime as it is; a recent mtime is not trusted
	// (as git treats "racily clean" files), so the next check reads again.
	if now.Sub(mtime) < 2*time.Second {
		mtime = time.Time{}
	}
	return &repoState{keys: keys, mtime: mtime, checked: now}
}
