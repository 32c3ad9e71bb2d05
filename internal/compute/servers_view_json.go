package compute

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Append-style JSON for the servers lists: the same bytes encoding/json's
// Marshal writes for the map views (sorted keys, HTML escaping, no
// trailing newline), without building maps or reflecting over them.

// jsonPlain says whether Marshal writes s between quotes unchanged:
// printable ASCII other than the quote, backslash and the HTML-escaped
// <, > and &.
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x20 || b > 0x7e || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
			return false
		}
	}
	return true
}

// appendStr appends s as a JSON string with Marshal's escapes: \" \\ \b
// \f \n \r \t, \u00XX for other control bytes and the HTML-escaped <, >
// and &, \ufffd for each invalid UTF-8 byte, \u2028 and \u2029
// (servers_view_json_test.go checks it against Marshal).
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	if jsonPlain(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendStr2 appends the JSON string of a+z without concatenating them
// when both are plain.
func appendStr2(b []byte, a, z string) []byte {
	if jsonPlain(a) && jsonPlain(z) {
		b = append(b, '"')
		b = append(b, a...)
		b = append(b, z...)
		return append(b, '"')
	}
	return appendStr(b, a+z)
}

func appendStrPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendStr(b, *s)
}

// appendNullable is nullable(s): null for "".
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendStr(b, s)
}

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// appendISO is isoTime(t) as a JSON string.
func appendISO(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, '"')
}

// appendOptTime is optTime(t): null or novaTime.
func appendOptTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000")
	return append(b, '"')
}

// appendStrMap is a map[string]string as Marshal writes it (sorted keys).
func appendStrMap(b []byte, m map[string]string) []byte {
	if len(m) == 0 {
		return append(b, "{}"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, k)
		b = append(b, ':')
		b = appendStr(b, m[k])
	}
	return append(b, '}')
}

// sortStrings is an insertion sort: metadata and extra specs are small.
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// appendLink is one {"href", "rel"} link of prefix+id.
func appendLink(b []byte, prefix, id, rel string) []byte {
	b = append(b, `{"href":`...)
	b = appendStr2(b, prefix, id)
	b = append(b, `,"rel":`...)
	b = appendStr(b, rel)
	return append(b, '}')
}

// jsonBufs keeps a few answer buffers of list requests between requests
// (a sync.Pool would lose them at each collection, frequent when pages
// are large); very large ones are left to the collector.
var jsonBufs = make(chan []byte, 8)

const maxPooledBuf = 8 << 20

func getJSONBuf() []byte {
	select {
	case b := <-jsonBufs:
		return b[:0]
	default:
		return make([]byte, 0, 64<<10)
	}
}

func putJSONBuf(b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	select {
	case jsonBufs <- b[:0]:
	default:
	}
}

// writeJSONBytes answers status with body as httpapi.WriteJSON does.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	// A list answer is up to a megabyte: sent whole, not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
