package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Version is an API microversion such as compute 2.53.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	return v.Major < o.Major || v.Major == o.Major && v.Minor < o.Minor
}

// AtLeast reports whether v >= o.
func (v Version) AtLeast(o Version) bool { return !v.Less(o) }

// ParseVersion parses "X.Y".
func ParseVersion(s string) (Version, error) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return Version{}, fmt.Errorf("invalid version %q", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return Version{}, fmt.Errorf("invalid version %q", s)
	}
	return Version{a, b}, nil
}

// Microversions describes one service's supported range and headers.
type Microversions struct {
	Service      string // token in OpenStack-API-Version, e.g. "compute"
	LegacyHeader string // e.g. "X-OpenStack-Nova-API-Version"; "" if none
	Min, Max     Version
}

// Negotiate reads the requested microversion from r: the standard
// "OpenStack-API-Version: <service> X.Y" header first, then the legacy one.
// No header means Min; "latest" means Max; out of range is a 406 as the API
// guidelines require, and a malformed value a 400.
func (m Microversions) Negotiate(r *http.Request) (Version, error) {
	raw := ""
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(h, ",") {
			svc, ver, ok := strings.Cut(strings.TrimSpace(part), " ")
			if ok && strings.EqualFold(svc, m.Service) {
				raw = strings.TrimSpace(ver)
			}
		}
	}
	if raw == "" && m.LegacyHeader != "" {
		raw = strings.TrimSpace(r.Header.Get(m.LegacyHeader))
	}
	switch {
	case raw == "":
		return m.Min, nil
	case strings.EqualFold(raw, "latest"):
		return m.Max, nil
	}
	v, err := ParseVersion(raw)
	if err != nil {
		return Version{}, BadRequest("Invalid API version request: %q", raw)
	}
	if v.Less(m.Min) || m.Max.Less(v) {
		return Version{}, Errorf(http.StatusNotAcceptable,
			"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, m.Min, m.Max)
	}
	return v, nil
}

// SetHeaders echoes the chosen version as the API guidelines require.
func (m Microversions) SetHeaders(w http.ResponseWriter, v Version) {
	w.Header().Set("OpenStack-API-Version", m.Service+" "+v.String())
	vary := "OpenStack-API-Version"
	if m.LegacyHeader != "" {
		w.Header().Set(m.LegacyHeader, v.String())
		vary += ", " + m.LegacyHeader
	}
	w.Header().Add("Vary", vary)
}
