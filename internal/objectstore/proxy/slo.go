package proxy

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Static large objects (Swift's slo middleware): PUT ?multipart-manifest=put
// with a JSON list of {path, etag, size_bytes} checks every segment and
// stores the list as the manifest object; a GET then reads the segments in
// order. The manifest's total size and ETag (md5 of the segment ETags) are
// kept as sysmeta so a HEAD needs no segment.

const (
	maxManifestSegments = 1000
	maxManifestSize     = 8 << 20
	sloSizeKey          = "X-Object-Sysmeta-Slo-Size"
	sloEtagKey          = "X-Object-Sysmeta-Slo-Etag"
)

// sloSegment is one entry of the stored manifest (Swift's format).
type sloSegment struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
	Hash  string `json:"hash"`
}

func isManifestPut(r *http.Request) bool {
	return r.URL.Query().Get("multipart-manifest") == "put"
}

// sloManifest reads and checks the client's manifest, fills hdr with the
// large object's sysmeta and returns the body to store. It answers the
// request itself when it returns ok=false.
func (s *Server) sloManifest(rq *req, hdr http.Header) (body []byte, etag string, ok bool) {
	raw, err := io.ReadAll(io.LimitReader(rq.r.Body, maxManifestSize+1))
	if err != nil {
		rq.fail(499, "")
		return nil, "", false
	}
	if len(raw) > maxManifestSize {
		rq.fail(http.StatusRequestEntityTooLarge, "Manifest File > 8388608 bytes")
		return nil, "", false
	}
	var in []struct {
		Path      string  `json:"path"`
		Etag      *string `json:"etag"`
		SizeBytes *int64  `json:"size_bytes"`
	}
	if err := json.Unmarshal(raw, &in); err != nil || len(in) == 0 {
		rq.fail(http.StatusBadRequest, "Manifest must be valid JSON.\n")
		return nil, "", false
	}
	if len(in) > maxManifestSegments {
		rq.fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("Too many segments; max %d", maxManifestSegments))
		return nil, "", false
	}
	var problems []string
	out := make([]sloSegment, 0, len(in))
	sum := md5.New()
	var total int64
	for _, seg := range in {
		p := "/" + strings.TrimPrefix(seg.Path, "/")
		c, o, okPath := strings.Cut(p[1:], "/")
		if !okPath || c == "" || o == "" {
			problems = append(problems, seg.Path+", Invalid path")
			continue
		}
		sub := *rq
		sub.container, sub.object = c, o
		sub.owner = s.isOwner(&sub)
		if !sub.owner {
			if ci := s.containerInfo(rq, rq.account, c); !s.canRead(&sub, ci.read, false) {
				problems = append(problems, seg.Path+", 403 Forbidden")
				continue
			}
		}
		pl := s.place(s.cfg.ObjectRing, rq.account, c, o)
		resp, st := s.readFirst(rq.r.Context(), pl, http.MethodHead, "", s.backendHeaders(rq))
		if resp == nil {
			problems = append(problems, seg.Path+", "+statusLine(st))
			continue
		}
		resp.Body.Close()
		size, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
		tag := strings.Trim(resp.Header.Get("Etag"), `"`)
		if seg.SizeBytes != nil && *seg.SizeBytes != size {
			problems = append(problems, seg.Path+", Size Mismatch")
			continue
		}
		if seg.Etag != nil && *seg.Etag != "" && strings.Trim(*seg.Etag, `"`) != tag {
			problems = append(problems, seg.Path+", Etag Mismatch")
			continue
		}
		out = append(out, sloSegment{Name: p, Bytes: size, Hash: tag})
		sum.Write([]byte(tag))
		total += size
	}
	if len(problems) > 0 {
		rq.fail(http.StatusBadRequest, "Errors:\n"+strings.Join(problems, "\n"))
		return nil, "", false
	}
	etag = hex.EncodeToString(sum.Sum(nil))
	if want := strings.Trim(rq.r.Header.Get("Etag"), `"`); want != "" && want != etag {
		rq.fail(http.StatusUnprocessableEntity, "")
		return nil, "", false
	}
	hdr.Del("Etag")
	hdr.Set("X-Static-Large-Object", "True")
	hdr.Set(sloSizeKey, strconv.FormatInt(total, 10))
	hdr.Set(sloEtagKey, etag)
	body, _ = json.Marshal(out)
	return body, etag, true
}

