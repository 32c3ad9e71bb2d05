package proxy

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Dynamic large objects (Swift's dlo middleware): a manifest object with
// X-Object-Manifest: <container>/<prefix> reads as the concatenation of
// every object in <container> whose name starts with <prefix>, in listing
// order. The segments are plain objects, uploaded and listed as usual.

// maxDLOSegments bounds one manifest's listing (Swift's
// max_get_time-driven limit is looser; ten listing pages is plenty here).
const maxDLOSegments = 10 * listingLimit

// checkManifest validates X-Object-Manifest as Swift does.
func checkManifest(v string) (string, bool) {
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", false
	}
	c, _, ok := strings.Cut(strings.TrimPrefix(u, "/"), "/")
	if !ok || c == "" {
		return "", false
	}
	return v, true
}

type segment struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
	Hash  string `json:"hash"`
}

// dloSegments lists the manifest's segments through the container ring.
func (s *Server) dloSegments(rq *req, container, prefix string) ([]segment, int) {
	var out []segment
	pl := s.place(s.cfg.ContainerRing, rq.account, container, "")
	marker := ""
	for len(out) < maxDLOSegments {
		q := url.Values{"format": {"json"}, "prefix": {prefix}, "marker": {marker}}
		resp, st := s.readFirst(rq.r.Context(), pl, http.MethodGet, q.Encode(), s.backendHeaders(rq))
		if resp == nil {
			return nil, st
		}
		var page []segment
		err := json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			break
		}
		if err != nil {
			return nil, http.StatusServiceUnavailable
		}
		out = append(out, page...)
		if len(page) < listingLimit {
			break
		}
		marker = page[len(page)-1].Name
	}
	return out, http.StatusOK
}

// serveDLO answers a GET/HEAD of a manifest whose node response is resp.
// Ranges are not applied: the whole concatenation is sent, as Swift does
// for the requests its dlo cannot range.
func (s *Server) serveDLO(rq *req, resp *http.Response, manifest string) {
	resp.Body.Close()
	m, _ := url.PathUnescape(manifest)
	container, prefix, _ := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	if !rq.owner {
		ci := s.containerInfo(rq, rq.account, container)
		if !s.canRead(rq, ci.read, true) {
			s.deny(rq)
			return
		}
	}
	segs, st := s.dloSegments(rq, container, prefix)
	if st != http.StatusOK {
		rq.fail(st, "")
		return
	}
	sum := md5.New()
	var size int64
	for _, sg := range segs {
		sum.Write([]byte(sg.Hash))
		size += sg.Bytes
	}
	h := rq.w.Header()
	copyBackendHeaders(h, resp.Header)
	h.Set("Etag", `"`+hex.EncodeToString(sum.Sum(nil))+`"`)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Accept-Ranges", "bytes")
	h.Del("Content-Range")
	if h.Get("Last-Modified") == "" {
		h.Set("Last-Modified", lastModified(h.Get("X-Timestamp")))
	}
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method == http.MethodHead {
		return
	}
	for _, sg := range segs {
		if sg.Bytes == 0 {
			continue // nothing to send; the manifest itself is one of these
		}
		pl := s.place(s.cfg.ObjectRing, rq.account, container, sg.Name)
		sresp, st := s.readResuming(rq.r.Context(), pl, s.backendHeaders(rq))
		if sresp == nil || st != http.StatusOK {
			if sresp != nil {
				sresp.Body.Close()
			}
			// The status is gone; a short body tells the client.
			s.log.Warn("DLO segment unreadable", "segment", container+"/"+sg.Name, "status", st)
			return
		}
		_, err := io.Copy(rq.w, sresp.Body)
		sresp.Body.Close()
		if err != nil {
			return
		}
	}
}
