package objserver

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Timestamp is Swift's normalized timestamp: seconds since the epoch with
// five decimals (10 µs ticks), plus an optional offset that orders several
// events sharing one timestamp. Integers keep comparisons exact where Swift's
// floats are rounded by hand.
type Timestamp struct {
	ticks  int64 // units of 10 µs
	offset int64
}

const ticksPerSecond = 100000

var errBadTimestamp = errors.New("invalid timestamp")

// ParseTimestamp reads "1700000000.12345", "1700000000", or the internal
// form "1700000000.12345_000000000000000a". Extra decimals are rounded to
// five, as Swift does.
func ParseTimestamp(s string) (Timestamp, error) {
	var t Timestamp
	if s == "" {
		return t, errBadTimestamp
	}
	if i := strings.IndexByte(s, '_'); i >= 0 {
		off, err := strconv.ParseUint(s[i+1:], 16, 63)
		if err != nil {
			return t, errBadTimestamp
		}
		t.offset = int64(off)
		s = s[:i]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 10 || !allDigits(whole) || !allDigits(frac) {
		return t, errBadTimestamp
	}
	sec, _ := strconv.ParseInt(whole, 10, 64)
	round := false
	if len(frac) > 5 {
		round = frac[5] >= '5'
		frac = frac[:5]
	}
	frac += strings.Repeat("0", 5-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	t.ticks = sec*ticksPerSecond + f
	if round {
		t.ticks++
	}
	if t.ticks > 9999999999*ticksPerSecond+99999 {
		return Timestamp{}, errBadTimestamp
	}
	return t, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TimestampFromTime rounds t to Swift's 10 µs resolution.
func TimestampFromTime(t time.Time) Timestamp {
	return Timestamp{ticks: (t.UnixNano() + 5000) / 10000}
}

// TimestampFromUnix is the timestamp of a whole second, e.g. an X-Delete-At.
func TimestampFromUnix(sec int64) Timestamp { return Timestamp{ticks: sec * ticksPerSecond} }

// Normal is the form clients see: "%016.05f".
func (t Timestamp) Normal() string {
	return fmt.Sprintf("%010d.%05d", t.ticks/ticksPerSecond, t.ticks%ticksPerSecond)
}

// Internal is the form used in file names: Normal plus "_<16 hex>" when the
// offset is set.
func (t Timestamp) Internal() string {
	if t.offset == 0 {
		return t.Normal()
	}
	return fmt.Sprintf("%s_%016x", t.Normal(), t.offset)
}

func (t Timestamp) String() string { return t.Internal() }

// Compare orders by time, then offset.
func (t Timestamp) Compare(u Timestamp) int {
	switch {
	case t.ticks != u.ticks:
		if t.ticks < u.ticks {
			return -1
		}
		return 1
	case t.offset < u.offset:
		return -1
	case t.offset > u.offset:
		return 1
	}
	return 0
}

// IsZero reports whether t was never set.
func (t Timestamp) IsZero() bool { return t.ticks == 0 && t.offset == 0 }

// Time converts back to a time.Time.
func (t Timestamp) Time() time.Time {
	return time.Unix(t.ticks/ticksPerSecond, (t.ticks%ticksPerSecond)*10000)
}

// Ceil is the whole second at or after t: Swift's Last-Modified.
func (t Timestamp) Ceil() time.Time {
	return time.Unix(int64(math.Ceil(float64(t.ticks)/ticksPerSecond)), 0)
}
