package objserver

import (
	"errors"
	"net/http"
	"strconv"
)

// post replaces the object's user metadata with a .meta file (202), as
// Swift's fast-POST: the data file is untouched.
func (srv *Server) post(w http.ResponseWriter, r *http.Request, o objReq) {
	s := srv.s
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	deleteAt, ok := s.checkDeleteAt(w, r)
	if !ok {
		return
	}
	mu := s.objLock(s.hashDir(o.dev, o.part, o.hash))
	mu.Lock()
	obj, st, err := s.loadObject(s.hashDir(o.dev, o.part, o.hash))
	if err != nil && !errors.Is(err, errBadFooter) {
		mu.Unlock()
		srv.internalError(w, r, err)
		return
	}
	if obj == nil || s.expired(obj) {
		mu.Unlock()
		if st.base != nil {
			w.Header().Set("X-Backend-Timestamp", st.base.ts.Internal())
		}
		fail(w, http.StatusNotFound, "")
		return
	}
	if newest := st.newest(); newest.Compare(ts) >= 0 {
		mu.Unlock()
		w.Header().Set("X-Backend-Timestamp", newest.Internal())
		fail(w, http.StatusConflict, "")
		return
	}
	md := Metadata{"name": o.name(), "X-Timestamp": ts.Internal()}
	userMetadata(r.Header, md)
	if deleteAt >= 0 {
		md["X-Delete-At"] = strconv.FormatInt(deleteAt, 10)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		md["Content-Type"] = ct
	}
	err = s.writeMetaFile(o.dev, o.part, o.hash, ts.Internal()+extMeta, md, nil)
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
	if ct := md["Content-Type"]; ct != "" {
		// As Swift's object server: the listing learns a new content type
		// as an update of the same data, whose content-type timestamp is
		// the POST's, so that it wins over the PUT's type and only that.
		s.updateContainers(o, http.MethodPut, obj.state.base.ts, map[string]string{
			"X-Size": obj.meta["Content-Length"], "X-Etag": obj.meta["ETag"], "X-Content-Type": ct,
			"X-Content-Type-Timestamp": ts.Internal(),
		}, updateTargets(r.Header))
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}
