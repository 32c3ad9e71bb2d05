package proxy

import (
	"errors"
	"io"
	"sync"
)

// chunkPipe carries an upload's chunks from pump to one node's HTTP
// request, as io.Pipe does, but hands each chunk over whole. Through
// io.Pipe the transport copies a body in 32 KiB pieces, and each piece of
// a chunked body costs it a chunk header, a flush and two or three writes
// to the socket; through WriteTo each 1 MiB chunk goes in one write.
//
// Write blocks until the chunk is written (or has failed), so the caller
// may reuse its buffer; CloseWithError makes every later Write, Read and
// WriteTo fail, and Close ends the body (EOF).
type chunkPipe struct {
	ch     chan []byte
	ack    chan error
	closed chan struct{}
	once   sync.Once
	err    error  // why closed; set before closed is
	buf    []byte // Read's copy of the current chunk
	cur    []byte // what Read has left of it
}

var errClosedPipe = errors.New("upload pipe closed")

func newChunkPipe() *chunkPipe {
	return &chunkPipe{ch: make(chan []byte), ack: make(chan error), closed: make(chan struct{})}
}

// Write hands b to the reader and waits until it has been written.
func (p *chunkPipe) Write(b []byte) (int, error) {
	select {
	case p.ch <- b:
	case <-p.closed:
		return 0, p.writeErr()
	}
	// Taken: wait for the reader even when the pipe is closed meanwhile,
	// for it may still be writing from b.
	if err := <-p.ack; err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *chunkPipe) writeErr() error {
	if p.err == io.EOF {
		return errClosedPipe
	}
	return p.err
}

// WriteTo writes every chunk to w as it comes, until the pipe is closed.
func (p *chunkPipe) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		select {
		case b := <-p.ch:
			m, err := w.Write(b)
			n += int64(m)
			if err == nil && m < len(b) {
				err = io.ErrShortWrite
			}
			p.ack <- err
			if err != nil {
				p.CloseWithError(err)
				return n, err
			}
		case <-p.closed:
			if p.err == io.EOF {
				return n, nil
			}
			return n, p.err
		}
	}
}

// Read is io.Reader for a reader that does not use WriteTo. It copies
// each chunk as it takes it, so that Write never waits on a reader that
// stops halfway through one: into b when the whole chunk fits, else into
// a buffer of its own that later Reads take the rest from.
func (p *chunkPipe) Read(b []byte) (int, error) {
	if len(p.cur) == 0 {
		select {
		case c := <-p.ch:
			if len(c) <= len(b) {
				n := copy(b, c)
				p.ack <- nil
				return n, nil
			}
			p.buf = append(p.buf[:0], c...)
			p.cur = p.buf
			p.ack <- nil
		case <-p.closed:
			return 0, p.err
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close ends the body: the reader gets EOF once it has taken every chunk.
func (p *chunkPipe) Close() error {
	p.CloseWithError(io.EOF)
	return nil
}

// CloseWithError abandons the body with err (nil: errClosedPipe).
func (p *chunkPipe) CloseWithError(err error) {
	if err == nil {
		err = errClosedPipe
	}
	p.once.Do(func() {
		p.err = err
		close(p.closed)
	})
}
