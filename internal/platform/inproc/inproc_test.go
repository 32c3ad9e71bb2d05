package inproc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// client sends requests for "node:1" to h in process, others to next.
func client(h http.Handler, next http.RoundTripper) *http.Client {
	return &http.Client{Transport: &Transport{Hosts: map[string]http.Handler{"node:1": h}, Next: next, Log: quiet()}}
}

// A body-less request reaches the handler as a server would parse it, and
// a short answer comes back with its length and sniffed type.
func TestShortAnswer(t *testing.T) {
	var got *http.Request
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("X-Answer", "1")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "<html>hi</html>")
	}), nil)
	resp, err := c.Get("http://node:1/sda/0/a%20b/c?format=json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(b) != "<html>hi</html>" || resp.ContentLength != 15 ||
		resp.Header.Get("Content-Length") != "15" || resp.Header.Get("X-Answer") != "1" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("answer %d %q %d %v", resp.StatusCode, b, resp.ContentLength, resp.Header)
	}
	if got.RequestURI != "/sda/0/a%20b/c?format=json" || got.URL.Path != "/sda/0/a b/c" || got.URL.RawQuery != "format=json" ||
		got.Host != "node:1" || got.URL.Host != "" || got.ContentLength != 0 || got.Body != http.NoBody || got.Header.Get("Content-Length") != "" {
		t.Fatalf("request %+v", got)
	}
}

// A PUT with Expect: 100-continue is answered 100 only when the handler
// reads; a handler that refuses first never reads, and the client's body
// is closed either way.
func TestExpectContinue(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		var cl, body string
		c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cl = r.Header.Get("Content-Length")
			if refuse {
				w.WriteHeader(http.StatusInsufficientStorage)
				return
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Error(err)
			}
			body = string(b)
			w.WriteHeader(http.StatusCreated)
		}), nil)
		var continued atomic.Bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got100Continue: func() { continued.Store(true) }})
		pr, pw := io.Pipe()
		req, _ := http.NewRequestWithContext(ctx, "PUT", "http://node:1/sda/0/a/c/o", pr)
		req.ContentLength = 5
		req.Header.Set("Expect", "100-continue")
		go pw.Write([]byte("hello"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if refuse {
			if resp.StatusCode != 507 || continued.Load() {
				t.Fatalf("refused: %d, 100 sent %v", resp.StatusCode, continued.Load())
			}
		} else if resp.StatusCode != 201 || !continued.Load() || body != "hello" {
			t.Fatalf("taken: %d, 100 sent %v, body %q", resp.StatusCode, continued.Load(), body)
		}
		if cl != "5" {
			t.Fatalf("Content-Length header %q", cl)
		}
		// The transport closed the client's body: a write now fails.
		deadline := time.Now().Add(2 * time.Second)
		for {
			if _, err := pw.Write([]byte("x")); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("client body never closed")
			}
		}
	}
}

// writerToBody is a client body that writes itself out, as the proxy's
// upload pipe does.
type writerToBody struct {
	chunks  [][]byte
	usedWTo bool
}

func (b *writerToBody) Read(p []byte) (int, error) {
	if len(b.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.chunks[0])
	b.chunks[0] = b.chunks[0][n:]
	if len(b.chunks[0]) == 0 {
		b.chunks = b.chunks[1:]
	}
	return n, nil
}

func (b *writerToBody) WriteTo(w io.Writer) (int64, error) {
	b.usedWTo = true
	var n int64
	for _, c := range b.chunks {
		m, err := w.Write(c)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	b.chunks = nil
	return n, nil
}

func (b *writerToBody) Close() error { return nil }

// A chunked upload reaches the handler as chunked, its trailers filled in
// only once the body has been read, and through the body's WriteTo.
func TestChunkedUploadWithTrailers(t *testing.T) {
	var before, after, te string
	var cl int64
	var body bytes.Buffer
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before = r.Trailer.Get("X-Sum") + "|" + strings.Join(keys(r.Trailer), ",")
		if _, err := io.Copy(&body, r.Body); err != nil {
			t.Error(err)
		}
		after = r.Trailer.Get("X-Sum")
		te, cl = strings.Join(r.TransferEncoding, ","), r.ContentLength
		w.WriteHeader(http.StatusCreated)
	}), nil)
	src := &writerToBody{chunks: [][]byte{[]byte("abc"), []byte("def")}}
	req, _ := http.NewRequest("PUT", "http://node:1/sda/0/a/c/o", src)
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Sum": nil}
	// The client sets its trailer before the body ends.
	req.Trailer.Set("X-Sum", "42")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if before != "|X-Sum" || after != "42" || te != "chunked" || cl != -1 || body.String() != "abcdef" || !src.usedWTo {
		t.Fatalf("before %q after %q te %q cl %d body %q writeTo %v", before, after, te, cl, body.String(), src.usedWTo)
	}
}

func keys(h http.Header) []string {
	var k []string
	for n := range h {
		k = append(k, n)
	}
	return k
}

// A body that ends before its Content-Length fails the handler's read; one
// that goes on past it is cut at it.
func TestBodyLength(t *testing.T) {
	var readErr error
	var got string
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		got, readErr = string(b), err
	}), nil)
	for _, tc := range []struct {
		body   string
		length int64
		want   string
		err    error
	}{
		{"abc", 5, "abc", io.ErrUnexpectedEOF},
		{"abcdef", 4, "abcd", nil},
	} {
		req, _ := http.NewRequest("PUT", "http://node:1/x", io.NopCloser(strings.NewReader(tc.body)))
		req.ContentLength = tc.length
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got != tc.want || !errors.Is(readErr, tc.err) {
			t.Fatalf("%q with length %d: read %q, %v", tc.body, tc.length, got, readErr)
		}
	}
}

