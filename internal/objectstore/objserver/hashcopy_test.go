package objserver

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"testing"
	"testing/iotest"
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
