package proxy

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

func unescape(v string) (string, error) { return url.PathUnescape(v) }

func (s *Server) objectPut(rq *req) {
	var src *req
	if v := rq.r.Header.Get("X-Copy-From"); v != "" {
		c, o, ok := splitDest(unquotePath(v))
		if !ok {
			rq.fail(http.StatusPreconditionFailed, "X-Copy-From header must be of the form <container name>/<object name>")
			return
		}
		src = &req{w: rq.w, r: rq.r, transID: rq.transID, account: rq.account, container: c, object: o,
			token: rq.token}
		if a := rq.r.Header.Get("X-Copy-From-Account"); a != "" {
			src.account = unquotePath(a)
		}
		src.owner = s.isOwner(src)
		if a, ok := subAuthOf(rq.r); ok && a.owner && src.account == rq.account {
			src.owner = true // a pre-authorized subrequest (temp URL, FormPost) archiving a version
		}
	}
	s.putObject(rq, src)
}

// putObject stores rq's object from the request body, or from src's object
// when src is set (COPY and X-Copy-From).
func (s *Server) putObject(rq, src *req) {
	r, in := rq.r, rq.r.Header
	if len(rq.object) > maxObjectNameLength {
		rq.fail(http.StatusBadRequest, lengthError(len(rq.object)))
		return
	}
	ci := s.ownContainerInfo(rq)
	if !s.canWrite(rq, ci.write) {
		s.deny(rq)
		return
	}
	if ci.status/100 != 2 {
		if ci.status >= 500 {
			s.log.Warn("object PUT: no container server answered", "account", rq.account, "container", rq.container, "status", ci.status)
		}
		rq.fail(ci.status, "")
		return
	}
	chunked := len(r.TransferEncoding) > 0
	hdr := s.backendHeaders(rq)
	var p putSource
	if src != nil {
		if r.ContentLength > 0 || chunked {
			rq.fail(http.StatusBadRequest, "Copy requests require a zero byte body")
			return
		}
		var ok bool
		if p, ok = s.copySource(rq, src, hdr); !ok {
			return
		}
		defer p.close()
	} else {
		if in.Get("Content-Length") == "" && !chunked {
			rq.fail(http.StatusLengthRequired, "")
			return
		}
		p = putSource{body: r.Body, size: r.ContentLength}
		if chunked {
			p.size = -1
		}
	}
	sloEtag := ""
	if src == nil && isManifestPut(r) {
		body, etag, ok := s.sloManifest(rq, hdr)
		if !ok {
			return
		}
		p, sloEtag = putSource{body: bytes.NewReader(body), size: int64(len(body))}, etag
	}
	if p.size > s.cfg.MaxFileSize {
		rq.fail(http.StatusRequestEntityTooLarge, "")
		return
	}
	if s.overQuota(rq, ci, p.size) {
		return
	}
	if msg := checkMetadata(in, "Object"); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	metaHeaders(hdr, in, "Object")
	for _, k := range objectHeaders {
		if v := in.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	if msg := s.deleteAt(in, hdr); msg != "" {
		rq.fail(http.StatusBadRequest, msg)
		return
	}
	if !s.manifestHeader(rq, in, hdr) {
		return
	}
	ct := in.Get("Content-Type")
	if ct == "" && src != nil {
		ct = hdr.Get("Content-Type")
	}
	if ct == "" || strings.EqualFold(in.Get("X-Detect-Content-Type"), "true") {
		ct = detectType(rq.object)
	}
	hdr.Set("Content-Type", ct)
	if v := in.Get("If-None-Match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			rq.fail(http.StatusBadRequest, "If-None-Match only supports *")
			return
		}
		hdr.Set("If-None-Match", "*")
	}
	if v := in.Get("Etag"); v != "" && src == nil && sloEtag == "" {
		hdr.Set("Etag", strings.Trim(v, `"`))
	}
	ts := s.clock.next()
	hdr.Set("X-Timestamp", ts)
	pl := s.place(s.cfg.ObjectRing, rq.account, rq.container, rq.object)
	res := s.streamPut(rq, pl, hdr, s.containerTargets(rq), p)
	if res.status/100 != 2 {
		rq.fail(res.status, res.msg)
		return
	}
	h := rq.w.Header()
	h.Set("Etag", res.etag)
	if sloEtag != "" {
		h.Set("Etag", `"`+sloEtag+`"`) // a large object's ETag is quoted
	}
	h.Set("Last-Modified", lastModified(ts))
	if src != nil {
		// Swift's copy middleware shows the new object's metadata.
		for k, v := range hdr {
			if strings.HasPrefix(k, "X-Object-Meta-") {
				h[k] = v
			}
		}
		h.Set("X-Copied-From", url.PathEscape(src.container)+"/"+escapeObject(src.object))
		if src.account != rq.account {
			h.Set("X-Copied-From-Account", url.PathEscape(src.account))
		}
		if p.lastModified != "" {
			h.Set("X-Copied-From-Last-Modified", p.lastModified)
		}
	}
	rq.empty(http.StatusCreated)
}

// detectType guesses a Content-Type from the object name, as Swift does
// when the client sends none.
func detectType(name string) string {
	// Python's mimetypes, which Swift uses, gives the bare type: no charset.
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
		return t
	}
	return "application/octet-stream"
}

// copySource opens the source object of a copy, after checking the caller
// may read it, and fills hdr with the metadata the copy inherits.
func (s *Server) copySource(rq, src *req, hdr http.Header) (putSource, bool) {
	if !src.owner {
		sci := s.containerInfo(rq, src.account, src.container)
		if !s.canRead(src, sci.read, false) {
			s.deny(rq)
			return putSource{}, false
		}
	}
	spl := s.place(s.cfg.ObjectRing, src.account, src.container, src.object)
	resp, st := s.readFirst(rq.r.Context(), spl, http.MethodGet, "", s.backendHeaders(rq))
	if resp == nil {
		rq.fail(st, "")
		return putSource{}, false
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		rq.fail(resp.StatusCode, "")
		return putSource{}, false
	}
	if !strings.EqualFold(rq.r.Header.Get("X-Fresh-Metadata"), "true") {
		for k, v := range resp.Header {
			if strings.HasPrefix(k, "X-Object-Meta-") {
				hdr[k] = v
			}
		}
		for _, k := range objectHeaders {
			if v := resp.Header.Get(k); v != "" {
				hdr.Set(k, v)
			}
		}
	}
	hdr.Set("Content-Type", resp.Header.Get("Content-Type"))
	return putSource{body: resp.Body, size: resp.ContentLength, lastModified: resp.Header.Get("Last-Modified"), closer: resp.Body.Close}, true
}
