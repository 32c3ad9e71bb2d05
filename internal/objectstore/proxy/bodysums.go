package proxy

import (
	"encoding/hex"
	"hash"

	"kumo/internal/objectstore/bodyhash"
)

// A large upload (bodyhash.LargeBody and more) is hashed here, once,
// instead of by every replica's object server: the proxy computes the
// body's MD5 (the ETag) and its CRC-32C while it sends the body, and ends
// each node's chunked request with both as trailers. Each node checks the
// bytes it stored against the CRC-32C and keeps the MD5 as the ETag
// (objserver's crc.go has the node's side). Small bodies are still hashed
// by the nodes: there the trailers would cost more than the MD5.

// bodySums are an upload's MD5 and CRC-32C.
type bodySums struct {
	md5     hash.Hash
	crc32c  hash.Hash32
	release func()
}

// newBodySums hashes a body of size bytes (-1: unknown); call release
// when done.
func newBodySums(size int64) *bodySums {
	h, done := bodyhash.New(size)
	return &bodySums{md5: h, crc32c: bodyhash.NewCRC(), release: done}
}

// write hashes p, in pieces that stay in the CPU's cache between the two
// sums.
func (b *bodySums) write(p []byte) {
	for len(p) > 0 {
		n := min(len(p), 64<<10)
		b.md5.Write(p[:n])
		b.crc32c.Write(p[:n])
		p = p[n:]
	}
}

func (b *bodySums) etag() string { return hex.EncodeToString(b.md5.Sum(nil)) }

func (b *bodySums) crc() string { return bodyhash.CRCString(b.crc32c.Sum32()) }
