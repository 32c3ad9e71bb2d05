package inproc

import (
	"errors"
	"io"
	"sync"
)

// answerPipe carries a handler's body to the client. Unlike io.Pipe it
// buffers: Write copies into up to pipeLimit bytes and returns, so the
// handler reads its next piece (from disk, say) while the client still
// sends the last one, as a socket's buffers let a server do. A write
// larger than a pooled buffer (a whole listing) is not copied: it is
// handed over as it is and Write returns once the client has taken it.
// WriteTo hands each piece to its writer whole.
type answerPipe struct {
	mu      sync.Mutex
	changed sync.Cond
	chunks  []chunk
	size    int    // bytes buffered
	added   uint64 // chunks ever queued
	removed uint64 // chunks ever taken whole
	werr    error  // the writer's end: io.EOF, or why it failed
	rerr    error  // the reader's end: why the reader stopped
}

// pipeLimit is how far a handler may run ahead of its client.
const pipeLimit = 4 << 20

type chunk struct {
	data []byte
	buf  *[]byte // pooled backing array, or nil
}

// Writes of 64 KiB to 1 MiB are copied into pooled 1 MiB buffers, smaller
// ones into their own.
var pipeBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

func newAnswerPipe() *answerPipe {
	p := &answerPipe{}
	p.changed.L = &p.mu
	return p
}

// ErrClientGone is what a handler's write returns once the client has
// closed the response body.
var ErrClientGone = errors.New("inproc: client closed the response body")

func (p *answerPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.size >= pipeLimit && p.rerr == nil {
		p.changed.Wait()
	}
	if p.rerr != nil {
		return 0, p.rerr
	}
	if p.werr != nil {
		return 0, io.ErrClosedPipe
	}
	if len(b) > 1<<20 {
		p.chunks = append(p.chunks, chunk{data: b})
		p.size += len(b)
		p.added++
		mine := p.added
		p.changed.Broadcast()
		for p.removed < mine && p.rerr == nil {
			p.changed.Wait()
		}
		if p.removed < mine {
			return 0, p.rerr
		}
		return len(b), nil
	}
	c := chunk{}
	if len(b) >= 64<<10 {
		c.buf = pipeBufs.Get().(*[]byte)
		c.data = (*c.buf)[:copy(*c.buf, b)]
	} else {
		c.data = append([]byte(nil), b...)
	}
	p.chunks = append(p.chunks, c)
	p.size += len(b)
	p.added++
	p.changed.Broadcast()
	return len(b), nil
}

// closeWrite ends the body: the reader gets err (nil: io.EOF) after what
// is buffered.
func (p *answerPipe) closeWrite(err error) {
	if err == nil {
		err = io.EOF
	}
	p.mu.Lock()
	if p.werr == nil {
		p.werr = err
	}
	p.changed.Broadcast()
	p.mu.Unlock()
}

// next waits for the first chunk, or the error that ends the body.
func (p *answerPipe) next() (chunk, error) {
	for len(p.chunks) == 0 && p.werr == nil && p.rerr == nil {
		p.changed.Wait()
	}
	if p.rerr != nil {
		return chunk{}, p.rerr
	}
	if len(p.chunks) == 0 {
		return chunk{}, p.werr
	}
	return p.chunks[0], nil
}

// taken drops n bytes of the first chunk, and the chunk once empty.
func (p *answerPipe) taken(n int) {
	if len(p.chunks) == 0 {
		return // closed meanwhile
	}
	c := &p.chunks[0]
	c.data = c.data[n:]
	p.size -= n
	if len(c.data) == 0 {
		if c.buf != nil {
			pipeBufs.Put(c.buf)
		}
		p.chunks[0] = chunk{}
		p.chunks = p.chunks[1:]
		p.removed++
	}
	p.changed.Broadcast()
}

func (p *answerPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.next()
	if err != nil {
		return 0, err
	}
	n := copy(b, c.data)
	p.taken(n)
	return n, nil
}

// WriteTo writes each buffered piece to w as it comes.
func (p *answerPipe) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		p.mu.Lock()
		c, err := p.next()
		p.mu.Unlock()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		// Only this reader takes chunks: c stays valid until taken.
		n, err := w.Write(c.data)
		total += int64(n)
		p.mu.Lock()
		p.taken(len(c.data))
		p.mu.Unlock()
		if err == nil && n < len(c.data) {
			err = io.ErrShortWrite
		}
		if err != nil {
			p.closeRead(err)
			return total, err
		}
	}
}

// closeRead stops the reader: the handler's writes fail from now, and
// what is buffered is dropped (not pooled: a WriteTo may still be writing
// from it).
func (p *answerPipe) closeRead(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rerr == nil {
		p.rerr = err
	}
	p.chunks, p.size = nil, 0
	p.changed.Broadcast()
}

// Close is the client's: it is done with the body.
func (p *answerPipe) Close() error {
	p.closeRead(ErrClientGone)
	return nil
}
