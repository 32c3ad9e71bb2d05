package objserver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// A tombstone says only what its name and place say: the object (its hash
// directory) was deleted at the timestamp (its file name). So every
// tombstone of a device is a hard link of one empty file, <dev>/tombstone,
// and a DELETE allocates no inode. On ext4 without a journal that is most
// of what a DELETE costs: the inode allocator skips, one by one, every
// inode freed in the last minutes, and each DELETE frees one (the .data it
// replaces).
//
// Older tombstones hold a metadata footer (name and X-Timestamp); both
// kinds are read alike, and only a footer that is there is checked.
const tombstoneFile = "tombstone"

func (s *Store) tombstonePath(dev string) string { return filepath.Join(s.devPath(dev), tombstoneFile) }

// writeTombstone makes dir/<ts>.ts a tombstone: durable through the journal
// (an empty record, which replay turns into an empty file of its own),
// then linked to the device's shared empty file. exp is as for publish.
// prior is what the caller's scan of dir under the object lock found: the
// files the tombstone replaces go without another read of dir.
func (s *Store) writeTombstone(dev, dir string, ts Timestamp, prior objState, exp *expectation) error {
	defer exp.settle()
	name := ts.Internal() + extTomb
	j, rel, err := s.journalOf(dev, dir, exp)
	if err != nil {
		return err
	}
	b, err := journalWait(j, dev, rel, name, nil, exp)
	if err != nil {
		return err
	}
	defer b.release()
	err = s.linkTombstone(dev, dir, name)
	if errors.Is(err, fs.ErrExist) {
		// A repeated write: replace the file, as a rename would.
		return s.replaceUnsynced(dev, dir, name, nil)
	}
	if err != nil {
		return err
	}
	return s.disposeReplaced(dev, prior, ts)
}

// linkTombstone links the device's shared empty file as dir/name, making
// what is missing: dir (new, or removed meanwhile by the suffix hasher),
// or the shared file (the first tombstone, or one with as many links as
// the file system allows).
func (s *Store) linkTombstone(dev, dir, name string) error {
	shared, to := s.tombstonePath(dev), filepath.Join(dir, name)
	var err error
	for range 4 {
		if err = s.fs.LinkPath(shared, to); err == nil {
			return nil
		}
		var fix error
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if _, serr := os.Stat(shared); serr != nil {
				fix = s.newSharedTombstone(dev)
			} else {
				fix = os.MkdirAll(dir, 0o755)
			}
		case errors.Is(err, syscall.EMLINK):
			fix = s.newSharedTombstone(dev)
		default:
			return err
		}
		if fix != nil {
			return fix
		}
	}
	return err
}

// newSharedTombstone puts a new empty file in place as <dev>/tombstone;
// the tombstones linked to the one it replaces keep theirs. It is made
// durable at once, as every later link counts on it.
func (s *Store) newSharedTombstone(dev string) error {
	f, err := s.newTemp(dev)
	if err != nil {
		return err
	}
	return s.commit(dev, f, s.devPath(dev), tombstoneFile)
}
