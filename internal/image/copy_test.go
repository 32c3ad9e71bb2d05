package image

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"errors"
	"io"
	"testing"
)

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	k := f.n
	f.n = 0
	return k, errDiskFull
}

// A failed write stops the copy with that error (no hang: the hash stages
// drain), and the count is what was written.
func TestHashCopyWriteError(t *testing.T) {
	n, err := hashCopy(&failAfter{n: 5<<20 + 3}, md5.New(), sha512.New(), &errAfter{n: 64 << 20, err: io.EOF})
	if !errors.Is(err, errDiskFull) || n != 5<<20+3 {
		t.Fatalf("n=%d err=%v, want %d and the write error", n, err, 5<<20+3)
	}
}

// The pipeline hashes exactly the bytes it writes, in order, across many
// chunks (more than there are buffers) and a short last one.
func TestHashCopyMatchesData(t *testing.T) {
	data := make([]byte, copyChunk*(copyBuffers+2)+12345) // buffers reused
	for i := range data {
		data[i] = byte(i*31 + i>>13)
	}
	var out bytes.Buffer
	h1, h2 := md5.New(), sha512.New()
	n, err := hashCopy(&out, h1, h2, bytes.NewReader(data))
	if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("n=%d err=%v equal=%v", n, err, bytes.Equal(out.Bytes(), data))
	}
	m, s := md5.Sum(data), sha512.Sum512(data)
	if !bytes.Equal(h1.Sum(nil), m[:]) || !bytes.Equal(h2.Sum(nil), s[:]) {
		t.Fatal("hashes differ from the data's")
	}
}
