package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRangesAndConditionals: single and multiple ranges, 416, If-Match,
// If-None-Match (GET 304, PUT * 412), If-(Un)Modified-Since.
func TestRangesAndConditionals(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/c", c.alice, nil)
	body := []byte("0123456789abcdefghij")
	etag := c.must(201, "PUT", a+"/c/o", c.alice, body).header.Get("Etag")

	r := c.must(206, "GET", a+"/c/o", c.alice, nil, "Range", "bytes=2-5")
	if string(r.body) != "2345" || r.header.Get("Content-Range") != "bytes 2-5/20" {
		t.Fatalf("range: %q %v", r.body, r.header)
	}
	r = c.must(206, "GET", a+"/c/o", c.alice, nil, "Range", "bytes=-3")
	if string(r.body) != "hij" {
		t.Fatalf("suffix range %q", r.body)
	}
	r = c.must(206, "GET", a+"/c/o", c.alice, nil, "Range", "bytes=0-1,10-11")
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("multi-range type %q", r.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, string(b))
	}
	if strings.Join(parts, ",") != "01,ab" {
		t.Fatalf("multi-range parts %q", parts)
	}
	c.must(416, "GET", a+"/c/o", c.alice, nil, "Range", "bytes=100-200")

	c.must(200, "GET", a+"/c/o", c.alice, nil, "If-Match", etag)
	c.must(412, "GET", a+"/c/o", c.alice, nil, "If-Match", "0000")
	r = c.must(304, "GET", a+"/c/o", c.alice, nil, "If-None-Match", etag)
	if r.header.Get("Etag") != etag {
		t.Errorf("304 without Etag: %v", r.header)
	}
	c.must(200, "GET", a+"/c/o", c.alice, nil, "If-None-Match", "0000")
	lm := r.header.Get("Last-Modified")
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	c.must(304, "GET", a+"/c/o", c.alice, nil, "If-Modified-Since", future)
	c.must(200, "GET", a+"/c/o", c.alice, nil, "If-Modified-Since", past)
	c.must(412, "GET", a+"/c/o", c.alice, nil, "If-Unmodified-Since", past)
	c.must(200, "GET", a+"/c/o", c.alice, nil, "If-Unmodified-Since", future)
	if lm == "" {
		t.Error("no Last-Modified on 304")
	}

	c.must(412, "PUT", a+"/c/o", c.alice, []byte("again"), "If-None-Match", "*")
	c.must(201, "PUT", a+"/c/new", c.alice, []byte("first"), "If-None-Match", "*")
	c.must(400, "PUT", a+"/c/o", c.alice, []byte("x"), "If-None-Match", etag)
}

