package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"kumo/internal/objectstore/bodyhash"
	"kumo/internal/objectstore/ring"
)

// putSource is the body of an object PUT: the client's, or a copy source.
type putSource struct {
	body         io.Reader
	size         int64 // -1: chunked
	lastModified string
	closer       func() error
}

func (p putSource) close() {
	if p.closer != nil {
		_ = p.closer()
	}
}

// putConn is one storage node taking an object upload.
type putConn struct {
	dev ring.Device
	// cancel ends the request: closing the pipe alone cannot unblock a
	// socket write to a node that stopped reading.
	cancel context.CancelFunc
	body   *chunkPipe
	ready  chan struct{} // closed when the node answered 100 Continue
	done   chan struct{} // closed when its final response is in resp
	resp   backendResp
	once   sync.Once
	alive  bool
	// trailer is the request's trailer of a proxy-hashed upload, filled
	// in just before the body ends (nil otherwise).
	trailer http.Header
}

var errAbort = errors.New("upload aborted")

// stop abandons the upload to this node.
func (pc *putConn) stop(err error) {
	pc.body.CloseWithError(err)
	pc.cancel()
}

// connect starts a PUT with Expect: 100-continue; the body follows through
// a pipe once the node has agreed to take it. A hashed upload is sent
// chunked, its length in X-Backend-Obj-Content-Length, and ends with the
// trailers of the proxy's hashes (see bodySums).
func (s *Server) connect(ctx context.Context, d ring.Device, pl placement, hdr http.Header, size int64, hashed bool) *putConn {
	pipe := newChunkPipe()
	ctx, cancel := context.WithCancel(ctx)
	pc := &putConn{dev: d, cancel: cancel, body: pipe, ready: make(chan struct{}), done: make(chan struct{})}
	trace := &httptrace.ClientTrace{Got100Continue: func() { pc.once.Do(func() { close(pc.ready) }) }}
	var body io.Reader = pipe
	if size == 0 {
		body = http.NoBody
	}
	r, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPut, nodeURL(d, pl.path, ""), body)
	if err != nil {
		pc.resp = backendResp{err: err, dev: d}
		close(pc.done)
		return pc
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	r.ContentLength = size
	if hashed {
		if size >= 0 {
			r.Header.Set(bodyhash.HeaderObjLength, strconv.FormatInt(size, 10))
		}
		r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
		pc.trailer = http.Header{bodyhash.TrailerEtag: nil, bodyhash.TrailerCRC32C: nil}
		r.Trailer = pc.trailer
	}
	if size != 0 {
		r.Header.Set("Expect", "100-continue")
	} else {
		// Nothing to send: the node's answer is the whole exchange.
		pc.once.Do(func() { close(pc.ready) })
	}
	go func() {
		defer close(pc.done)
		defer cancel()
		resp, err := s.client.Do(r)
		if err != nil {
			pc.resp = backendResp{err: err, dev: d}
			pipe.CloseWithError(err)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		pc.resp = backendResp{status: resp.StatusCode, header: resp.Header, body: b, dev: d}
		pipe.CloseWithError(errAbort)
	}()
	return pc
}

// await waits for the node's go-ahead; false means it answered (or failed)
// instead.
func (s *Server) await(pc *putConn) bool {
	t := time.NewTimer(s.cfg.NodeTimeout)
	defer t.Stop()
	select {
	case <-pc.ready:
		return true
	case <-pc.done:
		return false
	case <-t.C:
		pc.stop(errAbort)
		<-pc.done
		if pc.resp.err == nil && pc.resp.status == 0 {
			pc.resp.err = errAbort
		}
		return false
	}
}

type putResult struct {
	status int
	msg    string
	etag   string
}

// streamPut uploads to every primary (a handoff for each that refuses with
// 507 or cannot be reached), streams the body to all at once while hashing
// it, and decides by quorum.
func (s *Server) streamPut(rq *req, pl placement, hdr http.Header, targets func(int, http.Header), p putSource) putResult {
	ctx, cancel := context.WithCancel(rq.r.Context())
	defer cancel()
	ho := newHandoffs(pl)
	defer ho.close()
	var sums *bodySums
	hashed := p.size < 0 || p.size >= bodyhash.LargeBody
	if hashed {
		sums = newBodySums(p.size)
		defer sums.release()
	}
	conns := make([]*putConn, len(pl.primaries))
	var wg sync.WaitGroup
	for i, d := range pl.primaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hdr.Clone()
			targets(i, h)
			pc := s.connect(ctx, d, pl, h, p.size, hashed)
			for tries := 0; ; tries++ {
				if s.await(pc) {
					pc.alive = true
					break
				}
				if !pc.resp.retryable() || tries >= len(pl.primaries) {
					break
				}
				hd, ok := ho.take()
				if !ok {
					break
				}
				pc = s.connect(ctx, hd, pl, h, p.size, hashed)
			}
			conns[i] = pc
		}()
	}
	wg.Wait()
	quorum := pl.quorum()
	live := 0
	for _, c := range conns {
		if c.alive {
			live++
		}
	}
	if live < quorum {
		res := s.finishPut(conns, quorum, true, nil)
		if res.status == http.StatusServiceUnavailable {
			s.logNoQuorum("too few nodes took the upload", conns)
		}
		return res
	}
	n, err := s.pump(conns, p, quorum, sums)
	if err != nil {
		st := putResult{status: 499}
		switch {
		case errors.Is(err, errTooLarge):
			st.status = http.StatusRequestEntityTooLarge
		case errors.Is(err, errNoQuorum):
			st.status = http.StatusServiceUnavailable
		}
		s.finishPut(conns, quorum, true, nil)
		if st.status == http.StatusServiceUnavailable {
			s.logNoQuorum("too few nodes took the whole body", conns)
		}
		return st
	}
	if p.size >= 0 && n != p.size {
		s.finishPut(conns, quorum, true, nil)
		return putResult{status: 499}
	}
	return s.finishPut(conns, quorum, false, sums)
}

