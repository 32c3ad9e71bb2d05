package objserver

import "io"

// hashCopy copies src to dst as io.CopyBuffer does, in whole buffers
// (every write but the last fills one, so aligned buffers make aligned
// O_DIRECT writes), and writes every byte to h (the hashes) on another
// goroutine at the same time: a large upload's MD5 then runs alongside its
// reads from the connection and writes to the disk instead of after each
// of them. The writes run on a goroutine of their own too, in order, so
// the next buffer is read from the connection while the last one goes to
// the disk: an O_DIRECT write waits for the device, and while it did the
// proxy could not hand this replica the next chunk, which held up the
// other replicas of the upload. bufs take turns: one is read into while
// the other is hashed and written. When hashCopy returns without error, h
// has seen exactly the bytes copied.
func hashCopy(dst io.Writer, h io.Writer, src io.Reader, bufs [2][]byte) (int64, error) {
	type written struct {
		n   int
		err error
	}
	toHash, hashed := make(chan []byte, 2), make(chan struct{}, 2)
	toWrite, wrote := make(chan []byte, 2), make(chan written, 2)
	go func() {
		for b := range toHash {
			h.Write(b)
			hashed <- struct{}{}
		}
	}()
	go func() {
		var failed error
		for b := range toWrite {
			if failed != nil {
				// Nothing after a failed write: the file is dropped.
				wrote <- written{0, failed}
				continue
			}
			n, err := dst.Write(b)
			if err == nil && n != len(b) {
				err = io.ErrShortWrite
			}
			failed = err
			wrote <- written{n, err}
		}
	}()
	inFlight := 0
	var total int64
	var err error
	// settle waits for the oldest buffer's hash and write.
	settle := func() error {
		<-hashed
		w := <-wrote
		inFlight--
		total += int64(w.n)
		return w.err
	}
	for k := 0; ; k++ {
		if inFlight == 2 {
			if err = settle(); err != nil {
				break
			}
		}
		buf := bufs[k&1]
		n, rerr := fill(src, buf)
		if n > 0 {
			toHash <- buf[:n]
			toWrite <- buf[:n]
			inFlight++
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	close(toHash)
	close(toWrite)
	for inFlight > 0 {
		if werr := settle(); err == nil {
			err = werr
		}
	}
	return total, err
}

// fill reads into buf until it is full or src ends or fails, returning
// src's error as it is.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyLent copies a body that writes itself out (io.WriterTo: an
// in-process proxy's upload, whose chunks come as the proxy's own 1 MiB
// buffers, inproc's body.WriteTo) to dst, and writes every byte to h at
// the same time. Each chunk is written to dst straight from the sender's
// buffer, with no copy: an aligned one goes to the disk with O_DIRECT as
// it is. The sender may reuse a buffer once Write returns, so Write waits
// for both the disk write and the hash; the proxy meanwhile reads the next
// chunk from its client into its other buffer, as hashCopy's write-behind
// does for a body that comes through a socket.
func copyLent(dst io.Writer, h io.Writer, src io.WriterTo) (int64, error) {
	w := &lentWriter{dst: dst, toHash: make(chan []byte), hashed: make(chan struct{})}
	go func() {
		for b := range w.toHash {
			h.Write(b)
			w.hashed <- struct{}{}
		}
	}()
	n, err := src.WriteTo(w)
	close(w.toHash)
	return n, err
}

type lentWriter struct {
	dst    io.Writer
	toHash chan []byte
	hashed chan struct{}
	failed error
}

func (w *lentWriter) Write(b []byte) (int, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	w.toHash <- b
	n, err := w.dst.Write(b)
	<-w.hashed // b is the sender's again only once h is done with it
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	w.failed = err
	return n, err
}

// isWriterTo reports whether a request body can write itself out: net/http's
// server bodies cannot, inproc's can.
func isWriterTo(body io.Reader) bool {
	_, ok := body.(io.WriterTo)
	return ok
}
