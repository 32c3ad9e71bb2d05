package proxy

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Swift's bulk middleware: ?extract-archive=tar|tar.gz|tar.bz2 on a PUT
// stores every file of an archive as an object (creating containers as
// needed), and ?bulk-delete on a DELETE or POST deletes the newline
// separated list of /container[/object] paths in the body. Both answer 200
// with a report of what happened to each item.

// maxBulkDeletes is Swift's max_deletes_per_request.
const maxBulkDeletes = 10000

// maxBulkDeleteBody bounds the list's size (a path is at most
// container + object name, escaped).
const maxBulkDeleteBody = maxBulkDeletes * 4 * (maxContainerNameLength + maxObjectNameLength)

func isBulk(r *http.Request) bool {
	q := r.URL.Query()
	return (r.Method == http.MethodPut && q.Has("extract-archive")) ||
		((r.Method == http.MethodDelete || r.Method == http.MethodPost) && q.Has("bulk-delete"))
}

// bulkReport is the result document, in the keys Swift uses.
type bulkReport struct {
	created, deleted, notFound int
	errors                     [][2]string
	status                     string
	extract                    bool
}

func (s *Server) bulk(rq *req) {
	if s.level(rq) < accessReadWrite {
		s.deny(rq)
		return
	}
	rep := &bulkReport{status: "200 OK"}
	if rq.r.Method == http.MethodPut {
		rep.extract = true
		rep.status = "201 Created"
		if msg := s.extract(rq, rep); msg != "" {
			rep.status = "400 Bad Request"
			rep.errors = append(rep.errors, [2]string{"", msg})
		}
	} else {
		s.bulkDelete(rq, rep)
	}
	if len(rep.errors) > 0 && strings.HasPrefix(rep.status, "2") {
		rep.status = "400 Bad Request"
	}
	rep.write(rq)
}

func (s *Server) extract(rq *req, rep *bulkReport) string {
	var body io.Reader = rq.r.Body
	switch rq.r.URL.Query().Get("extract-archive") {
	case "tar":
	case "tar.gz", "tgz":
		gz, err := gzip.NewReader(body)
		if err != nil {
			return "Invalid Tar File: " + err.Error()
		}
		body = gz
	case "tar.bz2", "tbz2":
		body = bzip2.NewReader(body)
	default:
		return "Unsupported archive format"
	}
	tr := tar.NewReader(body)
	made := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return "Invalid Tar File: " + err.Error()
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		dest := strings.TrimPrefix(strings.TrimLeft(h.Name, "/"), "./")
		if rq.container != "" {
			// Below a container (and prefix), the archive's paths are
			// object names; at the account, the first part names the container.
			prefix := rq.container + "/"
			if rq.object != "" {
				prefix += strings.TrimSuffix(rq.object, "/") + "/"
			}
			dest = prefix + dest
		}
		c, o, ok := strings.Cut(dest, "/")
		if !ok || c == "" || o == "" || len(o) > maxObjectNameLength || len(c) > maxContainerNameLength ||
			h.Size > s.cfg.MaxFileSize {
			rep.errors = append(rep.errors, [2]string{url.PathEscape(dest), "400 Bad Request"})
			continue
		}
		sub := *rq
		sub.container, sub.object = c, o
		if !made[c] {
			if st := s.ensureContainer(&sub); st/100 != 2 {
				rep.errors = append(rep.errors, [2]string{url.PathEscape(c), statusLine(st)})
				continue
			}
			made[c] = true
		}
		hdr := s.backendHeaders(rq)
		hdr.Set("Content-Type", detectType(o))
		hdr.Set("X-Timestamp", s.clock.next())
		res := s.streamPut(&sub, s.place(s.cfg.ObjectRing, rq.account, c, o), hdr, s.containerTargets(&sub),
			putSource{body: tr, size: h.Size})
		if res.status/100 != 2 {
			rep.errors = append(rep.errors, [2]string{url.PathEscape(dest), statusLine(res.status)})
			continue
		}
		rep.created++
	}
}

