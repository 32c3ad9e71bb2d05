package objserver

import (
	"bufio"
	"bytes"
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
// Swift's hashes.pkl. A write appends its suffix to hashes.invalid instead
// of rewriting the cache, and the next REPLICATE recomputes just those.
// Neither file is fsynced, so a Store trusts only caches it rebuilt itself:
// the first REPLICATE of a partition after a start rehashes it whole.
const (
	hashesFile  = "hashes.json"
	invalidFile = "hashes.invalid"
)

// invalidateSuffix marks one suffix of a partition for recomputation.
func (s *Store) invalidateSuffix(dev, part, suffix string) error {
	mu := s.partLock(dev, part)
	mu.Lock()
	defer mu.Unlock()
	pdir := s.partDir(dev, part)
	f, err := os.OpenFile(filepath.Join(pdir, invalidFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // partition gone: nothing cached to invalidate
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString(suffix + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
	todo := map[string]bool{}
	for _, sfx := range recalc {
		todo[sfx] = true
	}
	if b, err := os.ReadFile(filepath.Join(pdir, invalidFile)); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if isSuffix(sc.Text()) {
				todo[sc.Text()] = true
			}
		}
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
			_ = os.Remove(filepath.Join(pdir, invalidFile))
			s.checkedParts.Store(dev+"/"+part, true)
		}
	}
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
