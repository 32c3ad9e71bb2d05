package simulated

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"kumo/internal/compute/virt"
)

// verifiedImages is the simulated hosts' image cache: the images whose
// data was read and matched what Glance reported. All simulated hosts of
// one process are one machine and share it, as the QEMU driver's hosts
// sharing a cache directory share their base images; a thousand hosts
// would otherwise each read and hash the same image.
var verifiedImages = imageCache{seen: map[imageKey]bool{}}

// maxCachedImages bounds the cache; past it, it starts over.
const maxCachedImages = 256

// imageKey is an image as Glance describes its data: a hit needs the very
// size and hashes that were verified, so an image whose data changed
// (or a corrupt claim under a known id) is read and checked again.
type imageKey struct {
	id, checksum, algo, value string
	size                      int64
}

type imageCache struct {
	mu   sync.Mutex
	seen map[imageKey]bool
}

func keyOf(img virt.Image) imageKey {
	return imageKey{id: img.ID, checksum: strings.ToLower(img.Checksum), algo: strings.ToLower(img.HashAlgo),
		value: strings.ToLower(img.HashValue), size: img.Size}
}

func (c *imageCache) has(k imageKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[k]
}

func (c *imageCache) add(k imageKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= maxCachedImages {
		clear(c.seen)
	}
	c.seen[k] = true
}

// fetch reads img's data and checks it against the checksum and multihash
// Glance reported, refusing what it cannot verify, as the QEMU driver's
// image cache does (an image with no checksum, an unknown algorithm). An
// image already verified with the same size and hashes is not read again.
func fetch(ctx context.Context, img virt.Image) error {
	if img.Open == nil {
		return fmt.Errorf("image %s has no data", img.ID)
	}
	verify, err := virt.NewVerifier(img)
	if err != nil {
		return err
	}
	k := keyOf(img)
	if verifiedImages.has(k) {
		return nil
	}
	r, err := img.Open(ctx)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.ID, err)
	}
	defer r.Close()
	if _, err := io.Copy(verify, r); err != nil {
		return fmt.Errorf("image %s: read: %w", img.ID, err)
	}
	if err := verify.Check(); err != nil {
		return err
	}
	verifiedImages.add(k)
	return nil
}
