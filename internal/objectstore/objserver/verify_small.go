package objserver

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// verifyBeforeServeMax is the largest object a GET reads and checks against
// its checksum (bodyCheck) before sending a byte. Bigger ones are checked
// while streaming (a mismatch is quarantined after the fact, as in Swift),
// since holding them in memory would cost too much.
const verifyBeforeServeMax = 1 << 20

// serveVerified answers a GET of a small object only from bytes that match
// its checksum: a corrupt replica is quarantined and answered 404, so the
// proxy reads another replica and no client ever gets silently wrong bytes.
// It reports false when the request is not one it handles (HEAD, large
// object).
func (srv *Server) serveVerified(w http.ResponseWriter, r *http.Request, o objReq, obj *object, f io.ReaderAt) bool {
	if r.Method != http.MethodGet || obj.dataLen > verifyBeforeServeMax {
		return false
	}
	var data []byte
	if obj.dataLen > pooledVerifyMin {
		// ServeContent writes synchronously: the buffer is free again
		// when serveVerified returns.
		bp := verifyBufs.Get().(*[]byte)
		defer verifyBufs.Put(bp)
		data = (*bp)[:obj.dataLen]
	} else {
		data = make([]byte, obj.dataLen)
	}
	n, err := f.ReadAt(data, 0)
	if int64(n) != obj.dataLen || !bodyMatches(obj, data[:n]) {
		s := srv.s
		s.log.Warn("quarantining object whose body does not match its checksum", "path", obj.path, "read", n, "err", err)
		_ = s.quarantineObject(o.dev, o.part, o.hash, obj.state.base.name)
		// Nothing of the bad replica's metadata may look like an answer.
		clear(w.Header())
		fail(w, http.StatusNotFound, "")
		return true
	}
	http.ServeContent(w, r, "", obj.timestamp().Ceil(), bytes.NewReader(data))
	return true
}

// Objects above pooledVerifyMin are read into pooled buffers, so a stream
// of GETs does not allocate a megabyte each.
const pooledVerifyMin = 64 << 10

var verifyBufs = sync.Pool{New: func() any { b := make([]byte, verifyBeforeServeMax); return &b }}
