package objserver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File kinds in a hash directory.
const (
	extData = ".data"
	extTomb = ".ts"
	extMeta = ".meta"
)

type ondiskFile struct {
	name string
	ts   Timestamp
	ext  string
}

func parseFileName(name string) (ondiskFile, bool) {
	ext := filepath.Ext(name)
	if ext != extData && ext != extTomb && ext != extMeta {
		return ondiskFile{}, false
	}
	ts, err := ParseTimestamp(strings.TrimSuffix(name, ext))
	if err != nil || ts.Internal() != strings.TrimSuffix(name, ext) {
		return ondiskFile{}, false
	}
	return ondiskFile{name: name, ts: ts, ext: ext}, true
}

// objState is what a hash directory holds after cleanup: at most one base
// file (.data or .ts, the newest) and one .meta newer than it.
type objState struct {
	dir  string
	base *ondiskFile
	meta *ondiskFile
}

func (st objState) exists() bool { return st.base != nil && st.base.ext == extData }

// files lists the kept file names, base first.
func (st objState) files() []string {
	var out []string
	if st.base != nil {
		out = append(out, st.base.name)
	}
	if st.meta != nil {
		out = append(out, st.meta.name)
	}
	return out
}

// newest is the latest timestamp of base and meta: what a POST must beat.
func (st objState) newest() Timestamp {
	var t Timestamp
	if st.base != nil {
		t = st.base.ts
	}
	if st.meta != nil && st.meta.ts.Compare(t) > 0 {
		t = st.meta.ts
	}
	return t
}

// scanHashDir reads dir and removes what the newest files make obsolete:
// older versions and tombstones, older .meta files, and a tombstone past
// the reclaim age. It removes dir itself when nothing is left. The caller
// holds the object lock.
func (s *Store) scanHashDir(dir string) (objState, error) { return s.scanHashDirKeep(dir, false) }

// scanHashDirKeep is scanHashDir; keep leaves an empty dir in place, for a
// PUT whose unnamed file is in it (newSmall).
func (s *Store) scanHashDirKeep(dir string, keep bool) (objState, error) {
	st := objState{dir: dir}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	var files []ondiskFile
	for _, e := range ents {
		if f, ok := parseFileName(e.Name()); ok {
			files = append(files, f)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].ts.Compare(files[j].ts) > 0 })
	var obsolete []string
	for i := range files {
		f := &files[i]
		switch {
		case f.ext != extMeta && st.base == nil:
			st.base = f
		case f.ext == extMeta && st.base == nil && st.meta == nil:
			// Newer than any base found later in the list.
			st.meta = f
		default:
			obsolete = append(obsolete, f.name)
		}
	}
	reclaim := TimestampFromTime(s.now().Add(-s.cfg.ReclaimAge))
	if st.base != nil && st.base.ext == extTomb && st.base.ts.Compare(reclaim) < 0 {
		obsolete = append(obsolete, st.base.name)
		st.base = nil
		if st.meta != nil {
			obsolete = append(obsolete, st.meta.name)
			st.meta = nil
		}
	}
	dev := ""
	if len(obsolete) > 0 {
		dev = s.deviceOf(dir)
	}
	for _, name := range obsolete {
		if err := s.dispose(dev, filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return st, err
		}
	}
	if !keep && st.base == nil && st.meta == nil && len(ents) == len(obsolete) {
		// Only an empty directory is removed; a stray file keeps it.
		_ = os.Remove(dir)
	}
	return st, nil
}

// disposeReplaced removes what a new file at ts on dev made obsolete, from
// the state a scan under the same object lock returned (nothing else
// writes the directory meanwhile): the base, and a .meta older than ts.
// It spares the second read of the directory a scan would cost.
func (s *Store) disposeReplaced(dev string, prior objState, ts Timestamp) error {
	for _, f := range []*ondiskFile{prior.base, prior.meta} {
		if f == nil || f.ts.Compare(ts) >= 0 {
			continue
		}
		if err := s.dispose(dev, filepath.Join(prior.dir, f.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// object is an object's current version as a reader sees it.
type object struct {
	state   objState
	meta    Metadata // .data metadata overlaid with .meta
	path    string   // the .data file
	dataLen int64
}

func (o *object) timestamp() Timestamp {
	ts, _ := ParseTimestamp(o.meta["X-Timestamp"])
	return ts
}

func (o *object) deleteAt() (int64, bool) {
	v, ok := o.meta["X-Delete-At"]
	if !ok {
		return 0, false
	}
	n, err := parseDeleteAt(v)
	return n, err == nil
}

// loadObject returns the object in dir, or a nil object when it is absent
// or deleted; st is returned either way for its timestamps.
func (s *Store) loadObject(dir string) (*object, objState, error) {
	return s.loadObjectKeep(dir, false)
}

// loadObjectKeep is loadObject; keep leaves an empty dir (scanHashDirKeep).
func (s *Store) loadObjectKeep(dir string, keep bool) (*object, objState, error) {
	obj, st, f, err := s.openObjectKeep(dir, keep)
	if f != nil {
		f.Close()
	}
	return obj, st, err
}

// openObject loads the object and keeps its .data file open for reading.
// A reader holds no lock: files are never changed once named, only
// replaced and removed, so a file that vanishes between listing and
// opening means a newer version landed, and the load starts again.
func (s *Store) openObject(dir string) (*object, objState, *os.File, error) {
	return s.openObjectKeep(dir, false)
}

func (s *Store) openObjectKeep(dir string, keep bool) (*object, objState, *os.File, error) {
	for try := 0; ; try++ {
		obj, st, f, err := s.tryOpenObject(dir, keep)
		if !errors.Is(err, fs.ErrNotExist) || try == 4 {
			return obj, st, f, err
		}
	}
}

func (s *Store) tryOpenObject(dir string, keep bool) (*object, objState, *os.File, error) {
	st, err := s.scanHashDirKeep(dir, keep)
	if err != nil || !st.exists() {
		return nil, st, nil, err
	}
	o := &object{state: st, path: filepath.Join(dir, st.base.name)}
	f, err := os.Open(o.path)
	if err != nil {
		return nil, st, nil, err
	}
	info, err := f.Stat()
	if err == nil {
		o.meta, o.dataLen, err = readFooter(f, info.Size())
	}
	if err == nil && st.meta != nil {
		var mm Metadata
		mm, _, err = readMetadataFile(filepath.Join(dir, st.meta.name))
		if err == nil {
			// A POST replaces all user metadata and may set Content-Type.
			for k := range o.meta {
				if isUserKey(k) {
					delete(o.meta, k)
				}
			}
			for k, v := range mm {
				o.meta[k] = v
			}
		}
	}
	if err != nil {
		f.Close()
		return nil, st, nil, err
	}
	return o, st, f, nil
}
