package proxy

import (
	"fmt"
	"net/http"
	"strings"
)

// Swift's default constraints (swift.conf [swift-constraints]), also
// published in /info.
const (
	maxMetaNameLength      = 128
	maxMetaValueLength     = 256
	maxMetaCount           = 90
	maxMetaOverallSize     = 4096
	maxHeaderSize          = 8192
	maxObjectNameLength    = 1024
	maxContainerNameLength = 256
	maxAccountNameLength   = 256
	listingLimit           = 10000
)

// applyRemovals turns X-Remove-<Kind>-Meta-Foo (and X-Remove-Container-Read
// and the like) into an empty X-<Kind>-Meta-Foo, which deletes the item,
// as Swift's proxy does.
func applyRemovals(h http.Header, kind string) {
	prefix := "X-Remove-" + kind + "-"
	for k := range h {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			h.Set("X-"+kind+"-"+rest, "")
			h.Del(k)
		}
	}
}

// checkMetadata is Swift's constraints.check_metadata over one request's
// X-<Kind>-Meta-* headers; it returns the 400 message or "".
func checkMetadata(h http.Header, kind string) string {
	prefix := "X-" + kind + "-Meta-"
	count, size := 0, 0
	for k, vs := range h {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		name, value := k[len(prefix):], vs[0]
		if name == "" {
			return "Metadata name cannot be empty"
		}
		count++
		size += len(name) + len(value)
		if len(name) > maxMetaNameLength {
			return fmt.Sprintf("Metadata name too long: %s; max %d", k, maxMetaNameLength)
		}
		if len(value) > maxMetaValueLength {
			return fmt.Sprintf("Metadata value longer than %d: %s", maxMetaValueLength, k)
		}
		if count > maxMetaCount {
			return fmt.Sprintf("Too many metadata items; max %d", maxMetaCount)
		}
		if size > maxMetaOverallSize {
			return fmt.Sprintf("Total metadata too large; max %d", maxMetaOverallSize)
		}
	}
	return ""
}

// metaHeaders copies the client's X-<Kind>-Meta-* headers (never sysmeta:
// clients may not set it).
func metaHeaders(dst, src http.Header, kind string) {
	prefix := "X-" + kind + "-Meta-"
	for k, v := range src {
		if strings.HasPrefix(k, prefix) {
			dst[k] = v
		}
	}
}
