package compute

import (
	"crypto/rand"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// diskGB is the local disk an instance of f takes: root, ephemeral and
// swap (MiB, rounded up), as Nova's resources_from_flavor.
func diskGB(f *Flavor) int64 { return f.RootGB + f.EphemeralGB + (f.Swap+1023)/1024 }

// intOf reads a validated integer (a JSON number or a digit string).
func intOf(v any) int {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	case float64:
		return int(x)
	}
	return 0
}

// boolOf reads Nova's parameter_types.boolean; ok is false when absent.
func boolOf(v any) (value, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "true", "1", "on", "yes":
			return true, true
		}
		return false, true
	}
	return false, false
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}

// idFromHref is Nova's get_id_from_href: the last path segment of a URL.
func idFromHref(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// sanitizeHostname is Nova's sanitize_hostname of a display name.
func sanitizeHostname(name, uuid string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r == ' ' || r == '_':
			b.WriteByte('-')
		case r < unicode.MaxASCII && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.'):
			b.WriteRune(r)
		}
	}
	h := b.String()
	if len(h) > 63 {
		h = h[:63]
	}
	h = strings.Trim(h, ".-")
	if h == "" {
		h = "server-" + uuid
	}
	return h
}

const passwordChars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword is Nova's generate_password: 12 characters without
// look-alikes.
func randomPassword(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = passwordChars[int(b[i])%len(passwordChars)]
	}
	return string(b)
}

func randomLower(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

// canonicalIP is an access address as Nova stores it (an IPAddress column,
// netaddr's text form: RFC 5952 for IPv6, e.g. ::babe:dc0c:1602); input
// that is not an address (the schema already checked) is kept.
func canonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.String()
}
