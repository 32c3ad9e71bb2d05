package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func (s *Server) handleContainer(rq *req) {
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead:
		s.containerGet(rq)
	case http.MethodPut, http.MethodPost, http.MethodDelete:
		s.containerWrite(rq)
	default:
		rq.w.Header().Set("Allow", "HEAD, GET, PUT, POST, DELETE")
		rq.fail(http.StatusMethodNotAllowed, "")
	}
}

// containerInfo is what the proxy needs to know of a container: whether it
// exists and its ACLs.
type containerInfo struct {
	status      int
	read, write string
	usage       usage
	// versions is the container of old versions (X-Versions-Location or
	// X-History-Location); history tells which mode.
	versions string
	history  bool
	// header is the container's whole HEAD answer (staticweb's settings).
	header http.Header
}

func (s *Server) containerInfo(rq *req, account, container string) containerInfo {
	key := containerKey(account, container)
	if ci, ok := s.infoCache.get(key); ok {
		return ci
	}
	gen := s.infoCache.generation()
	pl := s.place(s.cfg.ContainerRing, account, container, "")
	resp, st := s.readFirst(rq.r.Context(), pl, http.MethodHead, "", s.backendHeaders(rq))
	if resp == nil {
		return containerInfo{status: st}
	}
	resp.Body.Close()
	ci := containerInfo{status: st, read: resp.Header.Get("X-Container-Read"), write: resp.Header.Get("X-Container-Write"),
		usage: readUsage(resp.Header, "Container"), versions: versionsOf(resp.Header),
		history: resp.Header.Get("X-History-Location") != "", header: resp.Header}
	s.infoCache.put(key, gen, ci)
	return ci
}

// canRead decides a read of a container (listing) or of one of its objects.
func (s *Server) canRead(rq *req, readACL string, listing bool) bool {
	if rq.owner {
		return true
	}
	a := parseContainerACL(readACL)
	if referrerAllowed(rq.r.Header.Get("Referer"), a.referrers) && (!listing || a.listings) {
		return true
	}
	if rq.token == nil {
		return false
	}
	if s.containerACLAllows(rq, a) {
		return true
	}
	return s.level(rq) >= accessRead
}

func (s *Server) containerGet(rq *req) {
	pl := s.place(s.cfg.ContainerRing, rq.account, rq.container, "")
	hdr := s.backendHeaders(rq)
	if a := rq.r.Header.Get("Accept"); a != "" {
		hdr.Set("Accept", a)
	}
	resp, st := s.readFirst(rq.r.Context(), pl, rq.r.Method, rq.r.URL.RawQuery, hdr)
	readACL := ""
	if resp != nil {
		readACL = resp.Header.Get("X-Container-Read")
	}
	if !s.canRead(rq, readACL, true) {
		if resp != nil {
			resp.Body.Close()
		}
		s.deny(rq)
		return
	}
	if resp == nil {
		rq.fail(st, "")
		return
	}
	put := resp.Header.Get("X-Put-Timestamp")
	rq.relay(resp, func(h http.Header) {
		if s.level(rq) < accessOwner {
			// Swift shows ACLs to the account's owners only.
			h.Del("X-Container-Read")
			h.Del("X-Container-Write")
		}
		h.Set("X-Storage-Policy", defaultPolicy)
		h.Set("Accept-Ranges", "bytes")
		if lm := lastModified(put); lm != "" {
			h.Set("Last-Modified", lm)
		}
	})
}

const defaultPolicy = "Policy-0"

