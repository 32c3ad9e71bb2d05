package objserver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// newTemp opens a new file in <dev>/tmp, on the same file system as the
// object directories so that commit is a rename.
func (s *Store) newTemp(dev string) (tempFile, error) {
	dir := s.tmpDir(dev)
	f, err := s.fs.CreateTemp(dir)
	if errors.Is(err, fs.ErrNotExist) {
		// The first write to the device makes its tmp directory.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		f, err = s.fs.CreateTemp(dir)
	}
	return f, err
}

// discard drops an unfinished temp file.
func discard(f tempFile) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// commit makes a finished temp file visible as dir/name: fsync the file,
// create missing directories durably, rename, fsync the directory. Until
// the rename no reader can see the file; after the directory fsync the
// rename survives a crash.
func (s *Store) commit(dev string, f tempFile, dir, name string) error {
	if err := f.Sync(); err != nil {
		discard(f)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return s.place(f.Name(), dev, dir, name, true)
}

// place renames the temp file tmp to dir/name, creating the directories it
// needs; synced also fsyncs every directory that gained an entry, where the
// journal does not stand for them (see journal.go).
func (s *Store) place(tmp, dev, dir, name string, synced bool) error {
	var err error
	// The suffix hasher or the replicator may remove an empty directory
	// this PUT has just made, before its child is made or before the
	// rename: a few tries settle it either way.
	for range 3 {
		if synced {
			err = s.mkdirAllSynced(s.devPath(dev), dir)
		} else {
			err = os.MkdirAll(dir, 0o755)
		}
		if err == nil {
			err = s.fs.Rename(tmp, filepath.Join(dir, name))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if !synced {
		return nil
	}
	return s.fs.SyncDir(dir)
}

// mkdirAllSynced creates dir and its missing parents below root, fsyncing
// each parent that gained an entry.
func (s *Store) mkdirAllSynced(root, dir string) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	if dir == root || len(dir) <= len(root) {
		return os.MkdirAll(dir, 0o755)
	}
	parent := filepath.Dir(dir)
	if err := s.mkdirAllSynced(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return s.fs.SyncDir(parent)
}

// writeFile durably writes a whole small file (tombstone, .meta, async
// pending) with the given body, through the journal.
func (s *Store) writeFile(dev, dir, name string, body []byte) error {
	return s.publish(dev, dir, name, body, nil)
}

// writeMetaFile writes a metadata-only file (.ts or .meta) into an object's
// hash directory and cleans up older files. The caller holds the object
// lock, and invalidates the suffix after releasing it (lock order: a
// partition lock is never taken under an object lock).
func (s *Store) writeMetaFile(dev, part, hash, name string, md Metadata, exp *expectation) error {
	footer, err := encodeFooter(md)
	if err != nil {
		return err
	}
	dir := s.hashDir(dev, part, hash)
	if err := s.publish(dev, dir, name, footer, exp); err != nil {
		return err
	}
	_, err = s.scanHashDir(dir)
	return err
}
