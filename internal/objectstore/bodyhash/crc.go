package bodyhash

import (
	"fmt"
	"hash"
	"hash/crc32"
)

// Beside the MD5 (the ETag) every object body has a CRC-32C, which runs in
// hardware (SSE 4.2) some twenty times faster: the proxy sends it with a
// large upload and the object server checks its writes and whole reads
// with it (objserver's crc.go).

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// NewCRC returns a CRC-32C hash.
func NewCRC() hash.Hash32 { return crc32.New(castagnoli) }

// CRCString is a CRC-32C as it travels and is kept: 8 hex digits.
func CRCString(sum uint32) string { return fmt.Sprintf("%08x", sum) }

// CRC is CRCString of b's CRC-32C.
func CRC(b []byte) string { return CRCString(crc32.Checksum(b, castagnoli)) }

// The trailers of a large upload the proxy hashed, and the header giving
// its length when the body is chunked (Swift's proxy sends the same one).
const (
	TrailerEtag     = "X-Backend-Etag"
	TrailerCRC32C   = "X-Backend-Crc32c"
	HeaderObjLength = "X-Backend-Obj-Content-Length"
)
