package objserver

import (
	"bytes"
	"os"
	"testing"
)

// A large file written through the O_DIRECT path, in pieces that do not
// line up with its 1 MiB chunks or 4 KiB blocks and with a footer-sized
// tail, reads back byte for byte; a discarded one leaves no data behind.
func TestDirectWriteReadsBack(t *testing.T) {
	dir := t.TempDir()
	want := make([]byte, 5<<20+12345)
	for i := range want {
		want[i] = byte(i*31 + i>>13)
	}
	tf, err := osFS{}.CreateTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := tf.(*osFile)
	if err := f.Allocate(int64(len(want))); err != nil {
		t.Fatal(err)
	}
	t.Logf("O_DIRECT in use: %v", f.direct != nil)
	for rest, step := want, 1; len(rest) > 0; step = step*7 + 4093 {
		n := min(step%(3<<20), len(rest))
		if _, err := f.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if f.direct != nil {
		t.Fatal("Sync left the file in direct mode")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, differing from the %d written", len(got), len(want))
	}
}
