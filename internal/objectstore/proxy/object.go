package proxy

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

func (s *Server) handleObject(rq *req) {
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead:
		s.objectGet(rq)
	case http.MethodPut:
		if s.archiveCurrent(rq) {
			s.objectPut(rq)
		}
	case "COPY":
		if rq.tempURL {
			rq.fail(http.StatusUnauthorized, "Temp URL invalid")
			return
		}
		s.objectCopy(rq)
	case http.MethodPost:
		s.objectPost(rq)
	case http.MethodDelete:
		if !s.versionedDelete(rq) {
			s.objectDelete(rq)
		}
	default:
		rq.w.Header().Set("Allow", "HEAD, GET, PUT, POST, DELETE, COPY")
		rq.fail(http.StatusMethodNotAllowed, "")
	}
}

// canWrite decides an object write in a container whose write ACL is acl.
func (s *Server) canWrite(rq *req, writeACL string) bool {
	if rq.owner {
		return true
	}
	if rq.token == nil {
		return false
	}
	if s.containerACLAllows(rq, parseContainerACL(writeACL)) {
		return true
	}
	return s.level(rq) >= accessReadWrite
}

// quoteETags makes If-Match / If-None-Match values quoted, as the storage
// nodes' HTTP code requires; Swift clients send bare hex.
func quoteETags(v string) string {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p != "*" && !strings.HasPrefix(p, `"`) && !strings.HasPrefix(p, "W/") {
			p = `"` + p + `"`
		}
		parts[i] = p
	}
	return strings.Join(parts, ", ")
}

func (s *Server) objectGet(rq *req) {
	if !rq.owner {
		ci := s.containerInfo(rq, rq.account, rq.container)
		if !s.canRead(rq, ci.read, false) {
			s.deny(rq)
			return
		}
	}
	hdr := s.backendHeaders(rq)
	for _, k := range []string{"Range", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := rq.r.Header.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	for _, k := range []string{"If-Match", "If-None-Match"} {
		if v := rq.r.Header.Get(k); v != "" {
			hdr.Set(k, quoteETags(v))
		}
	}
	pl := s.place(s.cfg.ObjectRing, rq.account, rq.container, rq.object)
	var resp *http.Response
	var st int
	if rq.r.Method == http.MethodGet {
		resp, st = s.readResuming(rq.r.Context(), pl, hdr)
	} else {
		resp, st = s.readFirst(rq.r.Context(), pl, rq.r.Method, "", hdr)
	}
	if resp == nil {
		rq.fail(st, "")
		return
	}
	if isSLO(resp.Header) && resp.StatusCode == http.StatusOK &&
		rq.r.URL.Query().Get("multipart-manifest") != "get" {
		s.serveSLO(rq, resp)
		return
	}
	if m := resp.Header.Get("X-Object-Manifest"); m != "" && rq.r.URL.Query().Get("multipart-manifest") != "get" {
		if resp.StatusCode/100 == 2 {
			s.serveDLO(rq, resp, m)
			return
		}
	}
	rq.relay(resp, func(h http.Header) {
		h.Set("Accept-Ranges", "bytes")
		if rq.tempURL && rq.r.Method == http.MethodGet && resp.StatusCode/100 == 2 {
			h.Set("Content-Disposition", tempURLDisposition(rq))
		}
		if h.Get("Last-Modified") == "" {
			// Go's ServeContent drops it from a 304 that has an ETag.
			h.Set("Last-Modified", lastModified(h.Get("X-Timestamp")))
		}
	})
}

// containerTargets are the X-Container-* headers that tell object replica
// i which container replica to update with the listing row.
func (s *Server) containerTargets(rq *req) func(i int, h http.Header) {
	cpl := s.place(s.cfg.ContainerRing, rq.account, rq.container, "")
	return func(i int, h http.Header) {
		c := cpl.primaries[i%len(cpl.primaries)]
		h.Set("X-Container-Host", net.JoinHostPort(c.IP, strconv.Itoa(c.Port)))
		h.Set("X-Container-Device", c.Name)
		h.Set("X-Container-Partition", strconv.Itoa(cpl.part))
	}
}

// deleteAt turns X-Delete-After into X-Delete-At and validates both; it
// returns the 400 message, or "".
func (s *Server) deleteAt(in, out http.Header) string {
	now := s.cfg.Now().Unix()
	if v := in.Get("X-Delete-After"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "Non-integer X-Delete-After"
		}
		if n < 0 {
			return "X-Delete-After in past"
		}
		out.Set("X-Delete-At", strconv.FormatInt(now+n, 10))
		return ""
	}
	if v := in.Get("X-Delete-At"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "Non-integer X-Delete-At"
		}
		if n < now {
			return "X-Delete-At in past"
		}
		out.Set("X-Delete-At", strconv.FormatInt(n, 10))
	}
	return ""
}

// objectHeaders are the stored headers besides X-Object-Meta-* that a PUT
// or POST carries, as Swift's object server allowed_headers.
var objectHeaders = []string{"Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control", "Expires", "X-Robots-Tag"}

