// Package bodyhash gives the hashes of object bodies the proxy and the
// object servers share: the MD5 (crypto/md5 while few large bodies are
// hashed at once in the process, a multi-buffer SIMD MD5 when several are)
// and the CRC-32C, with the backend names that carry them.
package bodyhash

import (
	"crypto/md5"
	"hash"
	"sync"
	"sync/atomic"

	md5simd "github.com/minio/md5-simd"
)

// Large bodies are hashed by crypto/md5 while few run at once, and by a
// multi-buffer MD5 (md5-simd: AVX-512 or AVX2 lanes, one stream per lane)
// when several do.
//
// Measured on this machine (AMD EPYC, AVX-512), CPU per 64 MiB stream:
// crypto/md5 84 ms at any concurrency; md5-simd 97 ms with 1 stream, 88
// with 3, 67 with 4, 47 with 6, 37 with 8 or more. Below simdMinStreams
// concurrent streams the lanes run mostly empty and crypto/md5 is cheaper.
const simdMinStreams = 4

// LargeBody is the size from which a body counts as large: below it the
// hand-off to a hashing goroutine costs more than it saves.
const LargeBody = 1 << 20

var (
	largeHashes atomic.Int32 // large bodies being hashed now
	simdOnce    sync.Once
	simdServer  md5simd.Server
)

// New returns the MD5 hash for a body of size bytes (-1: unknown) and the
// function to call when done with it.
func New(size int64) (hash.Hash, func()) {
	if size >= 0 && size < LargeBody {
		return md5.New(), func() {}
	}
	if largeHashes.Add(1) < simdMinStreams {
		return md5.New(), func() { largeHashes.Add(-1) }
	}
	simdOnce.Do(func() { simdServer = md5simd.NewServer() })
	h := simdServer.NewHash()
	return h, func() {
		h.Close()
		largeHashes.Add(-1)
	}
}
