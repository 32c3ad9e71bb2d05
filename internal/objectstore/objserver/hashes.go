package objserver

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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
	ents, err := os.ReadDir(pdir)
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
	for _, e := range ents {
		sfx := e.Name()
		if !e.IsDir() || !isSuffix(sfx) {
			continue
		}
		if h, ok := cached[sfx]; ok && valid && !todo[sfx] {
			out[sfx] = h
			continue
		}
		h, err := s.hashSuffix(filepath.Join(pdir, sfx))
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

// hashSuffix is the md5 of every kept file name in the suffix, in order,
// after cleaning each object directory. An empty suffix is removed and
// hashes to "".
func (s *Store) hashSuffix(sdir string) (string, error) {
	ents, err := os.ReadDir(sdir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && isHash(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	h := md5.New()
	n := 0
	for _, hash := range names {
		mu := s.objLock(filepath.Join(sdir, hash))
		mu.Lock()
		st, err := s.scanHashDir(filepath.Join(sdir, hash))
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
		_ = os.Remove(sdir) // fails harmlessly if a writer just made a dir
		return "", nil
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
