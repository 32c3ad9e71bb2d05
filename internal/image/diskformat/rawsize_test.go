package diskformat

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A raw image of any size is accepted, with its exact size as virtual size
// (qemu-img rounds raw files up to whole 512-byte sectors).
func TestRawOfAnySize(t *testing.T) {
	needQemuImg(t)
	for _, n := range []int{1, 511, 513, 1000, 4096, 1<<20 + 7} {
		path := filepath.Join(t.TempDir(), "disk.raw")
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + 3)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(context.Background(), path, "raw")
		if err != nil || info.Format != "raw" || info.VirtualSize != int64(n) {
			t.Errorf("%d bytes: %+v %v", n, info, err)
		}
	}
}