// TestUploadChecks: ETag verification, chunked uploads, Content-Type
// detection, size and length rules.
func TestUploadChecks(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/c", c.alice, nil)
	body := []byte("checked body")
	c.must(201, "PUT", a+"/c/good", c.alice, body, "Etag", md5hex(body))
	c.must(201, "PUT", a+"/c/quoted", c.alice, body, "Etag", `"`+md5hex(body)+`"`)
	c.must(422, "PUT", a+"/c/bad", c.alice, body, "Etag", md5hex([]byte("other")))
	c.must(404, "GET", a+"/c/bad", c.alice, nil)
	if n, _ := c.dataFiles("AUTH_"+c.projA, "c", "bad"); n != 0 {
		t.Fatalf("a 422 upload left %d files", n)
	}

	// Chunked transfer encoding: the length is unknown up front.
	big := bytes.Repeat([]byte("chunk"), 50000)
	req, _ := http.NewRequest("PUT", c.url+a+"/c/chunked", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("X-Auth-Token", c.alice)
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 || res.Header.Get("Etag") != md5hex(big) {
		t.Fatalf("chunked PUT: %d %v", res.StatusCode, res.Header)
	}
	r := c.must(200, "GET", a+"/c/chunked", c.alice, nil)
	if !bytes.Equal(r.body, big) || r.header.Get("Content-Length") != strconv.Itoa(len(big)) {
		t.Fatalf("chunked read back %d bytes", len(r.body))
	}

	for name, want := range map[string]string{"x.html": "text/html", "x.png": "image/png", "noext": "application/octet-stream"} {
		c.must(201, "PUT", a+"/c/"+name, c.alice, []byte("x"))
		if got := c.must(200, "HEAD", a+"/c/"+name, c.alice, nil).header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
	}
	c.must(201, "PUT", a+"/c/given.png", c.alice, []byte("x"), "Content-Type", "application/x-mine")
	if got := c.must(200, "HEAD", a+"/c/given.png", c.alice, nil).header.Get("Content-Type"); got != "application/x-mine" {
		t.Errorf("given Content-Type replaced: %q", got)
	}

	// Length Required without Content-Length or chunking.
	// (Go's client always sends a length, so this one is written by hand.)
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s/c/nolen HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nConnection: close\r\n\r\n", a, c.alice)
	res, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 411 {
		t.Fatalf("PUT without length: %d", res.StatusCode)
	}
	c.must(201, "PUT", a+"/c/empty", c.alice, []byte{}, "Content-Length", "0")
	if r := c.must(200, "GET", a+"/c/empty", c.alice, nil); len(r.body) != 0 || r.header.Get("Etag") != md5hex(nil) {
		t.Fatalf("empty object %v", r.header)
	}
}

// TestTooLarge: an object over max_file_size is refused (413) whether the
// length is declared or only found while streaming.
func TestTooLarge(t *testing.T) {
	c := newCluster(t)
	c.proxy.cfg.MaxFileSize = 1000
	a := c.acctA
	c.must(201, "PUT", a+"/c", c.alice, nil)
	c.must(413, "PUT", a+"/c/big", c.alice, make([]byte, 1001))
	req, _ := http.NewRequest("PUT", c.url+a+"/c/bigchunked", io.MultiReader(bytes.NewReader(make([]byte, 5000))))
	req.Header.Set("X-Auth-Token", c.alice)
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("chunked too large: %d", res.StatusCode)
	}
	c.must(404, "HEAD", a+"/c/bigchunked", c.alice, nil)
	c.must(201, "PUT", a+"/c/fits", c.alice, make([]byte, 1000))
}

// TestCopy: COPY with Destination and PUT with X-Copy-From, metadata
// inheritance, X-Fresh-Metadata, and cross-account copies.
func TestCopy(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/src", c.alice, nil)
	c.must(201, "PUT", a+"/dst", c.alice, nil)
	body := []byte("copy me")
	c.must(201, "PUT", a+"/src/o", c.alice, body, "X-Object-Meta-Color", "red", "Content-Type", "text/x-test")

	r := c.must(201, "COPY", a+"/src/o", c.alice, nil, "Destination", "dst/o2", "X-Object-Meta-Size", "s")
	if r.header.Get("X-Copied-From") != "src/o" || r.header.Get("X-Object-Meta-Color") != "red" || r.header.Get("X-Copied-From-Last-Modified") == "" ||
		r.header.Get("Etag") != md5hex(body) || r.header.Get("Last-Modified") == "" {
		t.Fatalf("COPY headers %v", r.header)
	}
	r = c.must(200, "GET", a+"/dst/o2", c.alice, nil)
	if string(r.body) != "copy me" || r.header.Get("X-Object-Meta-Color") != "red" || r.header.Get("X-Object-Meta-Size") != "s" ||
		r.header.Get("Content-Type") != "text/x-test" {
		t.Fatalf("copied object %q %v", r.body, r.header)
	}
	c.must(201, "PUT", a+"/dst/o3", c.alice, []byte{}, "X-Copy-From", "/src/o", "X-Fresh-Metadata", "true")
	r = c.must(200, "GET", a+"/dst/o3", c.alice, nil)
	if string(r.body) != "copy me" || r.header.Get("X-Object-Meta-Color") != "" {
		t.Fatalf("fresh-metadata copy %q %v", r.body, r.header)
	}
	c.must(404, "COPY", a+"/src/missing", c.alice, nil, "Destination", "dst/x")
	c.must(412, "COPY", a+"/src/o", c.alice, nil)
	c.must(412, "COPY", a+"/src/o", c.alice, nil, "Destination", "nocontainer")
	c.must(404, "COPY", a+"/src/o", c.alice, nil, "Destination", "nosuch/o")
	c.must(400, "PUT", a+"/dst/o4", c.alice, []byte("body"), "X-Copy-From", "src/o")

	// Cross-account: bob copies into his account from a container he may read.
	c.must(201, "PUT", c.acctB+"/b", c.bob, nil)
	c.must(403, "PUT", c.acctB+"/b/stolen", c.bob, []byte{}, "X-Copy-From", "src/o", "X-Copy-From-Account", "AUTH_"+c.projA)
	c.must(204, "POST", a+"/src", c.alice, nil, "X-Container-Read", c.projB+":*")
	r = c.must(201, "PUT", c.acctB+"/b/shared", c.bob, []byte{}, "X-Copy-From", "src/o", "X-Copy-From-Account", "AUTH_"+c.projA)
	if r.header.Get("X-Copied-From-Account") != "AUTH_"+c.projA {
		t.Errorf("X-Copied-From-Account %q", r.header.Get("X-Copied-From-Account"))
	}
	if got := c.must(200, "GET", c.acctB+"/b/shared", c.bob, nil).body; string(got) != "copy me" {
		t.Fatalf("cross-account copy %q", got)
	}
}

