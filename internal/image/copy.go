package image

import (
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// The upload pipeline's buffers: copyBuffers chunks of copyChunk bytes per
// stream (16 MiB). Large chunks keep the per-chunk hand-offs rare and the
// file writes large; several of them let the socket reads run ahead of the
// slowest stage (MD5 or SHA-512, each ~750 MB/s on one core here).
const (
	copyChunk   = 4 << 20
	copyBuffers = 4
)

// chunk is one filled buffer on its way through the stages; the last
// stage done with it gives it back.
type chunk struct {
	buf  []byte // the whole buffer
	n    int    // bytes filled
	left atomic.Int32
}

// hashCopy copies r to w while computing two hashes (a nil one is
// skipped). Each hash and the writer is its own goroutine, fed the same
// buffers in order (no copies), so MD5, SHA-512, the file writes and the
// socket reads all overlap: the stream goes at the pace of its slowest
// stage, not of their sum. It returns the bytes read and written; a read
// or write error stops it (only io.EOF ends the stream).
func hashCopy(w io.Writer, h1, h2 hash.Hash, r io.Reader) (int64, error) {
	free := make(chan *chunk, copyBuffers)
	for range copyBuffers {
		free <- &chunk{buf: make([]byte, copyChunk)}
	}
	var stages []chan *chunk
	var wg sync.WaitGroup
	var written atomic.Int64
	var werr atomic.Pointer[error]
	stage := func(do func(p []byte)) {
		ch := make(chan *chunk, copyBuffers)
		stages = append(stages, ch)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				do(c.buf[:c.n])
				if c.left.Add(-1) == 0 {
					free <- c
				}
			}
		}()
	}
	for _, h := range [2]hash.Hash{h1, h2} {
		if h != nil {
			stage(func(p []byte) { h.Write(p) })
		}
	}
	stage(func(p []byte) {
		if werr.Load() != nil {
			return // drain: a failed write stops the stream
		}
		n, err := w.Write(p)
		written.Add(int64(n))
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
		if err != nil {
			werr.Store(&err)
		}
	})
	var rerr error
	for werr.Load() == nil {
		c := <-free
		c.n, rerr = fill(r, c.buf)
		if c.n > 0 {
			c.left.Store(int32(len(stages)))
			for _, ch := range stages {
				ch <- c
			}
		}
		if rerr != nil {
			break
		}
	}
	for _, ch := range stages {
		close(ch)
	}
	wg.Wait()
	if p := werr.Load(); p != nil {
		return written.Load(), *p
	}
	if rerr == io.EOF {
		rerr = nil
	}
	return written.Load(), rerr
}

// fill reads into p until it is full or r fails; unlike io.ReadFull, only
// io.EOF means the end (a truncated HTTP body is io.ErrUnexpectedEOF and
// must stay an error).
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
