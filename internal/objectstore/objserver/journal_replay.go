package objserver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// replayJournals writes again every file the journals hold (a crash may
// have lost them: they were never fsynced), makes them durable with one
// syncfs per journal, and removes the segments. It runs before the store
// serves anything.
func (s *Store) replayJournals() error {
	dirs := []string{filepath.Join(s.cfg.Root, journalDirName)}
	ents, err := os.ReadDir(s.cfg.Root)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() && e.Name() != journalDirName {
			dirs = append(dirs, filepath.Join(s.cfg.Root, e.Name(), journalDirName))
		}
	}
	for _, dir := range dirs {
		if err := s.replayJournal(dir); err != nil {
			return fmt.Errorf("objserver: replay journal %s: %w", dir, err)
		}
	}
	return nil
}

func (s *Store) replayJournal(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var segs []uint64
	for _, e := range ents {
		if n, ok := parseJournalName(e.Name(), ".seg"); ok {
			segs = append(segs, n)
		}
	}
	slices.Sort(segs)
	records, rewritten := 0, 0
	for _, n := range segs {
		s.nextSegment = max(s.nextSegment, n+1)
		b, err := os.ReadFile(filepath.Join(dir, segmentName(n)))
		if err != nil {
			return err
		}
		for {
			rec, size, ok := nextRecord(b, n)
			if !ok {
				break
			}
			b = b[size:]
			records++
			done, err := s.replayRecord(rec)
			if err != nil {
				return err
			}
			if done {
				rewritten++
			}
		}
	}
	if records > 0 {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		err = s.fs.Syncfs(d)
		_ = d.Close()
		if err != nil {
			return err
		}
	}
	for _, n := range segs {
		if err := os.Remove(filepath.Join(dir, segmentName(n))); err != nil {
			return err
		}
	}
	if len(segs) > 0 {
		s.log.Info("object journal replayed", "dir", dir, "segments", len(segs), "records", records, "rewritten", rewritten)
	}
	return nil
}

// replayRecord puts one journaled file back unless it is there already. It
// reports whether it wrote anything. A record for a device that is gone is
// skipped: the replicator restores that device's data from other replicas.
func (s *Store) replayRecord(rec journalRecord) (bool, error) {
	if !validDevice(rec.dev) || !filepath.IsLocal(rec.dir) || !validDevice(rec.name) {
		s.log.Warn("journal record with a bad path skipped", "dev", rec.dev, "dir", rec.dir, "name", rec.name)
		return false, nil
	}
	if st, err := os.Stat(s.devPath(rec.dev)); err != nil || !st.IsDir() {
		s.log.Warn("journal record for a missing device skipped", "dev", rec.dev)
		return false, nil
	}
	dir := filepath.Join(s.devPath(rec.dev), rec.dir)
	if cur, err := os.ReadFile(filepath.Join(dir, rec.name)); err == nil && bytes.Equal(cur, rec.content) {
		return false, nil
	}
	if err := s.replaceUnsynced(rec.dev, dir, rec.name, rec.content); err != nil {
		return false, err
	}
	if strings.HasPrefix(rec.dir, "objects"+string(filepath.Separator)) {
		// The file may be older than what the hash directory holds now:
		// the usual cleanup decides which stays.
		if _, err := s.scanHashDir(dir); err != nil {
			return true, err
		}
	}
	return true, nil
}
