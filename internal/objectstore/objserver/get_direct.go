package objserver

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// A whole GET of a large object reads it with O_DIRECT: the disk DMAs
// into aligned buffers, where a buffered read copied every byte out of
// the page cache. That copy was 43% of kumo's CPU in a 64 MiB GET at one
// client, and it took from 10 to 88 ms of CPU for the same cold 64 MiB
// file read with dd here (6-8 ms with iflag=direct), so the large GETs'
// throughput moved by a third between runs. Large objects are written
// with O_DIRECT too (fsys_direct.go): neither way goes through the page
// cache, as Swift drops large objects from it. A reader goroutine keeps
// up to directAhead chunks read ahead, as the kernel's readahead did.

// directAhead is how many 1 MiB chunks are read ahead of the connection.
const directAhead = 4

type readChunk struct {
	buf *[]byte
	n   int
	err error
}

// sendDirect is sendWhole for f opened on a large object. ok is false,
// with nothing sent, when the file system does not take O_DIRECT reads:
// the caller then reads through the page cache.
func (v *verifyingReader) sendDirect(w io.Writer, f *os.File) (sent int64, err error, ok bool) {
	if f == nil || v.size < directMin || setODirect(f.Fd(), true) != nil {
		return 0, nil, false
	}
	fd := int(f.Fd())
	first := directBufs.Get().(*[]byte)
	n, err := preadDirect(fd, *first, 0, int(min(directChunk, v.size)))
	if err != nil {
		directBufs.Put(first)
		if serr := setODirect(f.Fd(), false); serr != nil {
			return 0, serr, true
		}
		return 0, nil, false
	}
	free := make(chan *[]byte, directAhead)
	for range directAhead - 1 {
		free <- directBufs.Get().(*[]byte)
	}
	// Every buffer is in free, filled or being hashed or written: none of
	// these sends ever blocks.
	filled := make(chan readChunk, directAhead)
	filled <- readChunk{buf: first, n: n}
	quit := make(chan struct{})
	go func() {
		defer close(filled)
		for off := int64(directChunk); off < v.size; off += directChunk {
			var b *[]byte
			select {
			case <-quit:
				return
			case b = <-free:
			}
			n, err := preadDirect(fd, *b, off, int(min(directChunk, v.size-off)))
			filled <- readChunk{buf: b, n: n, err: err}
			if err != nil {
				return
			}
		}
	}()
	toHash := make(chan readChunk, directAhead)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for c := range toHash {
			v.h.Write((*c.buf)[:c.n])
			free <- c.buf
		}
	}()
	for c := range filled {
		if c.err != nil {
			free <- c.buf
			err = c.err
			break
		}
		var wn int
		wn, err = w.Write((*c.buf)[:c.n])
		sent += int64(wn)
		toHash <- c
		if err != nil {
			break
		}
	}
	close(quit)
	for c := range filled { // what the reader had read ahead
		free <- c.buf
	}
	close(toHash)
	<-hashed
	for range directAhead {
		directBufs.Put(<-free)
	}
	v.pos = sent
	v.done = err == nil && sent == v.size
	return sent, err, true
}

// preadDirect reads need bytes at off, a multiple of directAlign, into
// buf (aligned, at least need rounded up to directAlign long). It reads
// whole blocks: past the body is the footer, so the last block is there.
func preadDirect(fd int, buf []byte, off int64, need int) (int, error) {
	want := (need + directAlign - 1) &^ (directAlign - 1)
	got := 0
	for got < need {
		n, err := syscall.Pread(fd, buf[got:want], off+int64(got))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return got, err
		}
		if n == 0 || (got+n < need && (got+n)%directAlign != 0) {
			return got, io.ErrUnexpectedEOF
		}
		got += n
	}
	return need, nil
}
