package objserver

import (
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"kumo/internal/objectstore/bodyhash"
)

// put stores a new version: upload into <dev>/tmp while hashing, check the
// ETag, then commit under the object lock if it is still the newest.
func (srv *Server) put(w http.ResponseWriter, r *http.Request, o objReq) {
	s := srv.s
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	ctype := r.Header.Get("Content-Type")
	if ctype == "" {
		fail(w, http.StatusBadRequest, "No content type")
		return
	}
	chunked := len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"
	size := int64(-1)
	// A chunked body may say its length in X-Backend-Obj-Content-Length
	// (the proxy's hashed uploads: trailers need chunked encoding).
	cl, clName := r.Header.Get("Content-Length"), "Content-Length"
	if chunked {
		cl, clName = r.Header.Get(bodyhash.HeaderObjLength), bodyhash.HeaderObjLength
	}
	if cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			fail(w, http.StatusBadRequest, "Invalid "+clName)
			return
		}
		size = n
	} else if !chunked {
		fail(w, http.StatusLengthRequired, "")
		return
	}
	deleteAt, ok := s.checkDeleteAt(w, r)
	if !ok {
		return
	}
	// Fail fast, before the upload, on what the disk already says.
	if ok, _ := srv.putAllowed(w, r, o, ts, false); !ok {
		return
	}
	// A small body is read into memory and goes through the journal
	// (journal.go); a larger one streams into a temp file fsynced on its
	// own.
	small := size >= 0 && size <= journalMaxFile
	if !s.hasSpace(o.dev, size, small) {
		fail(w, http.StatusInsufficientStorage, "")
		return
	}
	var body []byte
	var exp *expectation
	if small {
		body = make([]byte, size, size+footerRoom)
		// The other replicas are arriving too: let the journal flush
		// them together. A journal that cannot open fails the PUT before
		// the body is read, as a full disk does below.
		var err error
		if exp, err = s.expectWrite(o.dev); err != nil {
			srv.writeFailure(w, r, err)
			return
		}
		defer exp.settle()
	}
	dir := s.hashDir(o.dev, o.part, o.hash)
	mu := s.objLock(dir)
	turns := mu.turns.Load() // before the mkdir: see objMutex
	var f tempFile
	var unnamed, made bool
	var err error
	if small {
		f, unnamed, made, err = s.newSmall(o.dev, dir)
	} else {
		f, err = s.newTemp(o.dev)
	}
	if err != nil {
		srv.writeFailure(w, r, err)
		return
	}
	if s.afterMkdir != nil {
		s.afterMkdir()
	}
	// A large body's space is reserved before it is read, so a full disk
	// fails first. A small one has had hasSpace: its write still fails on
	// a full disk (delayed allocation reserves at write time), and
	// fallocate would cost it an unwritten extent to convert (measured
	// here: 0.10 against 0.17-0.25 ms of CPU per 4 KiB file).
	if !small {
		if err := f.Allocate(size); err != nil {
			discard(f)
			srv.writeFailure(w, r, err)
			return
		}
	}
	// The body's CRC-32C always; its MD5 unless the proxy sends its own
	// (crc.go).
	crc := bodyhash.NewCRC()
	var h hash.Hash
	sums := io.Writer(crc)
	if !proxyHashed(r) {
		var doneHash func()
		h, doneHash = bodyhash.New(size)
		defer doneHash()
		sums = io.MultiWriter(h, crc)
	}
	var n int64
	switch {
	case small:
		var got int
		got, err = io.ReadFull(r.Body, body)
		n = int64(got)
		if err == nil {
			_, _ = sums.Write(body)
		}
	case size >= 0 && size < bodyhash.LargeBody:
		buf := copyBufs.Get().(*[]byte)
		n, err = io.CopyBuffer(io.MultiWriter(fileWriter{f}, sums), r.Body, *buf)
		copyBufs.Put(buf)
	case isWriterTo(r.Body):
		// An in-process upload lends its chunks (copyLent).
		n, err = copyLent(fileWriter{f}, sums, r.Body.(io.WriterTo))
	default:
		// Aligned buffers: the O_DIRECT writes go without a copy.
		b1, b2 := directBufs.Get().(*[]byte), directBufs.Get().(*[]byte)
		n, err = hashCopy(fileWriter{f}, sums, r.Body, [2][]byte{*b1, *b2})
		directBufs.Put(b1)
		directBufs.Put(b2)
	}
	// drop forgets the upload: nothing of it is visible yet, and the
	// directories made for its unnamed file go again if still empty.
	drop := func() {
		discard(f)
		if unnamed {
			s.removeEmptyDirs(o.dev, dir)
		}
	}
	if err != nil {
		drop()
		var werr writeError
		if errors.As(err, &werr) {
			srv.writeFailure(w, r, werr.err)
			return
		}
		fail(w, statusClientDisconnect, "")
		return
	}
	if size >= 0 && n != size {
		drop()
		fail(w, statusClientDisconnect, "")
		return
	}
	var etag string
	if h != nil {
		etag = hex.EncodeToString(h.Sum(nil))
	} else if etag = r.Trailer.Get(bodyhash.TrailerEtag); !isMD5Hex(etag) || r.Trailer.Get(bodyhash.TrailerCRC32C) != bodyhash.CRCString(crc.Sum32()) {
		// What was stored is not what the proxy hashed.
		drop()
		fail(w, http.StatusUnprocessableEntity, "")
		return
	}
	if want := r.Header.Get("ETag"); want != "" && !strings.EqualFold(strings.Trim(want, `"`), etag) {
		drop()
		fail(w, http.StatusUnprocessableEntity, "")
		return
	}
	md := Metadata{
		"name":           o.name(),
		"X-Timestamp":    ts.Internal(),
		"Content-Type":   ctype,
		"Content-Length": strconv.FormatInt(n, 10),
		"ETag":           etag,
		keyCRC32C:        bodyhash.CRCString(crc.Sum32()),
	}
	userMetadata(r.Header, md)
	if deleteAt >= 0 {
		md["X-Delete-At"] = strconv.FormatInt(deleteAt, 10)
	}
	targets := updateTargets(r.Header)
	if len(targets) > 0 {
		// Kept so the Expirer can tell the containers later.
		md[keyUpdateTargets] = encodeTargets(targets)
	}
	footer, err := encodeFooter(md)
	if err == nil && !small {
		_, err = f.Write(footer)
	}
	if err != nil {
		drop()
		srv.writeFailure(w, r, err)
		return
	}
	lockWrite(mu, exp)
	// Still empty when this PUT made it and no other writer has held its
	// lock since.
	empty := made && turns%2 == 0 && mu.turns.Load() == turns+1
	ok, before := srv.putAllowed(w, r, o, ts, empty)
	if !ok {
		mu.Unlock()
		drop()
		return
	}
	if small {
		err = s.publishTemp(f, unnamed, o.dev, dir, ts.Internal()+extData, append(body, footer...), exp)
	} else {
		err = s.commit(o.dev, f, dir, ts.Internal()+extData)
	}
	if err == nil && (before.base != nil || before.meta != nil) {
		// Remove what the new version replaces (nothing when there was
		// no version before).
		err = s.disposeReplaced(o.dev, before, ts)
	}
	mu.Unlock()
	if err != nil {
		srv.writeFailure(w, r, err)
		return
	}
	if err := s.invalidateSuffix(o.dev, o.part, suffixOf(o.hash)); err != nil {
		s.log.Warn("invalidate suffix", "err", err)
	}
	if deleteAt >= 0 {
		s.noteExpiring(o.dev, o.part, o.hash)
	}
	s.updateContainers(o, http.MethodPut, ts, map[string]string{
		"X-Size": md["Content-Length"], "X-Content-Type": ctype, "X-Etag": etag,
	}, targets)
	w.Header().Set("ETag", `"`+etag+`"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// putAllowed applies the checks against the current version: an older or
// equal timestamp is a conflict, and If-None-Match guards overwrites. It
// returns what the hash directory held.
func (srv *Server) putAllowed(w http.ResponseWriter, r *http.Request, o objReq, ts Timestamp, empty bool) (bool, objState) {
	dir := srv.s.hashDir(o.dev, o.part, o.hash)
	if empty {
		// Nothing to read: the checks below all pass for no object.
		return true, objState{dir: dir}
	}
	// An empty hash dir stays: it may hold this PUT's unnamed file.
	obj, st, err := srv.s.loadObjectKeep(dir, true)
	if err != nil && !errors.Is(err, errBadFooter) {
		srv.internalError(w, r, err)
		return false, st
	}
	if st.base != nil && st.base.ts.Compare(ts) >= 0 {
		w.Header().Set("X-Backend-Timestamp", st.base.ts.Internal())
		fail(w, http.StatusConflict, "")
		return false, st
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && obj != nil && !srv.s.expired(obj) {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.Trim(strings.TrimSpace(tag), `"`)
			if tag == "*" || tag == obj.meta["ETag"] {
				w.Header().Set("X-Backend-Timestamp", obj.state.base.ts.Internal())
				fail(w, http.StatusPreconditionFailed, "")
				return false, st
			}
		}
	}
	return true, st
}

