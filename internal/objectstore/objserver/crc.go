package objserver

import (
	"net/http"

	"kumo/internal/objectstore/bodyhash"
)

// Every .data file's metadata keeps the CRC-32C of its body beside the MD5
// ETag (bodyhash.CRC), and the checks made on the bytes a node moves use it:
//
//   - a whole GET is checked with it while it is sent (with the MD5 when an
//     older file has no CRC);
//   - a PUT the proxy hashed itself carries the proxy's MD5 and CRC-32C of
//     the body as trailers (proxyHashed): the node checks the bytes it
//     stored against the CRC and keeps the proxy's MD5 as the ETag. A large
//     upload then costs one MD5, not one per replica.
//
// The auditor and replication check both the MD5 ETag and the CRC.
const keyCRC32C = "X-Backend-Data-Crc32c"

// proxyHashed reports whether a PUT announces the proxy's hash trailers.
func proxyHashed(r *http.Request) bool {
	_, etag := r.Trailer[bodyhash.TrailerEtag]
	_, crc := r.Trailer[bodyhash.TrailerCRC32C]
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
