package proxy

import (
	"crypto/hmac"
	"crypto/subtle"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// FormPost, as Swift's formpost middleware: a browser form POSTed to
// /v1/<account>/<container>[/<prefix>] as multipart/form-data uploads its
// files as <prefix><filename>, authorized by an HMAC of
// "path\nredirect\nmax_file_size\nmax_file_count\nexpires" with a temp URL
// key of the account or container instead of a token.

// formValueMax bounds one non-file form field, as Swift's MAX_VALUE_LENGTH.
const formValueMax = 4096

// formMaxParts bounds the parts of one form read before giving up.
const formMaxParts = 1000

func isFormPost(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// formError is a form Swift rejects: 400 (invalid) or 401 (unauthorized).
type formError struct {
	status int
	msg    string
}

func (e *formError) Error() string { return e.msg }

// errFileTooBig marks a file part longer than max_file_size.
var errFileTooBig = errors.New("max_file_size exceeded")

// cappedReader fails once more than n bytes are read.
type cappedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	if c.n < 0 {
		c.exceeded = true
		return 0, errFileTooBig
	}
	return k, err
}

func (s *Server) formPost(rq *req) {
	if rq.container == "" {
		formReply(rq, http.StatusUnauthorized, "FormPost: Invalid Signature") // no container, no keys
		return
	}
	_, params, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if params["boundary"] == "" {
		formReply(rq, http.StatusBadRequest, "FormPost: invalid starting boundary")
		return
	}
	status, message, attrs, err := s.formFiles(rq, multipart.NewReader(rq.r.Body, params["boundary"]))
	var fe *formError
	if errors.As(err, &fe) {
		if fe.status == http.StatusUnauthorized {
			formReply(rq, fe.status, "FormPost: "+pyTitle(fe.msg))
			return
		}
		formReply(rq, fe.status, "FormPost: "+fe.msg)
		return
	}
	if err != nil {
		formReply(rq, http.StatusBadRequest, "FormPost: invalid starting boundary")
		return
	}
	line := strconv.Itoa(status) + " " + http.StatusText(status)
	redirect := attrs["redirect"]
	if redirect == "" {
		body := line
		if message != "" {
			body += "\r\nFormPost: " + pyTitle(message)
		}
		formReply(rq, status, body)
		return
	}
	if strings.Contains(redirect, "?") {
		redirect += "&"
	} else {
		redirect += "?"
	}
	redirect += "status=" + url.QueryEscape(strconv.Itoa(status)) + "&message=" + url.QueryEscape(message)
	body := `<html><body><p><a href="` + html.EscapeString(redirect) + `">Click to continue...</a></p></body></html>`
	h := rq.w.Header()
	h.Set("Location", redirect)
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(http.StatusSeeOther)
	_, _ = io.WriteString(rq.w, body)
}

func formReply(rq *req, status int, body string) {
	h := rq.w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(status)
	_, _ = io.WriteString(rq.w, body)
}

// formFiles reads the form, uploading each file part as it comes; it
// returns the last upload's status and the message Swift reports.
func (s *Server) formFiles(rq *req, mr *multipart.Reader) (int, string, map[string]string, error) {
	attrs := map[string]string{}
	status, message, files := 0, "", 0
	var keys []string
	for range formMaxParts {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "", attrs, err
		}
		if !formHasFilename(part) {
			b, _ := io.ReadAll(io.LimitReader(part, formValueMax))
			attrs[strings.ToLower(part.FormName())] = strings.TrimRight(string(b), "\r\n-")
			continue
		}
		files++
		maxCount := 0
		if v := attrs["max_file_count"]; v != "" {
			if maxCount, err = strconv.Atoi(v); err != nil {
				return 0, "", attrs, &formError{http.StatusBadRequest, "max_file_count not an integer"}
			}
		}
		if files > maxCount {
			return 0, "", attrs, &formError{http.StatusBadRequest, "max file count exceeded"}
		}
		if keys == nil {
			keys = s.tempURLKeys(rq)
		}
		st, err := s.formUpload(rq, attrs, part, keys)
		if err != nil {
			var fe *formError
			if errors.As(err, &fe) && fe.status == http.StatusUnauthorized && attrs["redirect"] != "" {
				status, message = http.StatusUnauthorized, fe.msg
				break
			}
			return 0, "", attrs, err
		}
		status = st
		if st/100 != 2 {
			break
		}
	}
	if status == 0 {
		status, message = http.StatusBadRequest, "no files to process"
	}
	return status, message, attrs, nil
}

