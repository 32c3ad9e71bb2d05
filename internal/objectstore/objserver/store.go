package objserver

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config describes one storage node.
type Config struct {
	// Root holds one directory per device (e.g. DATA/objectstore/node1,
	// with sdb1 and sdc1 inside).
	Root     string
	HashPath HashPath
	// MountCheck requires each device directory to be a mount point, as
	// Swift's mount_check: an unmounted disk must not fill the root file
	// system.
	MountCheck bool
	// FallocateReserve (bytes) and FallocateReservePercent keep this much of
	// a device free; a PUT that would cross it gets 507 so the proxy picks a
	// handoff.
	FallocateReserve        int64
	FallocateReservePercent float64
	// UpdateTimeout is how long a PUT/DELETE waits for container updates
	// before answering; slower ones finish in the background. Default 1s.
	UpdateTimeout time.Duration
	// NodeTimeout bounds one backend request the node makes. Default 10s.
	NodeTimeout time.Duration
	// ReclaimAge is how long tombstones are kept. Default one week.
	ReclaimAge time.Duration
	// TmpMaxAge is the age after which a file left in <dev>/tmp by a crash
	// is removed. Default one hour.
	TmpMaxAge time.Duration
	Client    *http.Client
	Log       *slog.Logger
	// Now is the clock; tests move it to expire objects.
	Now func() time.Time
}

// Store is the on-disk object store of one node, shared by its Server,
// Replicator, Auditor, Expirer and Updater.
type Store struct {
	cfg Config
	fs  fileSystem
	log *slog.Logger
	// Striped locks: one object's check-rename-cleanup and one partition's
	// hashes file are serialized without a lock per object.
	objLocks  [4096]objMutex
	partLocks [64]sync.Mutex
	updates   sync.WaitGroup
	// checkedParts holds the "dev/part" keys whose hash cache this store
	// has rebuilt once: invalidations are appended without an fsync, so a
	// cache from before a crash may miss some and is not trusted.
	checkedParts sync.Map
	// invalid holds, by "dev/part", the suffixes written since their
	// partition's trusted cache was rebuilt (hashes.go).
	invalidMu sync.Mutex
	invalid   map[string]map[string]bool
	// expiring holds the hash dirs (dir -> expiringRef) written with an
	// X-Delete-At since the Expirer's last full walk: its passes in between
	// look at these only, not at every object.
	expiring sync.Map
	// journals holds one journal per file system (by device id), opened
	// on first use; nextSegment numbers their first segments after any
	// replayed ones.
	journalsMu  sync.Mutex
	journals    map[uint64]*journal
	nextSegment uint64
	// noSpareWarmUp: journals never prepare a spare (tests that look at
	// segment numbers).
	noSpareWarmUp bool
	// afterMkdir, in tests, runs in a small PUT between the making of its
	// hash directory and the taking of the object lock.
	afterMkdir func()
	closed     bool
	// trash unlinks obsolete files in the background (trash.go).
	trash *trash
	// beforeHandoffDrop, when set by a test, runs after the replicator has
	// decided a handoff partition may go and before it removes anything.
	beforeHandoffDrop func()
}

