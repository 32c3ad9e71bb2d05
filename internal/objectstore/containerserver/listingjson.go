package containerserver

import (
	"strconv"
	"strings"
	"time"
)

// appendObjectsJSON renders a JSON object listing byte for byte as
// encodeJSON does with []objectJSON, without reflection: a full listing
// of 10,000 names spent a third of its CPU in encoding/json and in
// formatting timestamps.
func appendObjectsJSON(b []byte, entries []Entry[ObjectRecord]) []byte {
	b = append(b, '[')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		if e.Subdir != "" {
			b = append(b, `{"subdir":`...)
			b = appendJSONString(b, e.Subdir)
			b = append(b, '}')
			continue
		}
		r := e.Item
		b = append(b, '{')
		// Every field but bytes is omitted when empty, as with omitempty.
		sep := false
		field := func(k, v string) {
			if v == "" {
				return
			}
			if sep {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, k...)
			b = append(b, `":`...)
			b = appendJSONString(b, v)
			sep = true
		}
		field("name", r.Name)
		field("hash", r.ETag)
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"bytes":`...)
		b = strconv.AppendInt(b, r.Size, 10)
		sep = true
		field("content_type", r.ContentType)
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"last_modified":"`...)
		b = r.CreatedAt.appendISO(b)
		b = append(b, `"}`...)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string. Printable ASCII without
// quote or backslash (nearly every object name) is copied as is; anything
// else goes through encoding/json, so the escaping is exactly encodeJSON's.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return append(b, encodeJSON(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendISO appends ISO() without its intermediate strings.
func (t Timestamp) appendISO(b []byte) []byte {
	intPart, frac, _ := strings.Cut(t.Normal(), ".")
	sec, _ := strconv.ParseInt(intPart, 10, 64)
	units, _ := strconv.ParseInt(frac, 10, 64)
	tm := time.Unix(sec, units*10000).UTC()
	y, mo, d := tm.Date()
	h, mi, se := tm.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, se, 2)
	b = append(b, '.')
	return appendDigits(b, tm.Nanosecond()/1000, 6)
}

// appendDigits appends n zero-padded to width digits (n >= 0; a wider n
// is written whole, as Format does for years past 9999).
func appendDigits(b []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	buf[i] = byte('0' + n)
	return append(b, buf[i:]...)
}