// formHasFilename tells a file part: its Content-Disposition has a
// filename parameter, even an empty one.
func formHasFilename(p *multipart.Part) bool {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return false
	}
	_, ok := params["filename"]
	return ok
}

// formUpload checks the form's signature and expiry and PUTs one file.
func (s *Server) formUpload(rq *req, attrs map[string]string, part *multipart.Part, keys []string) (int, error) {
	maxSize := int64(0)
	if v := attrs["max_file_size"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, &formError{http.StatusBadRequest, "max_file_size not an integer"}
		}
		maxSize = n
	}
	hdr := http.Header{}
	if v, ok := attrs["x_delete_at"]; ok {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return 0, &formError{http.StatusBadRequest, "x_delete_at not an integer: Unix timestamp required."}
		}
		hdr.Set("X-Delete-At", v)
	}
	if v, ok := attrs["x_delete_after"]; ok {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return 0, &formError{http.StatusBadRequest, "x_delete_after not an integer: Number of seconds required."}
		}
		hdr.Set("X-Delete-After", v)
	}
	ct := attrs["content-type"]
	if ct == "" {
		ct = part.Header.Get("Content-Type")
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	if v := attrs["content-encoding"]; v != "" {
		hdr.Set("Content-Encoding", v)
	}
	expires := int64(0)
	if v := attrs["expires"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, &formError{http.StatusBadRequest, "expired not an integer"}
		}
		expires = n
	}
	if expires < s.cfg.Now().Unix() {
		return 0, &formError{http.StatusUnauthorized, "form expired"}
	}
	orDefault := func(k, d string) string {
		if v := attrs[k]; v != "" {
			return v
		}
		return d
	}
	signed := rq.r.URL.Path + "\n" + attrs["redirect"] + "\n" + orDefault("max_file_size", "0") + "\n" +
		orDefault("max_file_count", "0") + "\n" + orDefault("expires", "0")
	digest, sig, ok := parseSig(attrs["signature"])
	valid := false
	for _, k := range keys {
		if !ok {
			break
		}
		mac := hmac.New(digest, []byte(k))
		mac.Write([]byte(signed))
		if subtle.ConstantTimeCompare(mac.Sum(nil), sig) == 1 {
			valid = true
		}
	}
	if !valid {
		return 0, &formError{http.StatusUnauthorized, "invalid signature"}
	}
	name := part.FileName()
	if name == "" {
		name = "filename"
	}
	obj := rq.object + name // the form's path is the names' prefix
	sub := *rq
	sub.owner, sub.token = true, nil // pre-authorized by the signature
	body := &cappedReader{r: part, n: maxSize}
	sr := s.subrequestStream(rq.r.Context(), &sub, http.MethodPut, rq.objectPath(rq.container, obj), "", hdr, body, -1, false)
	if body.exceeded {
		return 0, &formError{http.StatusBadRequest, "max_file_size exceeded"}
	}
	return sr.status, nil
}

// pyTitle is Python's str.title(), which Swift applies to its messages:
// each run of letters starts upper case, the rest lower.
func pyTitle(v string) string {
	var b strings.Builder
	prevLetter := false
	for _, r := range v {
		letter := unicode.IsLetter(r)
		switch {
		case letter && !prevLetter:
			b.WriteRune(unicode.ToUpper(r))
		case letter:
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		prevLetter = letter
	}
	return b.String()
}