// NewStore checks cfg and fills defaults.
func NewStore(cfg Config) (*Store, error) {
	if cfg.HashPath.Prefix == "" && cfg.HashPath.Suffix == "" {
		return nil, errors.New("objserver: hash path prefix or suffix must be set")
	}
	st, err := os.Stat(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("objserver: devices root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("objserver: devices root %s is not a directory", cfg.Root)
	}
	if cfg.UpdateTimeout == 0 {
		cfg.UpdateTimeout = time.Second
	}
	if cfg.NodeTimeout == 0 {
		cfg.NodeTimeout = 10 * time.Second
	}
	if cfg.ReclaimAge == 0 {
		cfg.ReclaimAge = 7 * 24 * time.Hour
	}
	if cfg.TmpMaxAge == 0 {
		cfg.TmpMaxAge = time.Hour
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{cfg: cfg, fs: osFS{}, log: cfg.Log}
	if err := s.replayJournals(); err != nil {
		return nil, err
	}
	if err := s.flattenSuffixDirs(); err != nil {
		return nil, err
	}
	s.spreadObjects()
	s.startTrash()
	return s, nil
}

// WaitUpdates blocks until every container update started so far has
// finished or been saved as async pending.
func (s *Store) WaitUpdates() { s.updates.Wait() }

func (s *Store) now() time.Time { return s.cfg.Now() }

// lockWrite takes an object lock for a write that announced a journal
// record. A writer holds the lock until its record is flushed, so one that
// has to wait for the lock cannot queue its record before that flush:
// it withdraws the announcement rather than hold the flush up.
func lockWrite(mu *objMutex, exp *expectation) {
	if !mu.TryLock() {
		exp.settle()
		mu.Lock()
	}
}

// objMutex is an object lock that counts its turns: +1 when taken and +1
// when released, so the count is odd while it is held. A PUT that made its
// hash directory reads the count before the mkdir; if, once it holds the
// lock, the count has moved by its own turn alone, no other writer has
// been in any directory under this lock since, and the new directory is
// still empty: it need not be read (putAllowed).
type objMutex struct {
	sync.Mutex
	turns atomic.Uint64
}

func (m *objMutex) Lock() {
	m.Mutex.Lock()
	m.turns.Add(1)
}

func (m *objMutex) TryLock() bool {
	if !m.Mutex.TryLock() {
		return false
	}
	m.turns.Add(1)
	return true
}

func (m *objMutex) Unlock() {
	m.turns.Add(1)
	m.Mutex.Unlock()
}

// objLock is the lock of one hash directory. It is keyed by the directory,
// not the hash: the replicas of one object on this node's devices are
// written at once and must not wait for each other.
func (s *Store) objLock(dir string) *objMutex {
	h := fnv.New32a()
	h.Write([]byte(dir))
	return &s.objLocks[h.Sum32()%uint32(len(s.objLocks))]
}

func (s *Store) partLock(dev, part string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(dev + "/" + part))
	return &s.partLocks[h.Sum32()%uint32(len(s.partLocks))]
}

func (s *Store) devPath(dev string) string    { return filepath.Join(s.cfg.Root, dev) }
func (s *Store) tmpDir(dev string) string     { return filepath.Join(s.cfg.Root, dev, "tmp") }
func (s *Store) objectsDir(dev string) string { return filepath.Join(s.cfg.Root, dev, "objects") }
func (s *Store) asyncDir(dev string) string   { return filepath.Join(s.cfg.Root, dev, "async_pending") }
func (s *Store) quarantine(dev string) string {
	return filepath.Join(s.cfg.Root, dev, "quarantined", "objects")
}
func (s *Store) partDir(dev, part string) string { return filepath.Join(s.objectsDir(dev), part) }
func (s *Store) hashDir(dev, part, hash string) string {
	return filepath.Join(s.objectsDir(dev), part, hash)
}

// errDeviceUnavailable becomes 507: the proxy then writes to a handoff.
var errDeviceUnavailable = errors.New("device unavailable")

// checkDevice fails when the device is missing or, with MountCheck, not
// mounted.
func (s *Store) checkDevice(dev string) error {
	if !validDevice(dev) {
		return errDeviceUnavailable
	}
	p := s.devPath(dev)
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return errDeviceUnavailable
	}
	if s.cfg.MountCheck && !isMountPoint(p) {
		return errDeviceUnavailable
	}
	return nil
}

func validDevice(dev string) bool {
	return dev != "" && dev != "." && dev != ".." && dev != journalDirName && filepath.Base(dev) == dev
}

// isMountPoint compares the device id of a directory and its parent.
func isMountPoint(p string) bool {
	var a, b syscall.Stat_t
	if syscall.Stat(p, &a) != nil || syscall.Stat(filepath.Dir(p), &b) != nil {
		return false
	}
	return a.Dev != b.Dev || a.Ino == b.Ino
}

// hasSpace reports whether n more bytes fit on dev above the reserve.
// Without a reserve it asks the file system only when measure is set: a
// small PUT, which does not fallocate its file, checks for room this way
// before it reads the body, where a large one fallocates.
func (s *Store) hasSpace(dev string, n int64, measure bool) bool {
	if !measure && s.cfg.FallocateReserve == 0 && s.cfg.FallocateReservePercent == 0 {
		return true
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.devPath(dev), &st); err != nil {
		return false
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	total := int64(st.Blocks) * int64(st.Bsize)
	if n > 0 {
		free -= n
	}
	if free < s.cfg.FallocateReserve {
		return false
	}
	if total > 0 && float64(free)*100/float64(total) < s.cfg.FallocateReservePercent {
		return false
	}
	return true
}

// devices lists the device directories under Root.
func (s *Store) devices() ([]string, error) {
	ents, err := os.ReadDir(s.cfg.Root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && s.checkDevice(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