func (s *Server) objectPost(rq *req) {
	ci := s.containerInfo(rq, rq.account, rq.container)
	if !s.canWrite(rq, ci.write) {
		s.deny(rq)
		return
	}
	if ci.status/100 != 2 {
		rq.fail(ci.status, "")
		return
	}
	in := rq.r.Header
	if msg := checkMetadata(in, "Object"); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	hdr := s.backendHeaders(rq)
	if msg := s.deleteAt(in, hdr); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	metaHeaders(hdr, in, "Object")
	for _, k := range objectHeaders {
		if v := in.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	if !s.manifestHeader(rq, in, hdr) {
		return
	}
	if ct := in.Get("Content-Type"); ct != "" {
		hdr.Set("Content-Type", ct)
	}
	hdr.Set("X-Timestamp", s.clock.next())
	// The container replicas too: a new Content-Type shows in the listing.
	targets := s.containerTargets(rq)
	pl := s.place(s.cfg.ObjectRing, rq.account, rq.container, rq.object)
	resps := s.writeAll(rq.r.Context(), pl, http.MethodPost, "", func(i int) http.Header {
		h := hdr.Clone()
		targets(i, h)
		return h
	}, nil)
	st, _ := bestStatus(resps, pl.quorum())
	if st/100 != 2 {
		rq.fail(st, "")
		return
	}
	rq.empty(http.StatusAccepted)
}

func (s *Server) objectDelete(rq *req) {
	ci := s.ownContainerInfo(rq)
	if !s.canWrite(rq, ci.write) {
		s.deny(rq)
		return
	}
	if ci.status/100 != 2 {
		rq.fail(ci.status, "")
		return
	}
	if rq.r.URL.Query().Get("multipart-manifest") == "delete" {
		s.sloDelete(rq)
		return
	}
	hdr := s.backendHeaders(rq)
	if v := rq.r.Header.Get("X-If-Delete-At"); v != "" {
		hdr.Set("X-If-Delete-At", v)
	}
	if st := s.objectBackendDelete(rq, hdr); st/100 != 2 {
		rq.fail(st, "")
		return
	}
	rq.empty(http.StatusNoContent)
}

// objectBackendDelete deletes rq's object on its replicas, telling the
// container replicas, and returns the quorum's status.
func (s *Server) objectBackendDelete(rq *req, hdr http.Header) int {
	hdr.Set("X-Timestamp", s.clock.next())
	targets := s.containerTargets(rq)
	pl := s.place(s.cfg.ObjectRing, rq.account, rq.container, rq.object)
	resps := s.writeAll(rq.r.Context(), pl, http.MethodDelete, "", func(i int) http.Header {
		h := hdr.Clone()
		targets(i, h)
		return h
	}, nil)
	st, _ := bestStatus(resps, pl.quorum())
	return st
}

// splitDest parses "container/object" (Destination, X-Copy-From), with or
// without a leading slash.
func splitDest(v string) (string, string, bool) {
	v = strings.TrimPrefix(v, "/")
	c, o, ok := strings.Cut(v, "/")
	if !ok || c == "" || o == "" {
		return "", "", false
	}
	return c, o, true
}

// objectCopy turns COPY into a PUT of the destination with X-Copy-From, as
// Swift's copy middleware does.
func (s *Server) objectCopy(rq *req) {
	dest := rq.r.Header.Get("Destination")
	if dest == "" {
		rq.fail(http.StatusPreconditionFailed, "Destination header required")
		return
	}
	dest = unquotePath(dest)
	c, o, ok := splitDest(dest)
	if !ok {
		rq.fail(http.StatusPreconditionFailed, "Destination header must be of the form <container name>/<object name>")
		return
	}
	src := &req{w: rq.w, r: rq.r, transID: rq.transID, account: rq.account, container: rq.container, object: rq.object,
		token: rq.token, owner: rq.owner}
	dst := *src
	if a := rq.r.Header.Get("Destination-Account"); a != "" {
		dst.account = unquotePath(a)
		dst.owner = s.isOwner(&dst)
	}
	dst.container, dst.object = c, o
	s.putObject(&dst, src)
}

func unquotePath(v string) string {
	if u, err := unescape(v); err == nil {
		return u
	}
	return v
}

func lengthError(n int) string {
	return fmt.Sprintf("Object name length of %d longer than %d", n, maxObjectNameLength)
}

// manifestHeader passes a valid X-Object-Manifest on and answers 400 for
// an invalid one.
func (s *Server) manifestHeader(rq *req, in, out http.Header) bool {
	v := in.Get("X-Object-Manifest")
	if v == "" {
		return true
	}
	m, ok := checkManifest(v)
	if !ok {
		rq.fail(http.StatusBadRequest, "X-Object-Manifest must be in the format container/prefix")
		return false
	}
	out.Set("X-Object-Manifest", m)
	return true
}
