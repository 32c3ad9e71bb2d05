package objserver

import (
	"errors"
	"net/http"
)

// delete writes a tombstone when the request is newer than what is on
// disk. As in Swift: 204 when a live object was deleted, 404 when there was
// none (the tombstone is still written, so replicas converge), 409 when the
// live object is as new or newer, 412 when X-If-Delete-At does not match.
func (srv *Server) delete(w http.ResponseWriter, r *http.Request, o objReq) {
	s := srv.s
	ts, ok := requireTimestamp(w, r)
	if !ok {
		return
	}
	ifDeleteAt := int64(-1)
	if v := r.Header.Get("X-If-Delete-At"); v != "" {
		n, err := parseDeleteAt(v)
		if err != nil {
			fail(w, http.StatusBadRequest, "Bad X-If-Delete-At header value")
			return
		}
		ifDeleteAt = n
	}
	// The other replicas' tombstones are coming too: let the journal
	// flush them together.
	exp, err := s.expectWrite(o.dev)
	if err != nil {
		srv.writeFailure(w, r, err)
		return
	}
	defer exp.settle()
	mu := s.objLock(s.hashDir(o.dev, o.part, o.hash))
	lockWrite(mu, exp)
	status, orig, err := srv.deleteLocked(o, ts, ifDeleteAt, exp)
	mu.Unlock()
	if err != nil {
		srv.writeFailure(w, r, err)
		return
	}
	if !orig.IsZero() {
		w.Header().Set("X-Backend-Timestamp", orig.Internal())
	}
	wrote := status == http.StatusNoContent || (status == http.StatusNotFound && orig.Compare(ts) < 0)
	if wrote {
		if err := s.invalidateSuffix(o.dev, o.part, suffixOf(o.hash)); err != nil {
			s.log.Warn("invalidate suffix", "err", err)
		}
		s.updateContainers(o, http.MethodDelete, ts, nil, updateTargets(r.Header))
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	fail(w, status, "")
}

// deleteLocked decides and writes; it returns the status and the timestamp
// that was on disk.
func (srv *Server) deleteLocked(o objReq, ts Timestamp, ifDeleteAt int64, exp *expectation) (int, Timestamp, error) {
	s := srv.s
	obj, st, err := s.loadObject(s.hashDir(o.dev, o.part, o.hash))
	if err != nil && !errors.Is(err, errBadFooter) {
		return 0, Timestamp{}, err
	}
	var orig Timestamp
	if st.base != nil {
		orig = st.base.ts
	}
	live := obj != nil && !s.expired(obj)
	if ifDeleteAt >= 0 {
		at := int64(0)
		if obj != nil {
			at, _ = obj.deleteAt()
		}
		if obj == nil {
			return http.StatusNotFound, orig, nil
		}
		if at != ifDeleteAt {
			return http.StatusPreconditionFailed, orig, nil
		}
	}
	if live && orig.Compare(ts) >= 0 {
		return http.StatusConflict, orig, nil
	}
	if orig.Compare(ts) < 0 {
		if err := s.writeTombstone(o.dev, s.hashDir(o.dev, o.part, o.hash), ts, st, exp); err != nil {
			return 0, orig, err
		}
	}
	if live {
		return http.StatusNoContent, orig, nil
	}
	return http.StatusNotFound, orig, nil
}