// TestExpiry: X-Delete-After becomes X-Delete-At; expired objects are
// gone; bad values are 400.
func TestExpiry(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/c", c.alice, nil)
	c.must(201, "PUT", a+"/c/later", c.alice, []byte("x"), "X-Delete-After", "3600")
	r := c.must(200, "HEAD", a+"/c/later", c.alice, nil)
	at, _ := strconv.ParseInt(r.header.Get("X-Delete-At"), 10, 64)
	if d := at - time.Now().Unix(); d < 3590 || d > 3610 {
		t.Fatalf("X-Delete-At %q", r.header.Get("X-Delete-At"))
	}
	c.must(201, "PUT", a+"/c/soon", c.alice, []byte("x"), "X-Delete-At", strconv.FormatInt(time.Now().Unix()+2, 10))
	c.must(200, "GET", a+"/c/soon", c.alice, nil)
	eventually(t, func() string {
		if r := c.do("GET", a+"/c/soon", c.alice, nil); r.status != 404 {
			return "expired object still served: " + strconv.Itoa(r.status)
		}
		return ""
	})
	c.must(202, "POST", a+"/c/later", c.alice, nil, "X-Delete-After", "10")
	if r := c.must(200, "HEAD", a+"/c/later", c.alice, nil); r.header.Get("X-Delete-At") == "" {
		t.Fatal("POST X-Delete-After lost")
	}
	c.must(400, "PUT", a+"/c/x", c.alice, []byte("x"), "X-Delete-At", "12")
	c.must(400, "PUT", a+"/c/x", c.alice, []byte("x"), "X-Delete-At", "soon")
	c.must(400, "PUT", a+"/c/x", c.alice, []byte("x"), "X-Delete-After", "-5")
	c.must(400, "POST", a+"/c/later", c.alice, nil, "X-Delete-After", "x")
}

// A POST with a Content-Type changes it in the container listing too, as in
// Swift; one without leaves the listing alone.
func TestPostContentTypeReachesListing(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/c", c.alice, nil)
	c.must(201, "PUT", a+"/c/o", c.alice, []byte("hello"), "Content-Type", "text/plain")
	listedType := func() string {
		t.Helper()
		var got []struct {
			Name        string `json:"name"`
			ContentType string `json:"content_type"`
			Bytes       int    `json:"bytes"`
		}
		r := c.must(200, "GET", a+"/c?format=json", c.alice, nil)
		if err := json.Unmarshal(r.body, &got); err != nil || len(got) != 1 || got[0].Bytes != 5 {
			t.Fatalf("listing %s: %v", r.body, err)
		}
		return got[0].ContentType
	}
	c.must(202, "POST", a+"/c/o", c.alice, nil, "X-Object-Meta-Color", "blue")
	if ct := listedType(); ct != "text/plain" {
		t.Fatalf("after a POST without Content-Type the listing says %q", ct)
	}
	c.must(202, "POST", a+"/c/o", c.alice, nil, "Content-Type", "text/markdown")
	if ct := listedType(); ct != "text/markdown" {
		t.Fatalf("after a POST with Content-Type the listing says %q", ct)
	}
	if r := c.must(200, "HEAD", a+"/c/o", c.alice, nil); r.header.Get("Content-Type") != "text/markdown" {
		t.Fatalf("HEAD says %q", r.header.Get("Content-Type"))
	}
}
