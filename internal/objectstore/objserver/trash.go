package objserver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Obsolete files (the .data a DELETE or a newer PUT replaced) are renamed
// into <dev>/trash and unlinked by background goroutines, not in the
// request. On an ext4 mounted with discard, as this machine's root is,
// unlinking a file whose blocks reached the disk discards them before it
// returns: 126 µs p50 and 3.5 ms p99 for a 5 KB file here, under the
// object's lock, against 13 µs for one whose blocks were never written.
// A rename frees nothing. What a crash leaves in trash/ is removed by the
// replicator's tmp pass (cleanTmp).

const trashDirName = "trash"

// trashQueue bounds the renamed files waiting for the unlinkers; past it
// a request unlinks its own.
const trashQueue = 4096

// trashUnlinkers unlink at once: the disk takes discards in parallel
// (10,000 unlinks of 5 KB files per second here with one, 18,000 with two,
// 22,000 with four), and under 32 DELETE clients one fell behind.
const trashUnlinkers = 4

type trash struct {
	mu     sync.RWMutex // held to send on ch; closed under it
	closed bool
	ch     chan string
	done   sync.WaitGroup
	prefix string // unique to this store's life
	seq    atomic.Uint64
}

func (s *Store) trashDir(dev string) string { return filepath.Join(s.cfg.Root, dev, trashDirName) }

func (s *Store) startTrash() {
	t := &trash{ch: make(chan string, trashQueue), prefix: strconv.FormatInt(time.Now().UnixNano(), 36) + "-"}
	for range trashUnlinkers {
		t.done.Add(1)
		go func() {
			defer t.done.Done()
			for p := range t.ch {
				_ = os.Remove(p)
			}
		}()
	}
	s.trash = t
}

// stopTrash unlinks what is queued; a later dispose unlinks at once.
func (s *Store) stopTrash() {
	if t := s.trash; t != nil {
		t.mu.Lock()
		if !t.closed {
			t.closed = true
			close(t.ch)
		}
		t.mu.Unlock()
		t.done.Wait()
	}
}

// dispose removes the file at path, on device dev: renamed into trash and
// unlinked later, or at once when that cannot be done. A tombstone is
// unlinked at once: it is a link of a shared file (tombstone.go), so
// nothing is freed.
func (s *Store) dispose(dev, path string) error {
	t := s.trash
	if t == nil || dev == "" || strings.HasSuffix(path, extTomb) {
		return os.Remove(path)
	}
	dst := filepath.Join(s.trashDir(dev), t.prefix+strconv.FormatUint(t.seq.Add(1), 36))
	err := os.Rename(path, dst)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(path); serr != nil {
			return err // the file itself is gone
		}
		if err = os.MkdirAll(s.trashDir(dev), 0o755); err == nil {
			err = os.Rename(path, dst)
		}
	}
	if err != nil {
		return os.Remove(path)
	}
	t.mu.RLock()
	queued := false
	if !t.closed {
		select {
		case t.ch <- dst:
			queued = true
		default:
		}
	}
	t.mu.RUnlock()
	if !queued {
		_ = os.Remove(dst)
	}
	return nil
}

// deviceOf is the device whose objects dir holds dir, "" if none does.
func (s *Store) deviceOf(dir string) string {
	rel, err := filepath.Rel(s.cfg.Root, dir)
	if err != nil || !filepath.IsLocal(rel) {
		return ""
	}
	dev, rest, _ := strings.Cut(filepath.ToSlash(rel), "/")
	if !strings.HasPrefix(rest, "objects/") {
		return ""
	}
	return dev
}

// cleanTrash removes what a crash left in <dev>/trash.
func (s *Store) cleanTrash(dev string) int {
	dir := s.trashDir(dev)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if s.trash != nil && strings.HasPrefix(e.Name(), s.trash.prefix) {
			continue // queued by this store
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}
