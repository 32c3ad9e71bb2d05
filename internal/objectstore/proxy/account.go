package proxy

import (
	"net/http"
	"strconv"
)

const aclSysmeta = "X-Account-Sysmeta-Core-Access-Control"

func (s *Server) handleAccount(rq *req) {
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead:
		s.accountGet(rq)
	case http.MethodPost:
		s.accountPost(rq)
	case http.MethodPut, http.MethodDelete:
		// Swift's allow_account_management is off: accounts come and go
		// with projects (created on first write).
		if !rq.owner {
			s.deny(rq)
			return
		}
		rq.w.Header().Set("Allow", "HEAD, GET, POST")
		rq.fail(http.StatusMethodNotAllowed, "")
	default:
		rq.w.Header().Set("Allow", "HEAD, GET, POST")
		rq.fail(http.StatusMethodNotAllowed, "")
	}
}

// accountACL reads the account's stored ACL (for callers who are not
// owners, whose rights may come from it).
func (s *Server) accountACL(rq *req) string {
	if rq.owner || rq.token == nil {
		return ""
	}
	pl := s.place(s.cfg.AccountRing, rq.account, "", "")
	resp, st := s.readFirst(rq.r.Context(), pl, http.MethodHead, "", s.backendHeaders(rq))
	if st/100 != 2 {
		return ""
	}
	resp.Body.Close()
	return resp.Header.Get(aclSysmeta)
}

func (s *Server) backendHeaders(rq *req) http.Header {
	return http.Header{"X-Trans-Id": {rq.transID}}
}

func (s *Server) accountGet(rq *req) {
	pl := s.place(s.cfg.AccountRing, rq.account, "", "")
	hdr := s.backendHeaders(rq)
	if a := rq.r.Header.Get("Accept"); a != "" {
		hdr.Set("Accept", a)
	}
	resp, st := s.readFirst(rq.r.Context(), pl, rq.r.Method, rq.r.URL.RawQuery, hdr)
	acl := ""
	if resp != nil {
		acl = resp.Header.Get(aclSysmeta)
	}
	level := s.accountAccess(rq, acl)
	if level < accessRead {
		if resp != nil {
			resp.Body.Close()
		}
		s.deny(rq)
		return
	}
	if resp == nil {
		if st == http.StatusNotFound {
			rq.w.Header().Set("X-Timestamp", s.clock.next())
			emptyListing(rq)
			return
		}
		rq.fail(st, "")
		return
	}
	rq.relay(resp, func(h http.Header) {
		if level == accessOwner && acl != "" {
			h.Set("X-Account-Access-Control", acl)
		}
		// One storage policy: its usage is the account's.
		if n, _ := strconv.Atoi(h.Get("X-Account-Container-Count")); n > 0 {
			h.Set("X-Account-Storage-Policy-Policy-0-Container-Count", h.Get("X-Account-Container-Count"))
			h.Set("X-Account-Storage-Policy-Policy-0-Object-Count", h.Get("X-Account-Object-Count"))
			h.Set("X-Account-Storage-Policy-Policy-0-Bytes-Used", h.Get("X-Account-Bytes-Used"))
		}
		h.Set("Accept-Ranges", "bytes")
	})
}

func (s *Server) accountPost(rq *req) {
	acl := s.accountACL(rq)
	if s.accountAccess(rq, acl) < accessOwner {
		s.deny(rq)
		return
	}
	in := rq.r.Header.Clone()
	applyRemovals(in, "Account")
	if !s.accountQuotaChange(rq, in) {
		return
	}
	if msg := checkMetadata(in, "Account"); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	hdr := s.backendHeaders(rq)
	metaHeaders(hdr, in, "Account")
	if vs, ok := in["X-Account-Access-Control"]; ok {
		if vs[0] == "" {
			hdr.Set(aclSysmeta, "")
		} else {
			a, err := parseAccountACL(vs[0])
			if err != nil {
				rq.fail(http.StatusBadRequest, "Syntax error in input (invalid X-Account-Access-Control)")
				return
			}
			hdr.Set(aclSysmeta, a.encode())
		}
	}
	st := s.accountWrite(rq, http.MethodPost, hdr)
	if st == http.StatusNotFound {
		if cst := s.createAccount(rq); cst/100 != 2 {
			rq.fail(cst, "")
			return
		}
		st = s.accountWrite(rq, http.MethodPost, hdr)
	}
	if st/100 != 2 {
		rq.fail(st, "")
		return
	}
	rq.empty(http.StatusNoContent)
}

func (s *Server) accountWrite(rq *req, method string, hdr http.Header) int {
	s.infoCache.invalidate(accountKey(rq.account))
	defer s.infoCache.invalidate(accountKey(rq.account))
	pl := s.place(s.cfg.AccountRing, rq.account, "", "")
	hdr = hdr.Clone()
	hdr.Set("X-Timestamp", s.clock.next())
	resps := s.writeAll(rq.r.Context(), pl, method, "", func(int) http.Header { return hdr }, nil)
	st, _ := bestStatus(resps, pl.quorum())
	return st
}

// createAccount is Swift's account_autocreate: the first authorized write
// to AUTH_<project> creates the account.
func (s *Server) createAccount(rq *req) int {
	return s.accountWrite(rq, http.MethodPut, s.backendHeaders(rq))
}

// ensureAccount creates the account when it does not exist yet.
func (s *Server) ensureAccount(rq *req) int {
	pl := s.place(s.cfg.AccountRing, rq.account, "", "")
	resp, st := s.readFirst(rq.r.Context(), pl, http.MethodHead, "", s.backendHeaders(rq))
	if resp != nil {
		resp.Body.Close()
		return st
	}
	if st != http.StatusNotFound {
		return st
	}
	return s.createAccount(rq)
}
