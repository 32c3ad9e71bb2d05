package objserver

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// hashCopy copies and hashes every byte, whatever sizes the reads come
// in, and reports read and write failures as io.CopyBuffer would.
func TestHashCopy(t *testing.T) {
	data := make([]byte, 3<<20+5)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	bufs := [2][]byte{make([]byte, 64<<10), make([]byte, 64<<10)}
	for name, src := range map[string]io.Reader{
		"whole":    bytes.NewReader(data),
		"one byte": iotest.OneByteReader(bytes.NewReader(data[:100<<10])),
		"half":     iotest.HalfReader(bytes.NewReader(data)),
	} {
		var out bytes.Buffer
		h := md5.New()
		n, err := hashCopy(&out, h, src, bufs)
		if err != nil || n != int64(out.Len()) {
			t.Fatalf("%s: copied %d, err %v", name, n, err)
		}
		if want := md5.Sum(out.Bytes()); !bytes.Equal(h.Sum(nil), want[:]) || !bytes.Equal(out.Bytes(), data[:out.Len()]) {
			t.Fatalf("%s: hash or bytes differ from the data", name)
		}
	}
	boom := errors.New("boom")
	if _, err := hashCopy(io.Discard, md5.New(), io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(boom)), bufs); !errors.Is(err, boom) {
		t.Fatalf("read error: got %v", err)
	}
	w := writeError{boom}
	if _, err := hashCopy(failWriter{w}, md5.New(), bytes.NewReader(data), bufs); !errors.As(err, &w) {
		t.Fatalf("write error: got %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// blockedWriter holds its first write until released.
type blockedWriter struct {
	release chan struct{}
	first   bool
	out     bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	if !w.first {
		w.first = true
		<-w.release
	}
	return w.out.Write(p)
}

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// While a write waits for the disk, the next buffer is read from the
// connection.
func TestHashCopyReadsWhileWriting(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64)
	src := &countingReader{r: bytes.NewReader(data)}
	dst := &blockedWriter{release: make(chan struct{})}
	bufs := [2][]byte{make([]byte, 256), make([]byte, 256)}
	done := make(chan error, 1)
	go func() {
		_, err := hashCopy(dst, md5.New(), src, bufs)
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for src.n.Load() < 512 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := src.n.Load()
	close(dst.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got < 512 {
		t.Fatalf("%d bytes were read while the first write waited, want the second buffer's too", got)
	}
	if !bytes.Equal(dst.out.Bytes(), data) {
		t.Fatal("the copy differs")
	}
}

// lender writes data to w in chunks of one reused buffer, and scribbles
// over the buffer as soon as each Write returns, as a proxy refilling it
// from its client would.
type lender struct {
	data  []byte
	chunk int
}

func (l lender) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, l.chunk)
	var n int64
	for off := 0; off < len(l.data); off += l.chunk {
		c := copy(buf, l.data[off:])
		m, err := w.Write(buf[:c])
		n += int64(m)
		clear(buf)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// slowHash hashes slowly, so a Write that returned before its hash was
// done would let the lender's scribbles into it.
type slowHash struct{ h io.Writer }

func (s slowHash) Write(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.h.Write(p)
}

// copyLent writes and hashes each lent chunk before it gives it back, and
// stops at the first failed write.
func TestCopyLent(t *testing.T) {
	data := make([]byte, 5<<20+123)
	for i := range data {
		data[i] = byte(i*13 + i>>11)
	}
	var out bytes.Buffer
	h := md5.New()
	n, err := copyLent(&out, slowHash{h}, lender{data: data, chunk: 1 << 20})
	if err != nil || n != int64(len(data)) {
		t.Fatalf("copied %d of %d, err %v", n, len(data), err)
	}
	if want := md5.Sum(data); !bytes.Equal(h.Sum(nil), want[:]) || !bytes.Equal(out.Bytes(), data) {
		t.Fatal("hash or bytes differ from the data")
	}
	fw := &failAfter{n: 2 << 20}
	n, err = copyLent(fw, md5.New(), lender{data: data, chunk: 1 << 20})
	if !errors.Is(err, errWriteFailed) || n != 2<<20 || !bytes.Equal(fw.got.Bytes(), data[:2<<20]) {
		t.Fatalf("write error: copied %d, err %v", n, err)
	}
}
