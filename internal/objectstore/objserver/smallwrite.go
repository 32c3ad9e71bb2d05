package objserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The small-file write path: each file up to journalMaxFile is made
// durable through its file system's journal (journal.go), then given its
// name without an fsync. journal_replay.go puts such files back after a
// crash.

// journalFor returns the journal of the file system holding dev, opening it
// on first use: <Root>/.journal when dev is a directory on Root's file
// system, <dev>/.journal when dev is a file system of its own.
func (s *Store) journalFor(dev string) (*journal, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(s.devPath(dev), &st); err != nil {
		return nil, errDeviceUnavailable
	}
	fsID := uint64(st.Dev)
	s.journalsMu.Lock()
	defer s.journalsMu.Unlock()
	if s.closed {
		return nil, errors.New("object store closed")
	}
	if j := s.journals[fsID]; j != nil {
		return j, nil
	}
	dir := filepath.Join(s.devPath(dev), journalDirName)
	var root syscall.Stat_t
	if syscall.Stat(s.cfg.Root, &root) == nil && uint64(root.Dev) == fsID {
		dir = filepath.Join(s.cfg.Root, journalDirName)
	}
	warmUp := int64(spareWarmUp)
	if s.noSpareWarmUp {
		warmUp = 0
	}
	j, err := openJournal(dir, s.nextSegment, s.fs, s.log, warmUp)
	if err != nil {
		return nil, err
	}
	if s.journals == nil {
		s.journals = map[uint64]*journal{}
	}
	s.journals[fsID] = j
	return j, nil
}

// Close checkpoints and stops the journals and unlinks the trash. Every writer (server, updater,
// expirer) must have stopped.
func (s *Store) Close() {
	s.journalsMu.Lock()
	s.closed = true
	js := s.journals
	s.journals = nil
	s.journalsMu.Unlock()
	for _, j := range js {
		j.close()
	}
	s.stopTrash()
}

// expectWrite announces a small write to dev's journal (see gather). It
// fails when the journal cannot open, before the caller reads a body.
func (s *Store) expectWrite(dev string) (*expectation, error) {
	j, err := s.journalFor(dev)
	if err != nil {
		return nil, err
	}
	return j.expect(), nil
}

// publish makes content durable as dir/name through the journal, then
// writes the file and gives it its name without an fsync. exp, if not
// nil, is the caller's announcement of this write, settled once queued.
func (s *Store) publish(dev, dir, name string, content []byte, exp *expectation) error {
	defer exp.settle()
	f, unnamed, _, err := s.newSmall(dev, dir)
	if err != nil {
		return err
	}
	return s.publishTemp(f, unnamed, dev, dir, name, content, exp)
}

// newSmall opens the file a small write fills: unnamed in its final
// directory (O_TMPFILE), for linkat to publish, so no temp name is made and
// removed and the inode is allocated near its directory; a temp file in
// <dev>/tmp where the file system has no O_TMPFILE. made reports whether
// it made dir.
func (s *Store) newSmall(dev, dir string) (f tempFile, unnamed, made bool, err error) {
	for range 3 {
		if made, err = mkdirFirst(dir); err != nil {
			return nil, false, false, err
		}
		if f, err = s.fs.CreateUnnamed(dir); !errors.Is(err, fs.ErrNotExist) {
			// Not the directory removed meanwhile by the suffix hasher.
			break
		}
	}
	if err == nil {
		return f, true, made, nil
	}
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EINVAL) {
		f, err = s.newTemp(dev)
		return f, false, made, err
	}
	return nil, false, false, err
}

// mkdirFirst makes dir and its missing parents, trying each mkdir before
// looking: a new object's hash directory is missing, and so, with
// Swift's 4096 suffixes per partition, is its suffix directory, where
// os.MkdirAll would stat every level before making one (three system
// calls instead of five, one instead of three when the suffix is there).
// made reports whether this call made dir itself. A dir that exists as a
// file is left for the next call in it to fail on.
func mkdirFirst(dir string) (made bool, err error) {
	err = os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(dir)
		if parent == dir {
			return false, err
		}
		if _, err = mkdirFirst(parent); err == nil {
			err = os.Mkdir(dir, 0o755)
		}
	}
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return false, err
}

// removeEmptyDirs removes dir and its parents up to the objects dir while
// they are empty: what newSmall made for a write that then failed. A
// write racing into them makes them again (newSmall, link).
func (s *Store) removeEmptyDirs(dev, dir string) {
	stop := s.objectsDir(dev)
	for d := dir; len(d) > len(stop) && strings.HasPrefix(d, stop+string(filepath.Separator)); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			return
		}
	}
}

// publishTemp is publish into a file from newSmall (or newTemp, unnamed
// false) that the caller has opened, and maybe reserved space in. It
// writes content there and closes it.
func (s *Store) publishTemp(f tempFile, unnamed bool, dev, dir, name string, content []byte, exp *expectation) error {
	defer exp.settle()
	j, rel, err := s.journalOf(dev, dir, exp)
	if err != nil {
		discard(f)
		return err
	}
	// The file is written before its record is queued: a failed write
	// leaves nothing to replay.
	if _, err := f.Write(content); err != nil {
		discard(f)
		return err
	}
	if !unnamed {
		if err := f.Close(); err != nil {
			_ = os.Remove(f.Name())
			return err
		}
	}
	b, err := journalWait(j, dev, rel, name, content, exp)
	if err != nil {
		discard(f)
		return err
	}
	defer b.release()
	if !unnamed {
		return s.place(f.Name(), dev, dir, name, false)
	}
	err = s.link(f, dir, name)
	_ = f.Close()
	if errors.Is(err, fs.ErrExist) {
		// A file of that name is there already (a replayed or repeated
		// write): replace it, as a rename would have.
		return s.replaceUnsynced(dev, dir, name, content)
	}
	return err
}

// journalOf returns the journal of dev (exp's, when the write was
// announced: only unannounced writes look it up, a stat of the device)
// and dir's path inside dev, as a record names it.
func (s *Store) journalOf(dev, dir string, exp *expectation) (*journal, string, error) {
	var j *journal
	var err error
	if exp != nil {
		j = exp.j
	} else if j, err = s.journalFor(dev); err != nil {
		return nil, "", err
	}
	rel, err := filepath.Rel(s.devPath(dev), dir)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, "", fmt.Errorf("objserver: %s is not inside device %s", dir, dev)
	}
	return j, rel, nil
}

// journalWait queues the record of dev/rel/name, settles exp, and waits
// until the record is durable; the caller releases the batch once the
// file has its name.
func journalWait(j *journal, dev, rel, name string, content []byte, exp *expectation) (*journalBatch, error) {
	b, err := j.enqueue(dev, rel, name, content)
	exp.settle()
	if err == nil {
		err = b.wait()
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// replaceUnsynced writes content to a temp file and renames it to
// dir/name, without an fsync: the journal holds it (or, in replay, the
// syncfs that follows).
func (s *Store) replaceUnsynced(dev, dir, name string, content []byte) error {
	f, err := s.newTemp(dev)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		discard(f)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return s.place(f.Name(), dev, dir, name, false)
}

// link names an unnamed file dir/name, making dir again if the suffix
// hasher removed it meanwhile.
func (s *Store) link(f tempFile, dir, name string) error {
	var err error
	for range 3 {
		if err = s.fs.Link(f, filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return err
}
