package objserver

import "io"

// hashCopy copies src to dst as io.CopyBuffer does, in whole buffers
// (every write but the last fills one, so aligned buffers make aligned
// O_DIRECT writes), and writes every byte to h (the hashes) on another
// goroutine at the same time: a large upload's MD5 then runs alongside its
// reads from the connection and writes to the disk instead of after each
// of them. bufs
// take turns: one is read into and written while the other is still being
// hashed. When hashCopy returns without error, h has seen exactly the
// bytes copied.
func hashCopy(dst io.Writer, h io.Writer, src io.Reader, bufs [2][]byte) (int64, error) {
	chunks := make(chan []byte, 2)
	hashed := make(chan struct{}, 2)
	go func() {
		for b := range chunks {
			h.Write(b)
			hashed <- struct{}{}
		}
	}()
	inFlight := 0
	var total int64
	var err error
	for k := 0; ; k++ {
		if inFlight == 2 {
			<-hashed // chunk k-2's hash, whose buffer is reused now
			inFlight--
		}
		buf := bufs[k&1]
		n, rerr := fill(src, buf)
		if n > 0 {
			chunks <- buf[:n]
			inFlight++
			wn, werr := dst.Write(buf[:n])
			total += int64(wn)
			if werr == nil && wn != n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				err = werr
				break
			}
		}
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	close(chunks)
	for ; inFlight > 0; inFlight-- {
		<-hashed
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
