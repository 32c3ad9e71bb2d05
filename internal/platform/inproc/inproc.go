// Package inproc carries HTTP requests to servers in this process without
// a socket: Transport, an http.RoundTripper, hands a request addressed to
// one of its hosts to that host's handler, as net/http's server would have
// parsed it off the wire, and streams the handler's answer back as the
// response. Requests for any other host go to the next RoundTripper.
//
// What a handler sees is what the server would give it: the request URI,
// Host, Content-Length header or chunked encoding, a body that ends at its
// length (io.ErrUnexpectedEOF when it ends early), trailers once the body
// has been read, and its context cancelled when the client gives up. The
// client sees Expect: 100-continue answered when the handler first reads
// the body (httptrace's Got100Continue), a response as soon as the handler
// writes its header and first 4 KiB or flushes (the rest buffered up to
// 4 MiB ahead of the client, as socket buffers would), Content-Length and
// Content-Type filled in as net/http does for a short answer, and a panic
// in the handler as an error.
package inproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"runtime"
	"strconv"
	"sync"
)

// Transport serves requests for Hosts ("host:port", as in the request
// URL) with their handlers, and gives every other request to Next.
type Transport struct {
	Hosts map[string]http.Handler
	Next  http.RoundTripper
	// Log receives handler panics (default slog.Default()).
	Log *slog.Logger
}

// ErrHandlerPanicked is the error of a request whose handler panicked
// (or aborted with http.ErrAbortHandler) before or while answering.
var ErrHandlerPanicked = errors.New("inproc: handler panicked")

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.Hosts[req.URL.Host]
	if h == nil {
		return t.Next.RoundTrip(req)
	}
	in, err := serverRequest(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	pipe := newAnswerPipe()
	w := &responseWriter{header: http.Header{}, head: req.Method == http.MethodHead, pw: pipe, answer: make(chan answer, 1)}
	go t.serve(h, w, in, req)
	select {
	case a := <-w.answer:
		if a.err != nil {
			return nil, a.err
		}
		if a.resp.Body == nil {
			a.resp.Body = pipe
		}
		a.resp.Request = req
		return a.resp, nil
	case <-req.Context().Done():
		// The handler sees the same context; its writes fail from now.
		pipe.closeRead(req.Context().Err())
		return nil, req.Context().Err()
	}
}

// serve runs the handler, then finishes its answer and closes the
// client's body, as the client's transport would once the exchange is
// over.
func (t *Transport) serve(h http.Handler, w *responseWriter, in, req *http.Request) {
	defer func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}()
	defer func() {
		p := recover()
		if p == nil {
			w.finish()
			return
		}
		if p != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			log := t.Log
			if log == nil {
				log = slog.Default()
			}
			log.Error("inproc: handler panicked", "url", req.URL.String(), "panic", fmt.Sprint(p), "stack", string(buf))
		}
		w.abort()
	}()
	h.ServeHTTP(w, in)
}

// serverRequest is req as a server's handler would get it.
func serverRequest(req *http.Request) (*http.Request, error) {
	uri := req.URL.RequestURI()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	in := &http.Request{
		Method:     req.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     req.Header.Clone(),
		Host:       host,
		RemoteAddr: req.URL.Host, // a peer in this process
		RequestURI: uri,
	}
	if in.Header == nil {
		in.Header = http.Header{}
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	switch {
	case hasBody && req.ContentLength < 0:
		in.ContentLength, in.TransferEncoding = -1, []string{"chunked"}
	case hasBody && req.ContentLength > 0:
		in.ContentLength = req.ContentLength
		in.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	case req.Method == http.MethodPut || req.Method == http.MethodPost || req.Method == http.MethodPatch:
		in.Header.Set("Content-Length", "0") // as net/http's client sends it
		hasBody = false
	default:
		hasBody = false
	}
	if !hasBody {
		in.Body = http.NoBody
		return in.WithContext(req.Context()), nil
	}
	b := &body{rc: req.Body, left: in.ContentLength, from: req.Trailer}
	if len(req.Trailer) > 0 {
		// The handler gets its own map: the client fills its values in
		// while the body is still being sent.
		in.Trailer = make(http.Header, len(req.Trailer))
		for k := range req.Trailer {
			in.Trailer[k] = nil
		}
		b.to = in.Trailer
	}
	if req.Header.Get("Expect") == "100-continue" {
		if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.Got100Continue != nil {
			b.cont = tr.Got100Continue
		}
	}
	in.Body = b
	return in.WithContext(req.Context()), nil
}

// body is a handler's request body: the client's, ending at its length.
type body struct {
	rc   io.ReadCloser
	left int64 // bytes still to come; -1: chunked, until EOF
	cont func()
	once sync.Once
	from http.Header // the client's trailers
	to   http.Header // the handler's, filled in at EOF
	done bool
}

// start answers Expect: 100-continue, at the handler's first read.
func (b *body) start() {
	if b.cont != nil {
		b.once.Do(b.cont)
	}
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	b.start()
	if b.left >= 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	if len(p) == 0 && b.left == 0 {
		return 0, b.eof()
	}
	n, err := b.rc.Read(p)
	if b.left >= 0 {
		b.left -= int64(n)
		if b.left == 0 {
			return n, b.eof()
		}
	}
	if err == io.EOF {
		if b.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		return n, b.eof()
	}
	return n, err
}

// WriteTo lets io.Copy take the client's chunks as they are when its body
// can write itself out; the length is still enforced.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	wt, ok := b.rc.(io.WriterTo)
	if !ok || b.done {
		return io.Copy(w, readerOnly{b})
	}
	b.start()
	lw := &limitedWriter{w: w, left: b.left}
	n, err := wt.WriteTo(lw)
	if err == nil && b.left > 0 && n < b.left {
		err = io.ErrUnexpectedEOF
	}
	if b.left >= 0 {
		b.left -= n
	}
	if err == nil {
		b.eof()
	}
	return n, err
}