// checkDeleteAt validates X-Delete-At; -1 means none.
func (s *Store) checkDeleteAt(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.Header.Get("X-Delete-At")
	if v == "" {
		return -1, true
	}
	n, err := parseDeleteAt(v)
	if err != nil {
		fail(w, http.StatusBadRequest, "Non-integer X-Delete-At")
		return 0, false
	}
	if n < s.now().Unix() {
		fail(w, http.StatusBadRequest, "X-Delete-At in past")
		return 0, false
	}
	return n, true
}

// expired reports whether the object's X-Delete-At has passed; such an
// object is never served.
func (s *Store) expired(obj *object) bool {
	at, ok := obj.deleteAt()
	return ok && at <= s.now().Unix()
}

// writeError marks a failure writing the temp file, as opposed to reading
// the request body.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }

type fileWriter struct{ f tempFile }

func (fw fileWriter) Write(p []byte) (int, error) {
	n, err := fw.f.Write(p)
	if err != nil {
		err = writeError{err}
	}
	return n, err
}

// footerRoom is what a small body's buffer leaves for the metadata footer
// that follows it in the file, so most need no second allocation.
const footerRoom = 1 << 10

// copyBufs holds 256 KiB buffers: large objects stream with fewer syscalls.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writeFailure answers 507 for a full device and 500 otherwise.
func (srv *Server) writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		fail(w, http.StatusInsufficientStorage, "")
		return
	}
	srv.internalError(w, r, err)
}