var (
	errTooLarge = errors.New("object too large")
	errNoQuorum = errors.New("too few nodes left")
)

// pump copies the body to every live node. Each chunk goes to all nodes at
// once, so one node's slow write does not hold up the others, and the next
// chunk is read from the client while the nodes take the last one. A node
// that fails is dropped; fewer than quorum left ends the upload.
func (s *Server) pump(conns []*putConn, p putSource, quorum int, sums *bodySums) (int64, error) {
	pool := &pumpBufs
	if p.size >= 0 && p.size < bodyhash.LargeBody {
		pool = &smallPumpBufs
	}
	bufs := [2]*[]byte{pool.Get().(*[]byte), pool.Get().(*[]byte)}
	defer pool.Put(bufs[0])
	defer pool.Put(bufs[1])
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	// settle waits for the chunk in flight and drops the nodes it failed on.
	settle := func() int {
		wg.Wait()
		live := 0
		for i, c := range conns {
			if !c.alive {
				continue
			}
			if errs[i] != nil {
				c.alive, errs[i] = false, nil
				continue
			}
			live++
		}
		return live
	}
	var total int64
	for k := 0; ; k++ {
		buf := *bufs[k&1] // the other buffer may still be in flight
		n, rerr := fill(p.body, buf)
		if n > 0 {
			total += int64(n)
			if total > s.cfg.MaxFileSize {
				settle()
				return total, errTooLarge
			}
			if settle() < quorum {
				return total, errNoQuorum
			}
			for i, c := range conns {
				if !c.alive {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.writeChunk(c, buf[:n])
				}()
			}
			if sums != nil {
				// Chunks are hashed in order: settle waits for this one
				// before the next is handed out.
				wg.Add(1)
				go func() {
					defer wg.Done()
					sums.write(buf[:n])
				}()
			}
		}
		if rerr != nil {
			// A body the client cut short is the client's failure, even
			// when the nodes failed too: its gone request cancels theirs.
			live := settle()
			if rerr != io.EOF {
				return total, rerr
			}
			if live < quorum {
				return total, errNoQuorum
			}
			return total, nil
		}
	}
}