// eof ends the body and hands the handler the client's trailers.
func (b *body) eof() error {
	if !b.done {
		b.done = true
		for k := range b.to {
			b.to[k] = b.from[k]
		}
	}
	return io.EOF
}

// Close is the handler's: the transport closes the client's body once the
// handler returns.
func (b *body) Close() error { return nil }

type readerOnly struct{ io.Reader }

var errBodyTooLong = errors.New("inproc: request body longer than its Content-Length")

// limitedWriter fails a body that goes on past its length.
type limitedWriter struct {
	w    io.Writer
	left int64 // -1: no limit
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.left >= 0 {
		if int64(len(p)) > l.left {
			return 0, errBodyTooLong
		}
		l.left -= int64(len(p))
	}
	return l.w.Write(p)
}

// answer is what RoundTrip waits for: the response's start, or why none.
type answer struct {
	resp *http.Response
	err  error
}

// bufferSize is how much of a body is held back before the response
// starts, as net/http's server buffers the first 4 KiB: an answer that
// fits gets its Content-Length (and no pipe).
const bufferSize = 4 << 10

// responseWriter is the handler's side of the response.
type responseWriter struct {
	header  http.Header
	head    bool
	status  int
	sent    http.Header // the header as it was at WriteHeader
	length  int64       // its Content-Length, -1: none
	written int64       // body bytes taken
	buf     []byte
	started bool // the response went to RoundTrip; writes go to pw
	pw      *answerPipe
	answer  chan answer
	err     error // a failed write: the client has gone
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		return // informational answers are not relayed
	}
	w.status = code
	w.sent = w.header.Clone()
	w.length = -1
	if v := w.sent.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.length = n
		}
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.err != nil {
		return 0, w.err
	}
	if w.head || !bodyAllowed(w.status) {
		return len(p), nil
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if !w.started {
		if len(w.buf)+len(p) <= bufferSize {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.start(-1)
		if err := w.flushBuf(); err != nil {
			return 0, err
		}
	}
	n, err := w.pw.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush starts the response and sends what is buffered.
func (w *responseWriter) Flush() {
	w.WriteHeader(http.StatusOK)
	if !w.started {
		w.start(-1)
	}
	_ = w.flushBuf()
}

func (w *responseWriter) flushBuf() error {
	if len(w.buf) == 0 || w.err != nil {
		return w.err
	}
	_, err := w.pw.Write(w.buf)
	w.buf = nil
	if err != nil {
		w.err = err
	}
	return err
}

// start hands RoundTrip the response, its body the pipe (or body, when
// the handler has finished: length is then its whole size).
func (w *responseWriter) start(length int64) {
	h := w.sent
	if h == nil {
		h = http.Header{}
	}
	if _, ok := h["Content-Type"]; !ok && len(w.buf) > 0 && h.Get("Content-Encoding") == "" {
		h.Set("Content-Type", http.DetectContentType(w.buf))
	}
	cl := w.length
	if cl < 0 && length >= 0 && !w.head && bodyAllowed(w.status) {
		cl = length
		h.Set("Content-Length", strconv.FormatInt(length, 10))
	}
	resp := &http.Response{
		Status:     strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode: w.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        h,
		ContentLength: cl,
	}
	switch {
	case w.head || !bodyAllowed(w.status):
		resp.Body = http.NoBody
		if w.head {
			break
		}
		resp.ContentLength = 0
	case length == 0:
		resp.Body = http.NoBody
	case length > 0:
		resp.Body = io.NopCloser(bytes.NewReader(w.buf))
	}
	w.started = true
	w.answer <- answer{resp: resp}
}

// finish ends a handler that returned normally. A body shorter than its
// Content-Length ends in io.ErrUnexpectedEOF, as the client of a server
// that closed the connection would see it.
func (w *responseWriter) finish() {
	w.WriteHeader(http.StatusOK)
	short := w.length >= 0 && w.written < w.length && !w.head && bodyAllowed(w.status)
	if !w.started && !short {
		w.start(int64(len(w.buf)))
		w.pw.closeWrite(nil)
		return
	}
	if !w.started {
		w.start(-1)
	}
	if err := w.flushBuf(); err != nil {
		return
	}
	if short {
		w.pw.closeWrite(io.ErrUnexpectedEOF)
		return
	}
	w.pw.closeWrite(nil)
}

// abort ends a handler that panicked: no response, or a broken body.
func (w *responseWriter) abort() {
	if !w.started {
		w.started = true
		w.answer <- answer{err: ErrHandlerPanicked}
	}
	w.pw.closeWrite(ErrHandlerPanicked)
}

// bodyAllowed is net/http's: 1xx, 204 and 304 answers have no body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
