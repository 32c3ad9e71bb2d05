package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"

	"kumo/internal/platform/authn"
)

// subKey marks a request the proxy made to itself on behalf of a client
// request (Swift's pre-authorized subrequests of a middleware): it carries
// the caller's identity instead of a token to validate again.
type subKey struct{}

type subAuth struct {
	token *authn.Token
	owner bool
	// noVersions: the request restores or archives a version, which must
	// not itself be versioned (it runs "below" versioned writes in Swift).
	noVersions bool
}

// subAuthOf returns the identity a subrequest carries, if r is one.
func subAuthOf(r *http.Request) (*subAuth, bool) {
	a, ok := r.Context().Value(subKey{}).(*subAuth)
	return a, ok
}

// subResponse records a subrequest's answer; bodies are kept whole, so
// only small answers (listings, empty bodies) go through it.
type subResponse struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (s *subResponse) Header() http.Header { return s.header }
func (s *subResponse) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
func (s *subResponse) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.body.Write(b)
}

// subrequest runs method on the escaped path (/v1/...) through the proxy
// itself as rq's caller.
func (s *Server) subrequest(ctx context.Context, rq *req, method, escPath, rawQuery string, hdr http.Header, body []byte, noVersions bool) *subResponse {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return s.subrequestStream(ctx, rq, method, escPath, rawQuery, hdr, rd, int64(len(body)), noVersions)
}

// subrequestStream is subrequest with a streamed body of size bytes, or
// chunked when size < 0.
func (s *Server) subrequestStream(ctx context.Context, rq *req, method, escPath, rawQuery string, hdr http.Header, rd io.Reader, size int64, noVersions bool) *subResponse {
	ctx = context.WithValue(ctx, subKey{}, &subAuth{token: rq.token, owner: rq.owner, noVersions: noVersions})
	u := escPath
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	r, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &subResponse{status: http.StatusInternalServerError, header: http.Header{}}
	}
	if hdr != nil {
		r.Header = hdr
	}
	r.ContentLength = size
	switch {
	case size < 0:
		r.TransferEncoding = []string{"chunked"}
		r.Header.Del("Content-Length")
	case method == http.MethodPut:
		r.Header.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	if ref := rq.r.Header.Get("Referer"); ref != "" {
		r.Header.Set("Referer", ref) // referrer ACLs judge the subrequest too
	}
	r.RemoteAddr = rq.r.RemoteAddr
	w := &subResponse{header: http.Header{}}
	s.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w
}