// A long answer streams: the client has the response while the handler is
// still writing, and reads the body as it comes.
func TestStreamingAnswer(t *testing.T) {
	release := make(chan struct{})
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000")
		w.Write(bytes.Repeat([]byte("a"), 5000))
		<-release
		w.Write(bytes.Repeat([]byte("b"), 5000))
	}), nil)
	resp, err := c.Get("http://node:1/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 5000)
	if _, err := io.ReadFull(resp.Body, first); err != nil || resp.ContentLength != 10000 {
		t.Fatal(err, resp.ContentLength)
	}
	close(release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || len(rest) != 5000 || rest[0] != 'b' {
		t.Fatalf("rest %d bytes, %v", len(rest), err)
	}
}

// A handler that stops short of its Content-Length gives the client
// io.ErrUnexpectedEOF, as a server closing the connection would.
func TestShortBodyIsAnError(t *testing.T) {
	for _, n := range []int{10, 6000} {
		c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10000")
			w.Write(bytes.Repeat([]byte("a"), n))
		}), nil)
		resp, err := c.Get("http://node:1/big")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != n || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("wrote %d: read %d, %v", n, len(b), err)
		}
	}
}

// HEAD, 204 and 304 answers have no body.
func TestNoBodyAnswers(t *testing.T) {
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		if r.URL.Path == "/304" {
			w.WriteHeader(http.StatusNotModified)
		}
		w.Write([]byte("abc"))
	}), nil)
	for _, tc := range []struct {
		method, path string
		status       int
		length       int64
	}{{"HEAD", "/x", 200, 3}, {"GET", "/304", 304, 0}} {
		req, _ := http.NewRequest(tc.method, "http://node:1"+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || len(b) != 0 || resp.ContentLength != tc.length {
			t.Fatalf("%s %s: %d, %d bytes, length %d", tc.method, tc.path, resp.StatusCode, len(b), resp.ContentLength)
		}
	}
}

// A panic is an error for the client: before the answer from RoundTrip,
// after it from the body.
func TestPanics(t *testing.T) {
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/late" {
			w.Write(bytes.Repeat([]byte("a"), 8000))
			panic(http.ErrAbortHandler)
		}
		panic("boom")
	}), nil)
	if _, err := c.Get("http://node:1/early"); !errors.Is(err, ErrHandlerPanicked) {
		t.Fatalf("early panic: %v", err)
	}
	resp, err := c.Get("http://node:1/late")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrHandlerPanicked) {
		t.Fatalf("late panic: %v", err)
	}
}

// A client that gives up before the answer gets its context's error, and
// the handler sees its context cancelled.
func TestClientGivesUp(t *testing.T) {
	cancelled := make(chan struct{})
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(cancelled)
	}), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://node:1/slow", nil)
	if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("handler's context not cancelled")
	}
}

// Other hosts go to the next transport, over a socket.
func TestOtherHostsGoToNext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "remote") }))
	defer srv.Close()
	c := client(http.NotFoundHandler(), http.DefaultTransport)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "remote" {
		t.Fatalf("got %q", b)
	}
}

// sizeRecorder keeps the size of each write.
type sizeRecorder struct{ sizes []int }

func (s *sizeRecorder) Write(p []byte) (int, error) {
	s.sizes = append(s.sizes, len(p))
	return len(p), nil
}

// A handler may run up to 4 MiB ahead of its client, no further; the
// client's io.Copy gets each of the handler's writes whole; a client that
// closes the body fails the handler's next write.
func TestAnswerIsBufferedAndBounded(t *testing.T) {
	wrote := make(chan int, 16)
	writeErr := make(chan error, 1)
	piece := bytes.Repeat([]byte("x"), 1<<20)
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 6
		if r.URL.Path == "/close" {
			n = 100
		}
		w.Header().Set("Content-Length", strconv.Itoa(n<<20))
		for i := range n {
			if _, err := w.Write(piece); err != nil {
				writeErr <- err
				return
			}
			wrote <- i + 1
		}
	}), nil)
	resp, err := c.Get("http://node:1/big")
	if err != nil {
		t.Fatal(err)
	}
	// Nothing read yet: four pieces go into the buffer, the fifth waits.
	for want := 1; want <= 4; want++ {
		select {
		case n := <-wrote:
			if n != want {
				t.Fatalf("wrote piece %d, want %d", n, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("handler blocked at piece %d with nothing read", want)
		}
	}
	select {
	case n := <-wrote:
		t.Fatalf("handler wrote piece %d: more than 4 MiB ahead", n)
	case <-time.After(100 * time.Millisecond):
	}
	rec := &sizeRecorder{}
	if _, err := io.Copy(rec, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.sizes) != 6 || rec.sizes[0] != 1<<20 || rec.sizes[5] != 1<<20 {
		t.Fatalf("client wrote %v", rec.sizes)
	}

	resp, err = c.Get("http://node:1/close")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-writeErr:
		if !errors.Is(err, ErrClientGone) {
			t.Fatalf("handler's write after the client left: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler still writing after the client closed the body")
	}
}

// A write larger than a pooled buffer (a whole listing) is handed over
// without a copy: the handler's Write returns once the client has read it.
func TestLargeWriteIsHandedOver(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	returned := make(chan struct{})
	c := client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		close(returned)
	}), nil)
	resp, err := c.Get("http://node:1/listing")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	select {
	case <-returned:
		t.Fatal("the handler's write returned before the client read anything")
	case <-time.After(50 * time.Millisecond):
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's write did not return after the client read it")
	}
}
