package objserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// kumo files an object in <dev>/objects/<part>/<hash>/, where Swift has a
// suffix directory between the two (<part>/<suffix>/<hash>/). A partition
// has 4096 suffixes, so until a device holds millions of objects nearly
// every new object made both directories; a mkdir is a fifth of a 4 KiB
// PUT's CPU. Replication still compares suffixes, grouped by name
// (hashesBySuffix), so the backend protocol is Swift's.

// flattenSuffixDirs moves the hash directories an older kumo filed under
// suffix directories up into their partitions, when the store opens. Once
// it moved any, syncfs makes the moves durable before the store writes
// into the moved directories: a crash cannot undo a move under a write.
func (s *Store) flattenSuffixDirs() error {
	devs, err := s.devices()
	if err != nil {
		return err
	}
	for _, dev := range devs {
		moved := 0
		parts, _ := os.ReadDir(s.objectsDir(dev))
		for _, p := range parts {
			if !p.IsDir() || !validPartition(p.Name()) {
				continue
			}
			pdir := s.partDir(dev, p.Name())
			ents, _ := os.ReadDir(pdir)
			for _, e := range ents {
				if !e.IsDir() || !isSuffix(e.Name()) {
					continue
				}
				n, err := s.flattenSuffix(pdir, e.Name())
				moved += n
				if err != nil {
					return fmt.Errorf("objserver: move %s/%s to the flat layout: %w", pdir, e.Name(), err)
				}
			}
		}
		if moved == 0 {
			continue
		}
		f, err := os.Open(s.objectsDir(dev))
		if err == nil {
			err = s.fs.Syncfs(f)
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("objserver: sync the flat layout of %s: %w", dev, err)
		}
		s.log.Info("object directories moved out of suffix directories", "device", dev, "objects", moved)
	}
	return nil
}

// flattenSuffix moves pdir/sfx/<hash> to pdir/<hash> and removes pdir/sfx.
func (s *Store) flattenSuffix(pdir, sfx string) (int, error) {
	sdir := filepath.Join(pdir, sfx)
	hashes, err := os.ReadDir(sdir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hashes {
		if !h.IsDir() || !isHash(h.Name()) {
			continue
		}
		if err := s.moveHashDir(filepath.Join(sdir, h.Name()), filepath.Join(pdir, h.Name())); err != nil {
			return n, err
		}
		n++
	}
	if err := os.Remove(sdir); err != nil {
		s.log.Warn("suffix directory left: it holds more than object directories", "dir", sdir, "err", err)
	}
	return n, nil
}

// moveHashDir renames from to to. Should both exist, from's files join
// to's, and the usual scan keeps the newest.
func (s *Store) moveHashDir(from, to string) error {
	err := os.Rename(from, to)
	if err == nil || !(errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, fs.ErrExist)) {
		return err
	}
	files, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, f := range files {
		src, dst := filepath.Join(from, f.Name()), filepath.Join(to, f.Name())
		var err error
		if _, statErr := os.Lstat(dst); statErr == nil {
			err = os.Remove(src) // the same file name is the same version
		} else {
			err = os.Rename(src, dst)
		}
		if err != nil {
			return err
		}
	}
	if err := os.Remove(from); err != nil {
		return err
	}
	_, err = s.scanHashDir(to)
	return err
}
