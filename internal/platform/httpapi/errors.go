// Package httpapi holds the HTTP plumbing every kumo service shares: the
// server with graceful shutdown, request ids, the access log, body limits,
// OpenStack error bodies, JSON decoding, version documents and microversion
// negotiation. It knows nothing about any one service.
package httpapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an OpenStack API error: an HTTP status and a message meant for the
// user. Domain code returns it; the service's Renderer turns it into the
// service's own fault body exactly once.
type Error struct {
	Status  int
	Message string
	// Header holds extra response headers (e.g. WWW-Authenticate on 401).
	Header http.Header
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Common constructors, named for the status they carry.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}
func Unauthorized(format string, args ...any) *Error {
	return Errorf(http.StatusUnauthorized, format, args...)
}
func Forbidden(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, format, args...)
}
func NotFound(format string, args ...any) *Error { return Errorf(http.StatusNotFound, format, args...) }
func Conflict(format string, args ...any) *Error { return Errorf(http.StatusConflict, format, args...) }

// AsError extracts an *Error from err; any other error is an internal one.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Renderer writes an error in one service's own fault format. Each service
// supplies one (Keystone, Nova, Glance and Swift all differ).
type Renderer func(w http.ResponseWriter, r *http.Request, e *Error)
