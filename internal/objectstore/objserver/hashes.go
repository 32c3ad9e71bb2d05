package objserver

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Each partition directory caches its suffix hashes in hashes.json, as
// Swift's hashes.pkl. A write marks its suffix invalid instead of
// rewriting the cache, and the next REPLICATE recomputes just those. The
// cache is not fsynced, so a Store trusts only caches it rebuilt itself:
// the first REPLICATE of a partition after a start rehashes it whole. So
// the invalid suffixes matter only to the Store that rebuilt the cache,
// and are kept in its memory (Swift appends them to hashes.invalid: three
// system calls per write, and a file per partition).
const (
	hashesFile  = "hashes.json"
	invalidFile = "hashes.invalid" // written by kumo before; removed
)

// invalidateSuffix marks one suffix of a partition for recomputation.
func (s *Store) invalidateSuffix(dev, part, suffix string) error {
	key := dev + "/" + part
	mu := s.partLock(dev, part)
	mu.Lock()
	defer mu.Unlock()
	// Checked under the lock: a rehash running now covers this write, or
	// has finished and trusts its cache.
	if _, checked := s.checkedParts.Load(key); !checked {
		return nil // no cache is trusted: the next REPLICATE rehashes all
	}
	s.invalidMu.Lock()
	defer s.invalidMu.Unlock()
	if s.invalid == nil {
		s.invalid = map[string]map[string]bool{}
	}
	set := s.invalid[key]
	if set == nil {
		set = map[string]bool{}
		s.invalid[key] = set
	}
	set[suffix] = true
	return nil
}

// takeInvalid returns and forgets a partition's invalid suffixes; the
// caller holds its partition lock.
func (s *Store) takeInvalid(dev, part string) map[string]bool {
	s.invalidMu.Lock()
	defer s.invalidMu.Unlock()
	set := s.invalid[dev+"/"+part]
	delete(s.invalid, dev+"/"+part)
	return set
}

// suffixHashes returns suffix -> hash for a partition, recomputing the
// invalidated suffixes, those in recalc, and any not cached yet. Empty
// suffixes are absent.
func (s *Store) suffixHashes(dev, part string, recalc []string) (map[string]string, error) {
	mu := s.partLock(dev, part)
	mu.Lock()
	defer mu.Unlock()
	pdir := s.partDir(dev, part)
	groups, err := hashesBySuffix(pdir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	cached := map[string]string{}
	valid := false
	if _, checked := s.checkedParts.Load(dev + "/" + part); checked {
		if b, err := os.ReadFile(filepath.Join(pdir, hashesFile)); err == nil && json.Unmarshal(b, &cached) == nil {
			valid = true
		}
	}
	invalid := s.takeInvalid(dev, part)
	todo := map[string]bool{}
	for sfx := range invalid {
		todo[sfx] = true
	}
	for _, sfx := range recalc {
		todo[sfx] = true
	}
	out := map[string]string{}
	for sfx, hashes := range groups {
		if h, ok := cached[sfx]; ok && valid && !todo[sfx] {
			out[sfx] = h
			continue
		}
		h, err := s.hashSuffix(pdir, hashes)
		if err != nil {
			// The invalid suffixes are taken: trust no cache until one
			// is rebuilt whole.
			s.checkedParts.Delete(dev + "/" + part)
			return nil, err
		}
		if h != "" {
			out[sfx] = h
		}
	}
	// The cache is only an optimisation: a lost write means a recompute.
	b, _ := json.Marshal(out)
	tmp := filepath.Join(pdir, hashesFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err == nil {
		if os.Rename(tmp, filepath.Join(pdir, hashesFile)) == nil {
			if !valid {
				_ = os.Remove(filepath.Join(pdir, invalidFile)) // an older kumo's
			}
			s.checkedParts.Store(dev+"/"+part, true)
			return out, nil
		}
	}
	// The cache was not written: trust none until one is, rather than
	// keep track of what the old one lacks.
	s.checkedParts.Delete(dev + "/" + part)
	return out, nil
}

// hashesBySuffix reads a partition directory: the hash directories in it,
// sorted and grouped by suffix.
func hashesBySuffix(pdir string) (map[string][]string, error) {
	ents, err := os.ReadDir(pdir)
	if err != nil {
		return nil, err
	}
	groups := map[string][]string{}
	for _, e := range ents { // sorted by name
		if e.IsDir() && isHash(e.Name()) {
			sfx := suffixOf(e.Name())
			groups[sfx] = append(groups[sfx], e.Name())
		}
	}
	return groups, nil
}

// hashSuffix is the md5 of every kept file name of the suffix's objects
// (hashes, sorted), after cleaning each object directory; "" when they
// keep none.
func (s *Store) hashSuffix(pdir string, hashes []string) (string, error) {
	h := md5.New()
	n := 0
	for _, hash := range hashes {
		dir := filepath.Join(pdir, hash)
		mu := s.objLock(dir)
		mu.Lock()
		st, err := s.scanHashDir(dir)
		mu.Unlock()
		if err != nil {
			return "", err
		}
		for _, f := range st.files() {
			h.Write([]byte(hash + "/" + f + "\n"))
			n++
		}
	}
	if n == 0 {
		return "", nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