// fill reads into buf until it is full or the body ends or fails.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// pumpBufs hold 1 MiB upload buffers: a large object goes to the nodes in
// few, large writes (each one a hand-off per replica, and one write to
// each node's socket; Swift's proxy reads the client in 64 KiB chunks).
// They are aligned to 4 KiB, so that a node in this process can write a
// chunk to its disk with O_DIRECT straight from the buffer (objserver's
// copyLent). Bodies under bodyhash.LargeBody take the 64 KiB ones.
var (
	pumpBufs      = sync.Pool{New: func() any { b := alignedBuffer(1<<20, 4096); return &b }}
	smallPumpBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
)

var errNodeTimeout = errors.New("storage node stopped reading")

// writeChunk hands one chunk to a node, giving up after NodeTimeout: a node
// that stops reading must not hang the upload (Swift's node_timeout).
func (s *Server) writeChunk(c *putConn, b []byte) error {
	t := time.AfterFunc(s.cfg.NodeTimeout, func() { c.stop(errNodeTimeout) })
	_, err := c.body.Write(b)
	t.Stop()
	return err
}

// finishPut ends every upload (abort: make the nodes discard it) and
// collects the answers. sums are a hashed upload's (its trailers), nil
// for one the nodes hash.
func (s *Server) finishPut(conns []*putConn, quorum int, abort bool, sums *bodySums) putResult {
	resps := make([]backendResp, 0, len(conns))
	for _, c := range conns {
		if abort || !c.alive {
			c.stop(errAbort)
			continue
		}
		if c.trailer != nil {
			c.trailer.Set(bodyhash.TrailerEtag, sums.etag())
			c.trailer.Set(bodyhash.TrailerCRC32C, sums.crc())
		}
		c.body.Close()
	}
	for _, c := range conns {
		t := time.AfterFunc(s.cfg.NodeTimeout, func() { c.stop(errNodeTimeout) })
		<-c.done
		t.Stop()
		if c.resp.err == nil && c.resp.status == 0 {
			c.resp.err = errNodeTimeout
		}
		resps = append(resps, c.resp)
	}
	st, best := bestStatus(resps, quorum)
	if st == http.StatusServiceUnavailable && !abort {
		s.logNoQuorum("too few nodes stored the object", conns)
	}
	res := putResult{status: st}
	if st/100 == 2 && best != nil {
		res.etag = trimQuotes(best.header.Get("Etag"))
	}
	if st == http.StatusCreated {
		// Every replica hashed the same bytes: a different ETag means one
		// of them stored something else.
		for _, r := range resps {
			if r.err == nil && r.status == http.StatusCreated && trimQuotes(r.header.Get("Etag")) != res.etag {
				s.log.Error("object nodes stored different ETags", "etag", res.etag, "other", r.header.Get("Etag"), "device", r.dev.Name)
				res.status = http.StatusServiceUnavailable
				break
			}
		}
	}
	return res
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// logNoQuorum says what each node did with an upload that did not reach
// a quorum: the client only sees the 503.
func (s *Server) logNoQuorum(why string, conns []*putConn) {
	for _, c := range conns {
		s.log.Warn("object PUT without quorum: "+why, "node", c.dev.IP, "device", c.dev.Name,
			"took_body", c.alive, "status", c.resp.status, "err", c.resp.err)
	}
}

// alignedBuffer returns size bytes whose first is at a multiple of align.
func alignedBuffer(size, align int) []byte {
	b := make([]byte, size+align)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % uintptr(align)); r != 0 {
		off = align - r
	}
	return b[off : off+size : off+size]
}
