package proxy

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
	"unsafe"
)

// chunkPipe hands chunks over whole to WriteTo, in order, to Read in
// pieces, and a Write after CloseWithError (or one waiting when it comes)
// fails instead of blocking.
func TestChunkPipe(t *testing.T) {
	chunks := [][]byte{bytes.Repeat([]byte("a"), 100), bytes.Repeat([]byte("b"), 70000), []byte("c")}
	want := bytes.Join(chunks, nil)

	var writes []int
	p := newChunkPipe()
	done := make(chan error)
	var got bytes.Buffer
	go func() {
		_, err := p.WriteTo(writerFunc(func(b []byte) (int, error) {
			writes = append(writes, len(b))
			return got.Write(b)
		}))
		done <- err
	}()
	for _, c := range chunks {
		if n, err := p.Write(c); n != len(c) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	p.Close()
	if err := <-done; err != nil || !bytes.Equal(got.Bytes(), want) || len(writes) != len(chunks) {
		t.Fatalf("WriteTo: %v, %d bytes in writes %v", err, got.Len(), writes)
	}

	p = newChunkPipe()
	go func() {
		for _, c := range chunks {
			p.Write(c)
		}
		p.Close()
	}()
	if b, err := io.ReadAll(readerOnly{p}); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("Read: %v, %d bytes", err, len(b))
	}

	p = newChunkPipe()
	failed := make(chan error)
	go func() {
		_, err := p.Write([]byte("never read"))
		failed <- err
	}()
	time.Sleep(10 * time.Millisecond)
	boom := errors.New("node answered")
	p.CloseWithError(boom)
	if err := <-failed; !errors.Is(err, boom) {
		t.Fatalf("a waiting Write after CloseWithError: %v", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, boom) {
		t.Fatalf("Write after CloseWithError: %v", err)
	}
	if _, err := p.WriteTo(io.Discard); !errors.Is(err, boom) {
		t.Fatalf("WriteTo after CloseWithError: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

type readerOnly struct{ io.Reader }

// Upload buffers start at a multiple of 4 KiB, as a node's O_DIRECT write
// from them needs.
func TestPumpBuffersAligned(t *testing.T) {
	for range 20 {
		b := pumpBufs.Get().(*[]byte)
		if len(*b) != 1<<20 || uintptr(unsafe.Pointer(&(*b)[0]))%4096 != 0 {
			t.Fatalf("buffer of %d bytes at %p", len(*b), &(*b)[0])
		}
		defer pumpBufs.Put(b)
	}
	for _, size := range []int{1, 4096, 5000} {
		for _, align := range []int{512, 4096} {
			b := alignedBuffer(size, align)
			if len(b) != size || cap(b) != size || uintptr(unsafe.Pointer(&b[0]))%uintptr(align) != 0 {
				t.Fatalf("alignedBuffer(%d, %d): %d bytes (cap %d) at %p", size, align, len(b), cap(b), &b[0])
			}
		}
	}
}
