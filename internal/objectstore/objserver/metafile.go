package objserver

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Metadata is an object's stored headers, keyed by canonical header name
// (Content-Type, Content-Length, ETag, X-Timestamp, X-Object-Meta-*, ...),
// plus "name" = "/a/c/o" as Swift keeps it.
type Metadata map[string]string

// File layout: body, then the metadata as JSON, then a 12-byte trailer of
// the JSON length (big-endian uint32) and a magic string. A footer, not a
// header, because a chunked upload's ETag and length are only known at the
// end of the stream.
const (
	footerMagic = "KUMOMETA"
	trailerSize = 4 + len(footerMagic)
	maxMetaSize = 1 << 20
)

var errBadFooter = errors.New("object file has no valid metadata footer")

func encodeFooter(md Metadata) ([]byte, error) {
	js, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	if len(js) > maxMetaSize {
		return nil, fmt.Errorf("metadata of %d bytes is too large", len(js))
	}
	out := make([]byte, 0, len(js)+trailerSize)
	out = append(out, js...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(js)))
	return append(out, footerMagic...), nil
}

// readFooter returns the metadata of an open object file and the length of
// the body before it.
func readFooter(f io.ReaderAt, size int64) (Metadata, int64, error) {
	if size < int64(trailerSize) {
		return nil, 0, errBadFooter
	}
	var tr [trailerSize]byte
	if _, err := f.ReadAt(tr[:], size-int64(trailerSize)); err != nil {
		return nil, 0, err
	}
	if string(tr[4:]) != footerMagic {
		return nil, 0, errBadFooter
	}
	n := int64(binary.BigEndian.Uint32(tr[:4]))
	if n > maxMetaSize || n > size-int64(trailerSize) {
		return nil, 0, errBadFooter
	}
	js := make([]byte, n)
	if _, err := f.ReadAt(js, size-int64(trailerSize)-n); err != nil {
		return nil, 0, err
	}
	var md Metadata
	if err := json.Unmarshal(js, &md); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errBadFooter, err)
	}
	return md, size - int64(trailerSize) - n, nil
}

// readMetadataFile reads the metadata of the file at path.
func readMetadataFile(path string) (Metadata, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	return readFooter(f, st.Size())
}

// Headers a client may set on an object besides X-Object-Meta-*, as
// Swift's allowed_headers.
var allowedHeaders = []string{
	"Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control",
	"Expires", "X-Delete-At", "X-Object-Manifest", "X-Static-Large-Object", "X-Robots-Tag",
}

// userMetadata copies the headers a PUT or POST stores.
func userMetadata(h http.Header, md Metadata) {
	for k, v := range h {
		if strings.HasPrefix(k, "X-Object-Meta-") || strings.HasPrefix(k, "X-Object-Sysmeta-") ||
			strings.HasPrefix(k, "X-Object-Transient-Sysmeta-") {
			md[k] = v[0]
		}
	}
	for _, k := range allowedHeaders {
		if v := h.Get(k); v != "" {
			md[k] = v
		}
	}
}

// isUserKey tells the metadata a POST replaces wholesale.
func isUserKey(k string) bool {
	if strings.HasPrefix(k, "X-Object-Meta-") || strings.HasPrefix(k, "X-Object-Transient-Sysmeta-") {
		return true
	}
	for _, a := range allowedHeaders {
		if k == a {
			return true
		}
	}
	return false
}
