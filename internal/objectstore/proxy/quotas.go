package proxy

import (
	"net/http"
	"strconv"
)

// Swift's account_quotas and container_quotas middlewares: limits kept as
// metadata and checked before an object is stored.
//
//   - X-Account-Meta-Quota-Bytes: only a reseller admin may set it; the
//     account's owner is the one it limits.
//   - X-Container-Meta-Quota-Bytes / -Quota-Count: set by the owner.
//
// An upload past a limit is 413 "Upload exceeds quota.".

var accountQuotaHeaders = []string{"X-Account-Meta-Quota-Bytes", "X-Account-Meta-Quota-Count"}
var containerQuotaHeaders = []string{"X-Container-Meta-Quota-Bytes", "X-Container-Meta-Quota-Count"}

// checkQuotaValues answers the 400 for a quota that is not a whole number
// ("" removes it); it returns false when it answered.
func checkQuotaValues(rq *req, h http.Header, names []string) bool {
	for _, k := range names {
		vs, ok := h[k]
		if !ok || vs[0] == "" {
			continue
		}
		if n, err := strconv.ParseInt(vs[0], 10, 64); err != nil || n < 0 {
			rq.fail(http.StatusBadRequest, "Invalid quota value for "+k)
			return false
		}
	}
	return true
}

// accountQuotaChange: only a reseller admin may touch account quotas.
func (s *Server) accountQuotaChange(rq *req, h http.Header) bool {
	for _, k := range accountQuotaHeaders {
		if _, ok := h[k]; ok {
			if rq.token == nil || !rq.token.HasRole(s.cfg.ResellerAdminRole) {
				s.deny(rq)
				return false
			}
		}
	}
	return checkQuotaValues(rq, h, accountQuotaHeaders)
}

// usage is what a quota check needs from an account or container HEAD.
type usage struct {
	bytes, count         int64
	quotaBytes, quotaCnt int64 // -1: none
}

func readUsage(h http.Header, kind string) usage {
	u := usage{quotaBytes: -1, quotaCnt: -1}
	u.bytes, _ = strconv.ParseInt(h.Get("X-"+kind+"-Bytes-Used"), 10, 64)
	u.count, _ = strconv.ParseInt(h.Get("X-"+kind+"-Object-Count"), 10, 64)
	if v, err := strconv.ParseInt(h.Get("X-"+kind+"-Meta-Quota-Bytes"), 10, 64); err == nil {
		u.quotaBytes = v
	}
	if v, err := strconv.ParseInt(h.Get("X-"+kind+"-Meta-Quota-Count"), 10, 64); err == nil {
		u.quotaCnt = v
	}
	return u
}

// accountOverQuota reads the account's usage (an account known from the
// cache to have no quota needs no HEAD) and checks its quota.
func (s *Server) accountOverQuota(rq *req, size int64) bool {
	key := accountKey(rq.account)
	if _, ok := s.infoCache.get(key); ok {
		return false
	}
	gen := s.infoCache.generation()
	pl := s.place(s.cfg.AccountRing, rq.account, "", "")
	resp, st := s.readFirst(rq.r.Context(), pl, http.MethodHead, "", s.backendHeaders(rq))
	if st/100 != 2 {
		return false
	}
	resp.Body.Close()
	u := readUsage(resp.Header, "Account")
	s.infoCache.put(key, gen, containerInfo{status: st, usage: u})
	return u.exceeds(size)
}

// exceeds tells whether adding one object of size bytes breaks a quota.
func (u usage) exceeds(size int64) bool {
	if size < 0 {
		size = 0
	}
	return (u.quotaBytes >= 0 && u.bytes+size > u.quotaBytes) || (u.quotaCnt >= 0 && u.count+1 > u.quotaCnt)
}

// overQuota checks the account's and the container's quotas for an upload
// of size bytes (-1: unknown, chunked); it answers 413 itself.
func (s *Server) overQuota(rq *req, ci containerInfo, size int64) bool {
	over := ci.usage.exceeds(size)
	if !over {
		over = s.accountOverQuota(rq, size)
	}
	if over {
		rq.fail(http.StatusRequestEntityTooLarge, "Upload exceeds quota.")
	}
	return over
}
