package compute

import (
	"context"

	"kumo/internal/platform/httpapi"
)

// Microversion is a compute API microversion, such as 2.55.
type Microversion httpapi.Version

// AtLeast reports whether m >= major.minor: the test a handler makes
// before it adds a field introduced by a microversion.
func (m Microversion) AtLeast(major, minor int) bool {
	return httpapi.Version(m).AtLeast(httpapi.Version{Major: major, Minor: minor})
}

func (m Microversion) String() string { return httpapi.Version(m).String() }

// within reports whether min <= m <= max; a zero bound is no bound.
func (m Microversion) within(min, max Microversion) bool {
	if min != (Microversion{}) && !m.AtLeast(min.Major, min.Minor) {
		return false
	}
	if max != (Microversion{}) && m.AtLeast(max.Major, max.Minor) && m != max {
		return false
	}
	return true
}

// V is a short way to write a Microversion in route tables.
func V(major, minor int) Microversion { return Microversion{major, minor} }

type microversionKey struct{}

// MicroversionFrom returns the request's negotiated microversion (2.1
// when ctx carries none).
func MicroversionFrom(ctx context.Context) Microversion {
	if m, ok := ctx.Value(microversionKey{}).(Microversion); ok {
		return m
	}
	return minVersion
}
