package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kumo/internal/objectstore/ring"
)

// readResuming is readFirst for an object GET whose body, when the node
// serving it fails part way, continues from another replica (Swift's
// GETorHEADHandler): the rest is asked for with a Range from where the
// first node stopped and If-Match on its ETag, and taken only from the same
// object version. Only when no replica can continue is the client's body
// cut short.
func (s *Server) readResuming(ctx context.Context, pl placement, hdr http.Header) (*http.Response, int) {
	resp, st, d := s.readFrom(ctx, pl, http.MethodGet, "", hdr, nil)
	if resp == nil {
		return nil, st
	}
	if rs := newResumer(s, ctx, pl, hdr, resp, d); rs != nil {
		resp.Body = rs
	}
	return resp, st
}

// resumer is a backend object body that resumes on another replica.
type resumer struct {
	s         *Server
	ctx       context.Context
	pl        placement
	hdr       http.Header
	body      io.ReadCloser
	etag, ts  string
	next, end int64 // absolute offsets still owed: next..end inclusive
	tried     map[int]bool
}

// newResumer wraps a 200 or single-range 206 body with a known length;
// nil when the response cannot be resumed (multipart/byteranges, chunked,
// no ETag or timestamp to pin the version).
func newResumer(s *Server, ctx context.Context, pl placement, hdr http.Header, resp *http.Response, d ring.Device) *resumer {
	if resp.ContentLength <= 0 {
		return nil
	}
	rs := &resumer{s: s, ctx: ctx, pl: pl, hdr: hdr, body: resp.Body,
		etag: trimQuotes(resp.Header.Get("Etag")), ts: resp.Header.Get("X-Backend-Timestamp"),
		tried: map[int]bool{d.ID: true}}
	if rs.etag == "" || rs.ts == "" {
		return nil
	}
	switch resp.StatusCode {
	case http.StatusOK:
		rs.next, rs.end = 0, resp.ContentLength-1
	case http.StatusPartialContent:
		a, b, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || b-a+1 != resp.ContentLength {
			return nil // a multipart/byteranges body has no single Content-Range
		}
		rs.next, rs.end = a, b
	default:
		return nil
	}
	return rs
}

// parseContentRange reads "bytes a-b/total".
func parseContentRange(v string) (int64, int64, bool) {
	v, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, false
	}
	v, _, _ = strings.Cut(v, "/")
	as, bs, ok := strings.Cut(v, "-")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(as, 10, 64)
	b, err2 := strconv.ParseInt(bs, 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < a {
		return 0, 0, false
	}
	return a, b, true
}

func (rs *resumer) Read(p []byte) (int, error) {
	for {
		n, err := rs.body.Read(p)
		rs.next += int64(n)
		if err == nil || rs.next > rs.end {
			if rs.next > rs.end+1 {
				return n, fmt.Errorf("storage node sent %d bytes past the range", rs.next-rs.end-1)
			}
			return n, err
		}
		if rs.ctx.Err() != nil {
			return n, err // the client went away: nothing to resume for
		}
		// The node failed (or ended early) with bytes still owed.
		rs.s.log.Warn("object read failed mid-body; resuming on another replica",
			"path", rs.pl.path, "offset", rs.next, "err", err)
		if !rs.resume() {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the body with the rest from another node; false when no
// node holds the same version.
func (rs *resumer) resume() bool {
	_ = rs.body.Close()
	hdr := rs.hdr.Clone()
	for _, k := range []string{"If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		hdr.Del(k)
	}
	hdr.Set("Range", "bytes="+strconv.FormatInt(rs.next, 10)+"-"+strconv.FormatInt(rs.end, 10))
	hdr.Set("If-Match", `"`+rs.etag+`"`)
	// Each node is asked at most once per body: bounded by the ring.
	for range 2 * len(rs.pl.primaries) {
		resp, _, d := rs.s.readFrom(rs.ctx, rs.pl, http.MethodGet, "", hdr, func(d ring.Device) bool { return rs.tried[d.ID] })
		if resp == nil {
			return false
		}
		rs.tried[d.ID] = true
		a, b, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if resp.StatusCode == http.StatusPartialContent && ok && a == rs.next && b == rs.end &&
			trimQuotes(resp.Header.Get("Etag")) == rs.etag && resp.Header.Get("X-Backend-Timestamp") == rs.ts {
			rs.body = resp.Body
			return true
		}
		// Another version (412) or an answer that does not fit: splicing
		// it on would serve bytes of two objects.
		resp.Body.Close()
	}
	return false
}

func (rs *resumer) Close() error { return rs.body.Close() }