func (s *Server) containerWrite(rq *req) {
	m := rq.r.Method
	in := rq.r.Header.Clone()
	applyRemovals(in, "Container")
	_, setsACL := in["X-Container-Read"]
	if _, ok := in["X-Container-Write"]; ok {
		setsACL = true
	}
	// Account read-write grants container writes, but not ACL changes.
	if level := s.level(rq); level < accessReadWrite || (setsACL && level < accessOwner) {
		s.deny(rq)
		return
	}
	if m == http.MethodPut && len(rq.container) > maxContainerNameLength {
		rq.fail(http.StatusBadRequest, fmt.Sprintf("Container name length of %d longer than %d", len(rq.container), maxContainerNameLength))
		return
	}
	hdr := s.backendHeaders(rq)
	if m != http.MethodDelete {
		if msg := checkMetadata(in, "Container"); msg != "" {
			rq.fail(http.StatusBadRequest, msg)
			return
		}
		if !checkQuotaValues(rq, in, containerQuotaHeaders) {
			return
		}
		metaHeaders(hdr, in, "Container")
		for _, k := range []string{"X-Container-Read", "X-Container-Write"} {
			if vs, ok := in[k]; ok {
				v, err := cleanACL(k, vs[0])
				if err != nil {
					rq.fail(http.StatusBadRequest, err.Error())
					return
				}
				hdr.Set(k, v)
			}
		}
		if !versionsHeaders(rq, in, hdr) {
			return
		}
	}
	if m == http.MethodPut {
		if p := in.Get("X-Storage-Policy"); p != "" && !strings.EqualFold(p, defaultPolicy) {
			rq.fail(http.StatusBadRequest, fmt.Sprintf("Invalid X-Storage-Policy %q", p))
			return
		}
		hdr.Set("X-Backend-Storage-Policy-Index", "0")
		if st := s.ensureAccount(rq); st/100 != 2 {
			if st == http.StatusNotFound {
				st = http.StatusServiceUnavailable
			}
			rq.fail(st, "")
			return
		}
	}
	st := s.containerBackendWrite(rq, m, hdr)
	switch {
	case st/100 == 2:
		rq.empty(st)
	default:
		rq.fail(st, "")
	}
}

// containerBackendWrite sends a container PUT, POST or DELETE to the
// replicas, each told which account replica to report to, and returns
// the quorum's status.
func (s *Server) containerBackendWrite(rq *req, m string, hdr http.Header) int {
	// Dropped before and after: a reader between the two sees the backend.
	s.infoCache.invalidate(containerKey(rq.account, rq.container))
	defer s.infoCache.invalidate(containerKey(rq.account, rq.container))
	putTS := ""
	if m == http.MethodDelete {
		// The account row of a deleted container keeps its put time.
		pl := s.place(s.cfg.ContainerRing, rq.account, rq.container, "")
		if resp, st := s.readFirst(rq.r.Context(), pl, http.MethodHead, "", s.backendHeaders(rq)); st/100 == 2 {
			resp.Body.Close()
			putTS = resp.Header.Get("X-Backend-Put-Timestamp")
		}
	}
	ts := s.clock.next()
	hdr.Set("X-Timestamp", ts)
	pl := s.place(s.cfg.ContainerRing, rq.account, rq.container, "")
	apl := s.place(s.cfg.AccountRing, rq.account, "", "")
	resps := s.writeAll(rq.r.Context(), pl, m, "", func(i int) http.Header {
		h := hdr.Clone()
		if m == http.MethodPut || m == http.MethodDelete {
			// Each container replica reports to one account replica.
			a := apl.primaries[i%len(apl.primaries)]
			h.Set("X-Account-Host", net.JoinHostPort(a.IP, strconv.Itoa(a.Port)))
			h.Set("X-Account-Partition", strconv.Itoa(apl.part))
			h.Set("X-Account-Device", a.Name)
		}
		return h
	}, nil)
	st, _ := bestStatus(resps, pl.quorum())
	switch {
	case m == http.MethodPut && st == http.StatusCreated:
		s.reportContainer(rq, apl, ts, "0")
	case m == http.MethodDelete && st/100 == 2 && putTS != "":
		s.reportContainer(rq, apl, putTS, ts)
	}
	return st
}

// reportContainer tells the account replicas at once that a container was
// created or deleted (empty either way), as Swift's container server does
// before it answers, so the account listing shows it immediately. The
// container updater's later reports carry newer report times and win.
func (s *Server) reportContainer(rq *req, apl placement, put, del string) {
	hdr := s.backendHeaders(rq)
	hdr.Set("X-Put-Timestamp", put)
	hdr.Set("X-Delete-Timestamp", del)
	hdr.Set("X-Object-Count", "0")
	hdr.Set("X-Bytes-Used", "0")
	hdr.Set("X-Backend-Storage-Policy-Index", "0")
	// The report's own time is the event's, so it never outranks a
	// report the container made after it.
	hdr.Set("X-Timestamp", put)
	if del != "0" {
		hdr.Set("X-Timestamp", del)
	}
	pl := apl
	pl.path += "/" + url.PathEscape(rq.container)
	resps := s.writeAll(rq.r.Context(), pl, http.MethodPut, "", func(int) http.Header { return hdr }, nil)
	if st, _ := bestStatus(resps, pl.quorum()); st/100 != 2 {
		s.log.Warn("account update failed; the container updater will retry", "account", rq.account, "container", rq.container, "status", st)
	}
}
