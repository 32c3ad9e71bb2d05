package objserver

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Auditor re-reads every object to find bit rot, as Swift's
// object-auditor: a file whose metadata is unreadable, whose name does not
// hash to its directory, or whose body does not match its length and ETag
// is quarantined, and its suffix invalidated so that the replicator brings
// a good copy back from a peer.
type Auditor struct {
	s *Store
	// BytesPerSecond caps the read rate (0: unlimited), as Swift's
	// bytes_per_second, so that a pass does not starve client traffic.
	BytesPerSecond int64
}

// NewAuditor audits the store's devices.
func NewAuditor(s *Store) *Auditor { return &Auditor{s: s} }

// AuditorStats counts one pass.
type AuditorStats struct {
	Checked     int
	Bytes       int64
	Quarantined int
	Errors      int
}

// RunOnce audits every object once.
func (a *Auditor) RunOnce(ctx context.Context) (AuditorStats, error) {
	var st AuditorStats
	start := time.Now()
	err := a.s.walkObjects(ctx, func(dev, part, hash, dir string) {
		a.auditObject(dev, part, hash, dir, &st)
		a.throttle(ctx, start, st.Bytes)
	})
	return st, err
}

// throttle sleeps until the bytes read so far fit the rate.
func (a *Auditor) throttle(ctx context.Context, start time.Time, read int64) {
	if a.BytesPerSecond <= 0 {
		return
	}
	due := start.Add(time.Duration(float64(read) / float64(a.BytesPerSecond) * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (a *Auditor) auditObject(dev, part, hash, dir string, st *AuditorStats) {
	s := a.s
	mu := s.objLock(dir)
	mu.Lock()
	state, err := s.scanHashDir(dir)
	mu.Unlock()
	if err != nil {
		st.Errors++
		return
	}
	for _, name := range state.files() {
		n, err := s.auditFile(filepath.Join(dir, name), hash)
		if errors.Is(err, fs.ErrNotExist) {
			return // replaced meanwhile; the next pass sees the new file
		}
		st.Checked++
		st.Bytes += n
		if err == nil {
			continue
		}
		s.log.Warn("auditor: quarantining object", "device", dev, "path", filepath.Join(dir, name), "err", err)
		if err := s.quarantineObject(dev, part, hash, name); err != nil {
			st.Errors++
			return
		}
		st.Quarantined++
		return
	}
}

// auditFile checks one file; it returns the bytes it read.
func (s *Store) auditFile(path, hash string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if info.Size() == 0 && filepath.Ext(path) == extTomb {
		return 0, nil // a shared tombstone (tombstone.go): nothing to check
	}
	md, dataLen, err := readFooter(f, info.Size())
	if err != nil {
		return info.Size(), err
	}
	if err := s.checkName(md, hash); err != nil {
		return info.Size(), err
	}
	if ts := md["X-Timestamp"]; ts+filepath.Ext(path) != filepath.Base(path) {
		return info.Size(), errors.New("timestamp does not match file name")
	}
	if filepath.Ext(path) != extData {
		return info.Size(), nil
	}
	return info.Size(), checkBody(io.NewSectionReader(f, 0, dataLen), dataLen, md)
}

// quarantineObject moves the object's whole hash directory to
// <dev>/quarantined/objects/<hash>, if name is still its current file.
func (s *Store) quarantineObject(dev, part, hash, name string) error {
	dir := s.hashDir(dev, part, hash)
	mu := s.objLock(dir)
	mu.Lock()
	state, err := s.scanHashDir(dir)
	if err != nil {
		mu.Unlock()
		return err
	}
	current := false
	for _, f := range state.files() {
		current = current || f == name
	}
	if !current {
		mu.Unlock()
		return nil
	}
	qdir := s.quarantine(dev)
	if err := os.MkdirAll(qdir, 0o755); err != nil {
		mu.Unlock()
		return err
	}
	target := filepath.Join(qdir, hash)
	for i := 1; i < 100; i++ {
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		target = filepath.Join(qdir, hash+"-"+strconv.Itoa(i))
	}
	err = s.fs.Rename(dir, target)
	if err == nil {
		err = s.fs.SyncDir(filepath.Dir(dir))
	}
	mu.Unlock()
	if err != nil {
		return err
	}
	return s.invalidateSuffix(dev, part, suffixOf(hash))
}
