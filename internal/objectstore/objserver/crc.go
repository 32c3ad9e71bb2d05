package objserver

import (
	"fmt"
	"hash"
	"hash/crc32"
	"net/http"
)

// Every .data file's metadata keeps the CRC-32C of its body beside the MD5
// ETag. CRC-32C runs in hardware (SSE 4.2), some twenty times faster than
// MD5, so the checks made on the bytes a node moves use it:
//
//   - a whole GET is checked with it while it is sent (with the MD5 when an
//     older file has no CRC);
//   - a PUT the proxy hashed itself carries the proxy's MD5 and CRC-32C of
//     the body as trailers (proxyHashTrailers): the node checks the bytes it
//     stored against the CRC and keeps the proxy's MD5 as the ETag. A large
//     upload then costs one MD5, not one per replica.
//
// The auditor still checks every file against its MD5 ETag.
const keyCRC32C = "X-Backend-Data-Crc32c"

// The trailers of a proxy-hashed PUT, and the header giving its length
// when the body is chunked (Swift's proxy sends the same header). The
// proxy (objectstore/proxy) spells them too.
const (
	trailerEtag     = "X-Backend-Etag"
	trailerCRC32C   = "X-Backend-Crc32c"
	headerObjLength = "X-Backend-Obj-Content-Length"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newCRC() hash.Hash32 { return crc32.New(castagnoli) }

func crcString(sum uint32) string { return fmt.Sprintf("%08x", sum) }

// proxyHashed reports whether a PUT announces the proxy's hash trailers.
func proxyHashed(r *http.Request) bool {
	_, etag := r.Trailer[trailerEtag]
	_, crc := r.Trailer[trailerCRC32C]
	return etag && crc
}

// isMD5Hex reports whether s is an MD5 in lower-case hex, as ETags are kept.
func isMD5Hex(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
