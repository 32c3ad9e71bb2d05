package compute

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// newUUID returns a random (version 4) UUID in its canonical text form.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// novaTime formats a time as Nova's API does for most timestamps
// (ISO 8601, microseconds, no zone).
func novaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }
