package simulated

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"kumo/internal/compute/virt"
)

// TestImageCacheReadsOnce: a second spawn of an image already verified, on
// any simulated host, does not read it again; the same id claiming other
// data is read and checked again, and refused when it does not match.
func TestImageCacheReadsOnce(t *testing.T) {
	ctx := context.Background()
	var opens atomic.Int32
	data := fmt.Sprintf("cache-test-%p", t) // an image no other test verified
	sum := md5.Sum([]byte(data))
	img := virt.Image{ID: "img-cache", DiskFormat: "raw", Size: int64(len(data)), Checksum: hex.EncodeToString(sum[:]),
		Open: func(context.Context) (io.ReadCloser, error) {
			opens.Add(1)
			return io.NopCloser(strings.NewReader(data)), nil
		}}
	a, b := New(Config{}), New(Config{})
	if err := a.Spawn(ctx, testSpec("c1"), img); err != nil {
		t.Fatal(err)
	}
	if err := b.Spawn(ctx, testSpec("c2"), img); err != nil {
		t.Fatal(err)
	}
	if n := opens.Load(); n != 1 {
		t.Fatalf("image read %d times for two spawns, want 1", n)
	}
	bad := img
	bad.Checksum = strings.Repeat("1", 32)
	if err := b.Spawn(ctx, testSpec("c3"), bad); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("spawn with another checksum under a cached id: %v", err)
	}
	if n := opens.Load(); n != 2 {
		t.Fatalf("image read %d times, want 2 (the changed checksum is read again)", n)
	}
	noSum := img
	noSum.Checksum = ""
	if err := b.Spawn(ctx, testSpec("c4"), noSum); err == nil {
		t.Fatal("spawn of an image with nothing to verify succeeded from the cache")
	}
}
