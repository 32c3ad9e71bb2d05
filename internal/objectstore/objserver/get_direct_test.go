package objserver

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// failAfter accepts n bytes, then fails.
type failAfter struct {
	n   int
	got bytes.Buffer
}

var errWriteFailed = errors.New("connection gone")

func (w *failAfter) Write(p []byte) (int, error) {
	if w.got.Len()+len(p) > w.n {
		return 0, errWriteFailed
	}
	return w.got.Write(p)
}

// A whole large object is read with O_DIRECT, ahead of the connection:
// every byte of the body and none of the footer is sent and hashed, and
// a connection that fails stops the reader.
func TestLargeGetReadsDirect(t *testing.T) {
	body := make([]byte, 5<<20+777)
	for i := range body {
		body[i] = byte(i*7 + i>>13)
	}
	p := filepath.Join(t.TempDir(), "1700000000.10000.data")
	if err := os.WriteFile(p, append(append([]byte{}, body...), "FOOTER"...), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func() (*os.File, *verifyingReader) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f, &verifyingReader{sr: io.NewSectionReader(f, 0, int64(len(body))), file: f, size: int64(len(body)), h: md5.New()}
	}

	f, v := open()
	var out bytes.Buffer
	n, err, ok := v.sendDirect(&out, f)
	if !ok {
		t.Skip("this file system does not take O_DIRECT reads")
	}
	if err != nil || n != int64(len(body)) || !bytes.Equal(out.Bytes(), body) {
		t.Fatalf("sent %d bytes (%v), equal %v; want the %d of the body", n, err, bytes.Equal(out.Bytes(), body), len(body))
	}
	if want := md5.Sum(body); !v.done || !bytes.Equal(v.h.Sum(nil), want[:]) {
		t.Fatalf("done %v, hash %x, want %x", v.done, v.h.Sum(nil), want)
	}

	f, v = open()
	w := &failAfter{n: 2 << 20}
	n, err, _ = v.sendDirect(w, f)
	if !errors.Is(err, errWriteFailed) || n != 2<<20 || v.done {
		t.Fatalf("to a failing connection: sent %d, err %v, done %v", n, err, v.done)
	}
	if !bytes.Equal(w.got.Bytes(), body[:2<<20]) {
		t.Fatal("the bytes before the failure differ")
	}
}

// Below the O_DIRECT threshold the page cache serves, as before.
func TestSmallerObjectsAreNotReadDirect(t *testing.T) {
	p := filepath.Join(t.TempDir(), "o.data")
	if err := os.WriteFile(p, make([]byte, directMin-1), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := &verifyingReader{sr: io.NewSectionReader(f, 0, directMin-1), file: f, size: directMin - 1, h: md5.New()}
	if _, _, ok := v.sendDirect(io.Discard, f); ok {
		t.Fatal("a file under directMin was read direct")
	}
}
