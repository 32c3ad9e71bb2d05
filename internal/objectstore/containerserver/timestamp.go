package containerserver

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Timestamp is Swift's normalized timestamp text: ten integer digits, a dot,
// five fractional digits, and an optional "_" plus 16 hex digits of offset.
// Fixed width means plain string comparison orders timestamps, which is how
// the databases compare them too.
type Timestamp string

// zeroTimestamp is the "never" value Swift stores for unset timestamps.
const zeroTimestamp Timestamp = "0000000000.00000"

// ParseTimestamp accepts the forms Swift accepts in X-Timestamp: a decimal
// number of seconds since the epoch (optionally with an "_<hex>" offset).
func ParseTimestamp(s string) (Timestamp, error) {
	base, off, hasOff := strings.Cut(s, "_")
	if base == "" || len(s) > 64 {
		return "", fmt.Errorf("invalid timestamp %q", s)
	}
	f, err := strconv.ParseFloat(base, 64)
	if err != nil || f < 0 || f >= 1e10 || strings.ContainsAny(base, "eEinfINFxX+-") {
		return "", fmt.Errorf("invalid timestamp %q", s)
	}
	// Round to Swift's 10µs precision from the decimal text, not the float,
	// so "1.000015" stays exact.
	intPart, frac, _ := strings.Cut(base, ".")
	if intPart == "" {
		intPart = "0"
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return "", fmt.Errorf("invalid timestamp %q", s)
	}
	frac = (frac + "000000")[:6]
	units, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return "", fmt.Errorf("invalid timestamp %q", s)
	}
	units = (units + 5) / 10 // 10µs units, half up
	if units >= 100000 {
		sec, units = sec+1, units-100000
	}
	if sec >= 1e10 {
		return "", fmt.Errorf("invalid timestamp %q", s)
	}
	t := fmt.Sprintf("%010d.%05d", sec, units)
	if hasOff {
		o, err := strconv.ParseUint(off, 16, 64)
		if err != nil {
			return "", fmt.Errorf("invalid timestamp offset %q", s)
		}
		if o > 0 {
			t += fmt.Sprintf("_%016x", o)
		}
	}
	return Timestamp(t), nil
}

// TimestampFromTime converts a wall-clock time.
func TimestampFromTime(t time.Time) Timestamp {
	u := t.UnixMicro()
	units := (u + 5) / 10
	return Timestamp(fmt.Sprintf("%010d.%05d", units/100000, units%100000))
}

// Now is the current time as a Timestamp.
func Now() Timestamp { return TimestampFromTime(time.Now()) }

// Internal is the timestamp without its offset, as Swift's X-Timestamp and
// X-PUT-Timestamp headers show it.
func (t Timestamp) Internal() string { return string(t) }

// Normal drops the offset.
func (t Timestamp) Normal() string {
	s, _, _ := strings.Cut(string(t), "_")
	return s
}

// ISO is the listing's last_modified: UTC, always with microseconds.
func (t Timestamp) ISO() string {
	n := t.Normal()
	intPart, frac, _ := strings.Cut(n, ".")
	sec, _ := strconv.ParseInt(intPart, 10, 64)
	units, _ := strconv.ParseInt(frac, 10, 64)
	tm := time.Unix(sec, units*10000).UTC()
	return tm.Format("2006-01-02T15:04:05.000000")
}

// maxTS returns the later of two timestamps.
func maxTS(a, b Timestamp) Timestamp {
	if a > b {
		return a
	}
	return b
}
