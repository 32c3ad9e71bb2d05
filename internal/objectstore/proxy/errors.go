package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Swift's proxy answers errors with swob's short HTML pages, or with a
// plain-text explanation where Swift gives one.
var statusPages = map[int][2]string{
	http.StatusBadRequest:                   {"Bad Request", "The server could not comply with the request since it is either malformed or otherwise incorrect."},
	http.StatusUnauthorized:                 {"Unauthorized", "This server could not verify that you are authorized to access the document you requested."},
	http.StatusForbidden:                    {"Forbidden", "Access was denied to this resource."},
	http.StatusNotFound:                     {"Not Found", "The resource could not be found."},
	http.StatusMethodNotAllowed:             {"Method Not Allowed", "The method is not allowed for this resource."},
	http.StatusNotAcceptable:                {"Not Acceptable", "The request is not acceptable."},
	http.StatusConflict:                     {"Conflict", "There was a conflict when trying to complete your request."},
	http.StatusLengthRequired:               {"Length Required", "Length Required"},
	http.StatusPreconditionFailed:           {"Precondition Failed", "A precondition for this request was not met."},
	http.StatusRequestEntityTooLarge:        {"Request Entity Too Large", "The body of your request was too large for this server."},
	http.StatusRequestedRangeNotSatisfiable: {"Requested Range Not Satisfiable", "The Range requested is not available."},
	http.StatusUnprocessableEntity:          {"Unprocessable Entity", "Unable to process the contained instructions"},
	http.StatusInternalServerError:          {"Internal Error", "The server has either erred or is incapable of performing the requested operation."},
	http.StatusServiceUnavailable:           {"Service Unavailable", "The server is currently unavailable. Please try again at a later time."},
	499:                                     {"Client Disconnect", "The client was disconnected during request."},
}

// fail answers an error. An empty msg gives swob's HTML page; a message is
// sent as text/plain, as Swift's constraint checks do.
func (rq *req) fail(status int, msg string) {
	h := rq.w.Header()
	var body string
	if msg == "" {
		p, ok := statusPages[status]
		if !ok {
			p = [2]string{http.StatusText(status), http.StatusText(status)}
		}
		body = "<html><h1>" + p[0] + "</h1><p>" + p[1] + "</p></html>"
		h.Set("Content-Type", "text/html; charset=UTF-8")
	} else {
		body = msg
		h.Set("Content-Type", "text/plain; charset=UTF-8")
	}
	if rq.r.Method == http.MethodHead {
		body = ""
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(status)
	_, _ = rq.w.Write([]byte(body))
}

// empty answers a success without a body; Swift labels even those
// text/html, which Tempest requires (Content-Type on every response).
func (rq *req) empty(status int) {
	h := rq.w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/html; charset=UTF-8")
	}
	h.Set("Content-Length", "0")
	rq.w.WriteHeader(status)
}

func validUTF8(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