// ensureContainer creates rq's container unless it exists.
func (s *Server) ensureContainer(rq *req) int {
	if ci := s.containerInfo(rq, rq.account, rq.container); ci.status/100 == 2 {
		return ci.status
	}
	if st := s.ensureAccount(rq); st/100 != 2 {
		return st
	}
	hdr := s.backendHeaders(rq)
	hdr.Set("X-Backend-Storage-Policy-Index", "0")
	return s.containerBackendWrite(rq, http.MethodPut, hdr)
}

func (s *Server) bulkDelete(rq *req, rep *bulkReport) {
	sc := bufio.NewScanner(io.LimitReader(rq.r.Body, maxBulkDeleteBody))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if n++; n > maxBulkDeletes {
			rep.status = "413 Request Entity Too Large"
			return
		}
		name, err := url.PathUnescape(line)
		if err != nil || !validUTF8(name) {
			rep.errors = append(rep.errors, [2]string{line, "412 Precondition Failed"})
			continue
		}
		c, o, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
		sub := *rq
		sub.container, sub.object = c, o
		var st int
		if o == "" {
			st = s.containerBackendWrite(&sub, http.MethodDelete, s.backendHeaders(rq))
		} else {
			st = s.objectBackendDelete(&sub, s.backendHeaders(rq))
		}
		switch {
		case st/100 == 2:
			rep.deleted++
		case st == http.StatusNotFound:
			rep.notFound++
		default:
			rep.errors = append(rep.errors, [2]string{line, statusLine(st)})
		}
	}
	if sc.Err() != nil {
		rep.status = "400 Bad Request"
	}
}

func statusLine(st int) string { return fmt.Sprintf("%d %s", st, http.StatusText(st)) }

// write renders the report as text, JSON or XML, by Accept as Swift does.
func (rep *bulkReport) write(rq *req) {
	errs := rep.errors
	if errs == nil {
		errs = [][2]string{}
	}
	type kv struct {
		k string
		v int
	}
	fields := []kv{{"Number Files Created", rep.created}}
	if !rep.extract {
		fields = []kv{{"Number Deleted", rep.deleted}, {"Number Not Found", rep.notFound}}
	}
	ct := listingFormat(rq.r)
	var body []byte
	switch ct {
	case "application/json":
		m := map[string]any{"Response Status": rep.status, "Response Body": "", "Errors": errs}
		for _, f := range fields {
			m[f.k] = f.v
		}
		body, _ = json.Marshal(m)
	case "application/xml", "text/xml":
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<delete>")
		for _, f := range fields {
			tag := strings.ToLower(strings.ReplaceAll(f.k, " ", "_"))
			fmt.Fprintf(&b, "<%s>%v</%s>", tag, f.v, tag)
		}
		fmt.Fprintf(&b, "<response_status>%s</response_status><response_body></response_body><errors>", rep.status)
		for _, e := range errs {
			b.WriteString("<object><name>")
			_ = xml.EscapeText(&b, []byte(e[0]))
			b.WriteString("</name><status>" + e[1] + "</status></object>")
		}
		b.WriteString("</errors></delete>\n")
		body = []byte(b.String())
	default:
		var b strings.Builder
		for _, f := range fields {
			fmt.Fprintf(&b, "%s: %v\n", f.k, f.v)
		}
		fmt.Fprintf(&b, "Response Body: \nResponse Status: %s\nErrors:\n", rep.status)
		for _, e := range errs {
			fmt.Fprintf(&b, "%s, %s\n", e[0], e[1])
		}
		body = []byte(b.String())
	}
	h := rq.w.Header()
	h.Set("Content-Type", ct+"; charset=utf-8")
	h.Set("Content-Length", itoa(len(body)))
	rq.w.WriteHeader(http.StatusOK)
	_, _ = rq.w.Write(body)
}
