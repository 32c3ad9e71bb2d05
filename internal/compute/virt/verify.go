package virt

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Verifier checks an image's data, written through it, against what Glance
// reported: its size, MD5 checksum and multihash. Every driver fetches
// images through one, so none trusts data it could not verify.
type Verifier struct {
	img    Image
	want   map[string]string
	hashes map[string]hash.Hash
	n      int64
}

// NewVerifier refuses an image with nothing to verify it against or with a
// hash algorithm it does not know.
func NewVerifier(img Image) (*Verifier, error) {
	v := &Verifier{img: img, want: map[string]string{}, hashes: map[string]hash.Hash{}}
	if img.Checksum != "" {
		v.want["md5"] = strings.ToLower(img.Checksum)
	}
	if img.HashAlgo != "" && img.HashValue != "" {
		v.want[strings.ToLower(img.HashAlgo)] = strings.ToLower(img.HashValue)
	}
	if len(v.want) == 0 {
		return nil, fmt.Errorf("image %s has no checksum to verify it against", img.ID)
	}
	for algo := range v.want {
		h, err := newHash(algo)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		v.hashes[algo] = h
	}
	return v, nil
}

func (v *Verifier) Write(p []byte) (int, error) {
	for _, h := range v.hashes {
		h.Write(p)
	}
	v.n += int64(len(p))
	return len(p), nil
}

// Check reports whether everything written matches the image.
func (v *Verifier) Check() error {
	if v.img.Size > 0 && v.n != v.img.Size {
		return fmt.Errorf("image %s: got %d bytes, Glance says %d", v.img.ID, v.n, v.img.Size)
	}
	for algo, h := range v.hashes {
		if got := hex.EncodeToString(h.Sum(nil)); got != v.want[algo] {
			return fmt.Errorf("image %s: %s checksum mismatch: got %s, want %s", v.img.ID, algo, got, v.want[algo])
		}
	}
	return nil
}

func newHash(algo string) (hash.Hash, error) {
	switch algo {
	case "md5":
		return md5.New(), nil
	case "sha1":
		return sha1.New(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported hash algorithm %q", algo)
}