// serveSLO answers a GET/HEAD of a manifest (resp, unread) with the large
// object. Ranges are not applied: the whole object is sent.
func (s *Server) serveSLO(rq *req, resp *http.Response) {
	defer resp.Body.Close()
	size, etag := resp.Header.Get(sloSizeKey), resp.Header.Get(sloEtagKey)
	var segs []sloSegment
	if rq.r.Method == http.MethodGet {
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifestSize)).Decode(&segs); err != nil {
			rq.fail(http.StatusServiceUnavailable, "")
			return
		}
	}
	h := rq.w.Header()
	copyBackendHeaders(h, resp.Header)
	h.Set("Etag", `"`+etag+`"`)
	h.Set("Content-Length", size)
	h.Set("X-Static-Large-Object", "True")
	h.Set("Accept-Ranges", "bytes")
	h.Del("Content-Range")
	if h.Get("Last-Modified") == "" {
		h.Set("Last-Modified", lastModified(h.Get("X-Timestamp")))
	}
	rq.w.WriteHeader(http.StatusOK)
	for _, sg := range segs {
		c, o, _ := strings.Cut(strings.TrimPrefix(sg.Name, "/"), "/")
		pl := s.place(s.cfg.ObjectRing, rq.account, c, o)
		sresp, st := s.readResuming(rq.r.Context(), pl, s.backendHeaders(rq))
		if sresp == nil || st != http.StatusOK {
			if sresp != nil {
				sresp.Body.Close()
			}
			s.log.Warn("SLO segment unreadable", "segment", sg.Name, "status", st)
			return // the short body tells the client
		}
		_, err := io.Copy(rq.w, sresp.Body)
		sresp.Body.Close()
		if err != nil {
			return
		}
	}
}

// sloDelete is DELETE ?multipart-manifest=delete: the segments, then the
// manifest, reported as a bulk delete.
func (s *Server) sloDelete(rq *req) {
	pl := s.place(s.cfg.ObjectRing, rq.account, rq.container, rq.object)
	resp, st := s.readFirst(rq.r.Context(), pl, http.MethodGet, "", s.backendHeaders(rq))
	if resp == nil {
		rq.fail(st, "")
		return
	}
	var segs []sloSegment
	if isSLO(resp.Header) {
		_ = json.NewDecoder(io.LimitReader(resp.Body, maxManifestSize)).Decode(&segs)
	}
	resp.Body.Close()
	rep := &bulkReport{status: "200 OK"}
	names := make([]string, 0, len(segs)+1)
	for _, sg := range segs {
		names = append(names, sg.Name)
	}
	names = append(names, "/"+rq.container+"/"+rq.object)
	for _, n := range names {
		c, o, _ := strings.Cut(strings.TrimPrefix(n, "/"), "/")
		sub := *rq
		sub.container, sub.object = c, o
		switch st := s.objectBackendDelete(&sub, s.backendHeaders(rq)); {
		case st/100 == 2:
			rep.deleted++
		case st == http.StatusNotFound:
			rep.notFound++
		default:
			rep.errors = append(rep.errors, [2]string{url.PathEscape(n), statusLine(st)})
		}
	}
	if len(rep.errors) > 0 {
		rep.status = "400 Bad Request"
	}
	rep.write(rq)
}

// isSLO recognizes a manifest by its sysmeta, which an object POST keeps
// (the object server replaces X-Static-Large-Object itself on POST).
func isSLO(h http.Header) bool { return h.Get(sloEtagKey) != "" }
