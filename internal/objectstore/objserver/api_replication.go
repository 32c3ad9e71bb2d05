package objserver

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"kumo/internal/objectstore/bodyhash"
)

// Backend verbs between storage nodes. REPLICATE is Swift's (JSON here
// instead of a pickle); SUFFIXLIST and SYNC are kumo's small stand-in for
// rsync/ssync: list the files of some suffixes, push one whole file.
const (
	methodReplicate  = "REPLICATE"
	methodSuffixList = "SUFFIXLIST"
	methodSync       = "SYNC"
)

// replicate answers REPLICATE /<dev>/<part>[/<suffix>-<suffix>...] with the
// partition's suffix hashes, recomputing the listed suffixes first.
func (srv *Server) replicate(w http.ResponseWriter, r *http.Request) {
	dev, part, rest, ok := srv.parsePartition(w, r)
	if !ok {
		return
	}
	recalc, ok := parseSuffixes(rest)
	if !ok {
		fail(w, http.StatusBadRequest, "Invalid suffixes")
		return
	}
	hashes, err := srv.s.suffixHashes(dev, part, recalc)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	writeJSON(w, hashes)
}

// suffixList answers SUFFIXLIST /<dev>/<part>/<suffixes> with the kept file
// names of every object in those suffixes: {hash: [names]}.
func (srv *Server) suffixList(w http.ResponseWriter, r *http.Request) {
	dev, part, rest, ok := srv.parsePartition(w, r)
	if !ok {
		return
	}
	sfxs, ok := parseSuffixes(rest)
	if !ok || len(sfxs) == 0 {
		fail(w, http.StatusBadRequest, "Invalid suffixes")
		return
	}
	out, err := srv.s.listSuffixes(dev, part, sfxs)
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	writeJSON(w, out)
}

func (s *Store) listSuffixes(dev, part string, sfxs []string) (map[string][]string, error) {
	out := map[string][]string{}
	pdir := s.partDir(dev, part)
	groups, err := hashesBySuffix(pdir)
	if err != nil {
		return out, nil
	}
	for _, sfx := range sfxs {
		for _, hash := range groups[sfx] {
			dir := filepath.Join(pdir, hash)
			mu := s.objLock(dir)
			mu.Lock()
			st, err := s.scanHashDir(dir)
			mu.Unlock()
			if err != nil {
				return nil, err
			}
			if files := st.files(); len(files) > 0 {
				out[hash] = files
			}
		}
	}
	return out, nil
}

