package objserver

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"os"
	"strings"

	"kumo/internal/objectstore/bodyhash"
)

// get serves GET and HEAD. Ranges (single, and multiple as
// multipart/byteranges) and the conditional headers are handled by
// http.ServeContent against the object's ETag and Swift's Last-Modified
// (the timestamp rounded up to a second).
func (srv *Server) get(w http.ResponseWriter, r *http.Request, o objReq) {
	s := srv.s
	obj, st, f, err := s.openObject(s.hashDir(o.dev, o.part, o.hash))
	if errors.Is(err, errBadFooter) && st.base != nil {
		// Unreadable metadata: quarantine now rather than at the next audit,
		// so the proxy reads another replica and replication restores this one.
		s.log.Warn("quarantining object with bad metadata", "path", st.dir, "err", err)
		_ = s.quarantineObject(o.dev, o.part, o.hash, st.base.name)
		fail(w, http.StatusNotFound, "")
		return
	}
	if err != nil {
		srv.internalError(w, r, err)
		return
	}
	if obj == nil || s.expired(obj) {
		if f != nil {
			f.Close()
		}
		if st.base != nil {
			w.Header().Set("X-Backend-Timestamp", st.base.ts.Internal())
		}
		fail(w, http.StatusNotFound, "")
		return
	}
	defer f.Close()
	h := w.Header()
	setObjectHeaders(h, obj)
	h.Set("Accept-Ranges", "bytes")
	if !validRange(r.Header.Get("Range")) {
		// Swift ignores a Range it cannot parse and serves the whole object.
		r.Header.Del("Range")
	}
	if srv.serveVerified(w, r, o, obj, f) {
		return
	}
	sum, want, doneHash := bodyCheck(obj)
	defer doneHash()
	body := &verifyingReader{sr: io.NewSectionReader(f, 0, obj.dataLen), file: f, size: obj.dataLen, h: sum}
	http.ServeContent(wholeBodyWriter{w, body}, r, "", obj.timestamp().Ceil(), body)
	if body.done && hex.EncodeToString(body.h.Sum(nil)) != want {
		// As Swift's diskfile reader: a whole read that does not match the
		// ETag is quarantined (this client already got the bad bytes; the
		// next one is served by another replica).
		s.log.Warn("quarantining object whose body does not match its checksum", "path", obj.path)
		_ = s.quarantineObject(o.dev, o.part, o.hash, obj.state.base.name)
	}
}

// bodyCheck is what a whole read of obj is checked with: the hash, the
// hex sum it must give and the function to call when done. That is the
// body's CRC-32C, or its MD5 ETag for a file written before kumo kept a
// CRC (crc.go).
func bodyCheck(obj *object) (hash.Hash, string, func()) {
	if c, ok := obj.meta[keyCRC32C]; ok {
		return bodyhash.NewCRC(), c, func() {}
	}
	h, done := bodyhash.New(obj.dataLen)
	return h, obj.meta["ETag"], done
}

// bodyMatches reports whether data is obj's whole body, by bodyCheck's hash.
func bodyMatches(obj *object, data []byte) bool {
	if c, ok := obj.meta[keyCRC32C]; ok {
		return bodyhash.CRC(data) == c
	}
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:]) == obj.meta["ETag"]
}

// verifyingReader hashes the body when it is read whole, from start to end.
type verifyingReader struct {
	sr   *io.SectionReader
	file *os.File // sr's, for sendDirect
	size int64
	pos  int64
	h    hash.Hash
	seq  bool // every byte so far was read in order from 0
	done bool
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.sr.Read(p)
	if v.seq {
		v.h.Write(p[:n])
	}
	v.pos += int64(n)
	if v.seq && v.pos == v.size {
		v.done = true
	}
	return n, err
}

func (v *verifyingReader) Seek(off int64, whence int) (int64, error) {
	pos, err := v.sr.Seek(off, whence)
	if err == nil {
		v.pos = pos
		v.seq = pos == 0
		if v.seq {
			v.h.Reset()
		}
	}
	return pos, err
}

// setObjectHeaders copies the stored metadata a client or the proxy sees.
func setObjectHeaders(h http.Header, obj *object) {
	md := obj.meta
	h.Set("Content-Type", md["Content-Type"])
	h.Set("ETag", `"`+md["ETag"]+`"`)
	ts := obj.timestamp()
	h.Set("X-Timestamp", ts.Normal())
	h.Set("X-Backend-Timestamp", ts.Internal())
	h.Set("X-Backend-Data-Timestamp", obj.state.base.ts.Internal())
	h.Set("X-Backend-Durable-Timestamp", obj.state.base.ts.Internal())
	for k, v := range md {
		if strings.HasPrefix(k, "X-Object-Meta-") || strings.HasPrefix(k, "X-Object-Sysmeta-") ||
			strings.HasPrefix(k, "X-Object-Transient-Sysmeta-") {
			h.Set(k, v)
		}
	}
	for _, k := range allowedHeaders {
		if v, ok := md[k]; ok {
			h.Set(k, v)
		}
	}
}

// maxRanges is swob's limit; more ranges than this are ignored.
const maxRanges = 50

// validRange reports whether a Range header is one Swift would honour:
// "bytes=" and 1..50 specs of "a-b", "a-" or "-n".
func validRange(v string) bool {
	if v == "" {
		return true
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok {
		return false
	}
	specs := strings.Split(spec, ",")
	if len(specs) > maxRanges {
		return false
	}
	for _, sp := range specs {
		a, b, ok := strings.Cut(strings.TrimSpace(sp), "-")
		if !ok || (a == "" && b == "") || !allDigits(a) || !allDigits(b) {
			return false
		}
		if a != "" && b != "" && len(a) <= 18 && len(b) <= 18 && atoi(b) < atoi(a) {
			return false
		}
	}
	return true
}

func atoi(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}
