package objserver

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// Server answers Swift's object-server backend API for one node. It is
// meant for the proxy and the node's peers, not for end users: like Swift,
// it trusts the device, partition and timestamps it is given.
type Server struct {
	s *Store
}

// NewServer serves the store's devices.
func NewServer(s *Store) *Server { return &Server{s: s} }

// objReq is a parsed /<device>/<partition>/<account>/<container>/<object>.
type objReq struct {
	dev, part, account, container, object, hash string
}

func (o objReq) name() string { return "/" + o.account + "/" + o.container + "/" + o.object }

func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthcheck":
		srv.healthcheck(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/recon/"):
		srv.recon(w, r)
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPost:
		o, ok := srv.parseObject(w, r)
		if !ok {
			return
		}
		switch r.Method {
		case http.MethodPut:
			srv.put(w, r, o)
		case http.MethodGet, http.MethodHead:
			srv.get(w, r, o)
		case http.MethodDelete:
			srv.delete(w, r, o)
		case http.MethodPost:
			srv.post(w, r, o)
		}
	case methodReplicate:
		srv.replicate(w, r)
	case methodSuffixList:
		srv.suffixList(w, r)
	case methodSync:
		srv.sync(w, r)
	default:
		fail(w, http.StatusMethodNotAllowed, "")
	}
}

// parseObject validates the path and the device; it answers the request
// itself when it returns false.
func (srv *Server) parseObject(w http.ResponseWriter, r *http.Request) (objReq, bool) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) != 5 {
		fail(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
		return objReq{}, false
	}
	for _, p := range parts {
		if p == "" {
			fail(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
			return objReq{}, false
		}
	}
	o := objReq{dev: parts[0], part: parts[1], account: parts[2], container: parts[3], object: parts[4]}
	if !validPartition(o.part) || !validDevice(o.dev) {
		fail(w, http.StatusBadRequest, "Invalid path: "+r.URL.Path)
		return objReq{}, false
	}
	if err := srv.s.checkDevice(o.dev); err != nil {
		fail(w, http.StatusInsufficientStorage, "")
		return objReq{}, false
	}
	o.hash = srv.s.cfg.HashPath.ObjectHash(o.account, o.container, o.object)
	return o, true
}

func validPartition(p string) bool {
	if p == "" || len(p) > 10 || !allDigits(p) {
		return false
	}
	_, err := strconv.ParseUint(p, 10, 32)
	return err == nil
}

// requireTimestamp reads X-Timestamp, answering 400 as Swift does when it
// is missing or malformed.
func requireTimestamp(w http.ResponseWriter, r *http.Request) (Timestamp, bool) {
	v := r.Header.Get("X-Timestamp")
	if v == "" {
		fail(w, http.StatusBadRequest, "Missing timestamp")
		return Timestamp{}, false
	}
	ts, err := ParseTimestamp(v)
	if err != nil {
		fail(w, http.StatusBadRequest, fmt.Sprintf("X-Timestamp should be a UNIX timestamp float value; was %q", v))
		return Timestamp{}, false
	}
	return ts, true
}

var errBadDeleteAt = errors.New("non-integer X-Delete-At")

func parseDeleteAt(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, errBadDeleteAt
	}
	return n, nil
}

// fail writes an error the way Swift's swob does: an HTML body with the
// status title and an explanation.
func fail(w http.ResponseWriter, status int, detail string) {
	if detail == "" {
		detail = defaultExplanation[status]
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	title := http.StatusText(status)
	if status == statusClientDisconnect {
		title = "Client Disconnect"
	}
	// detail may echo the request path, so it is escaped like any HTML text.
	fmt.Fprintf(w, "<html><h1>%s</h1><p>%s</p></html>", title, html.EscapeString(detail))
}

var defaultExplanation = map[int]string{
	http.StatusBadRequest:            "The server could not comply with the request since it is either malformed or otherwise incorrect.",
	http.StatusNotFound:              "The resource could not be found.",
	http.StatusMethodNotAllowed:      "The method is not allowed for this resource.",
	http.StatusConflict:              "There was a conflict when trying to complete your request.",
	http.StatusLengthRequired:        "Length Required",
	http.StatusPreconditionFailed:    "A precondition for this request was not met.",
	http.StatusUnprocessableEntity:   "Unable to process the contained instructions",
	http.StatusInsufficientStorage:   "There was not enough space to save the resource. Drive: unavailable or full",
	http.StatusInternalServerError:   "The server has either erred or is incapable of performing the requested operation.",
	http.StatusRequestEntityTooLarge: "The body of your request was too large for this server.",
	statusClientDisconnect:           "The client disconnected while reading the request.",
}

// statusClientDisconnect is Swift's 499: the body ended early.
const statusClientDisconnect = 499

// internalError logs a bug or I/O failure and answers 500.
func (srv *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	srv.s.log.Error("object server error", "method", r.Method, "path", r.URL.Path, "err", err)
	fail(w, http.StatusInternalServerError, "")
}