// sync answers SYNC /<dev>/<part>/<hash>/<file>: the body is a whole object
// file from a peer. It is checked (name hashes to hash, timestamp matches,
// a .data body matches its ETag) before it is committed, so a corrupt
// replica never spreads; 409 when this node already has it or newer.
func (srv *Server) sync(w http.ResponseWriter, r *http.Request) {
	s := srv.s
	dev, part, rest, ok := srv.parsePartition(w, r)
	if !ok {
		return
	}
	hash, name, _ := strings.Cut(rest, "/")
	f, okName := parseFileName(name)
	if !isHash(hash) || !okName {
		fail(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
		return
	}
	if r.ContentLength < 0 {
		fail(w, http.StatusLengthRequired, "")
		return
	}
	if !s.hasSpace(dev, r.ContentLength, false) {
		fail(w, http.StatusInsufficientStorage, "")
		return
	}
	if status := s.syncConflict(dev, part, hash, f); status != 0 {
		fail(w, status, "")
		return
	}
	tmp, err := s.newTemp(dev)
	if err != nil {
		srv.writeFailure(w, r, err)
		return
	}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(fileWriter{tmp}, r.Body, *buf)
	copyBufs.Put(buf)
	if err != nil || n != r.ContentLength {
		discard(tmp)
		var werr writeError
		if errors.As(err, &werr) {
			srv.writeFailure(w, r, werr.err)
			return
		}
		fail(w, statusClientDisconnect, "")
		return
	}
	if err := s.verifyFile(tmp.Name(), hash, f); err != nil {
		discard(tmp)
		fail(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	mu := s.objLock(s.hashDir(dev, part, hash))
	mu.Lock()
	status := s.syncConflict(dev, part, hash, f)
	if status == 0 {
		dir := s.hashDir(dev, part, hash)
		err = s.commit(dev, tmp, dir, name)
		if err == nil {
			_, err = s.scanHashDir(dir)
		}
	} else {
		discard(tmp)
	}
	mu.Unlock()
	if status != 0 {
		fail(w, status, "")
		return
	}
	if err != nil {
		srv.writeFailure(w, r, err)
		return
	}
	if err := s.invalidateSuffix(dev, part, suffixOf(hash)); err != nil {
		s.log.Warn("invalidate suffix", "err", err)
	}
	// The pushed file may carry an X-Delete-At: the Expirer checks it.
	s.noteExpiring(dev, part, hash)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// syncConflict is 409 when the incoming file would be obsolete at once.
func (s *Store) syncConflict(dev, part, hash string, f ondiskFile) int {
	st, err := s.scanHashDir(s.hashDir(dev, part, hash))
	if err != nil {
		return http.StatusInternalServerError
	}
	if st.base != nil && st.base.ts.Compare(f.ts) >= 0 {
		return http.StatusConflict
	}
	if f.ext == extMeta && st.meta != nil && st.meta.ts.Compare(f.ts) >= 0 {
		return http.StatusConflict
	}
	return 0
}

// verifyFile checks a received object file before it becomes visible.
func (s *Store) verifyFile(path, hash string, f ondiskFile) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 && f.ext == extTomb {
		return nil // a shared tombstone (tombstone.go): its name says it all
	}
	md, dataLen, err := readFooter(fh, st.Size())
	if err != nil {
		return err
	}
	if err := s.checkName(md, hash); err != nil {
		return err
	}
	if md["X-Timestamp"] != f.ts.Internal() {
		return errors.New("timestamp does not match file name")
	}
	if f.ext != extData {
		return nil
	}
	return checkBody(io.NewSectionReader(fh, 0, dataLen), dataLen, md)
}

// checkName verifies that the stored name hashes to the directory's hash.
func (s *Store) checkName(md Metadata, hash string) error {
	acct, rest, ok1 := strings.Cut(strings.TrimPrefix(md["name"], "/"), "/")
	cont, obj, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || s.cfg.HashPath.ObjectHash(acct, cont, obj) != hash {
		return errors.New("object name does not match its hash")
	}
	return nil
}

// checkBody compares a body with its stored length and ETag.
func checkBody(body io.Reader, dataLen int64, md Metadata) error {
	if strconv.FormatInt(dataLen, 10) != md["Content-Length"] {
		return errors.New("body length does not match Content-Length")
	}
	h, crc := md5.New(), bodyhash.NewCRC()
	buf := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(io.MultiWriter(h, crc), body, *buf)
	copyBufs.Put(buf)
	if err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != md["ETag"] {
		return errors.New("body does not match ETag")
	}
	if c, ok := md[keyCRC32C]; ok && c != bodyhash.CRCString(crc.Sum32()) {
		return errors.New("body does not match its CRC-32C")
	}
	return nil
}

// parsePartition splits /<dev>/<part>[/<rest>] and checks the device.
func (srv *Server) parsePartition(w http.ResponseWriter, r *http.Request) (dev, part, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 2 || !validDevice(parts[0]) || !validPartition(parts[1]) {
		fail(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
		return "", "", "", false
	}
	if err := srv.s.checkDevice(parts[0]); err != nil {
		fail(w, http.StatusInsufficientStorage, "")
		return "", "", "", false
	}
	if len(parts) == 3 {
		rest = parts[2]
	}
	return parts[0], parts[1], rest, true
}

func parseSuffixes(v string) ([]string, bool) {
	if v == "" {
		return nil, true
	}
	out := strings.Split(v, "-")
	for _, s := range out {
		if !isSuffix(s) {
			return nil, false
		}
	}
	return out, true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
