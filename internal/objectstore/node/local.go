package node

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// localTransport hands the object server's body-less requests for this
// node's own container server (its container updates: one per replica of
// every PUT and DELETE) straight to that server's handler, without a
// loopback TCP connection and two HTTP codecs in between. Requests for
// other hosts, and any request with a body, go to next. Both servers run
// in this process, so the handler sees the same request it would have
// parsed off the wire.
type localTransport struct {
	local   map[string]bool // the container server's "ip:port" names
	handler http.Handler
	next    http.RoundTripper
}

func (t localTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.local[req.URL.Host] || (req.Body != nil && req.Body != http.NoBody) {
		return t.next.RoundTrip(req)
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.Host = req.URL.Host
	in.RemoteAddr = req.URL.Host // a peer on this node
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/1.1", 1, 1
	in.Body = http.NoBody
	rec := &recorder{header: http.Header{}}
	t.handler.ServeHTTP(rec, in)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	return &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// recorder keeps a handler's whole answer; container server answers to
// updates are a status line and a few headers.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
