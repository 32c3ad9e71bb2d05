package objserver

import (
	"hash"
	"io"
)

// hashCopy copies src to dst as io.CopyBuffer does, and writes every byte
// to h on another goroutine at the same time: a large upload's MD5 then
// runs alongside its reads from the connection and writes to the disk
// instead of after each of them. bufs are two buffers taking turns: one
// is read into and written while the other is still being hashed. When
// hashCopy returns without error, h has seen exactly the bytes copied.
func hashCopy(dst io.Writer, h hash.Hash, src io.Reader, bufs [2][]byte) (int64, error) {
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
		n, rerr := src.Read(buf)
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
