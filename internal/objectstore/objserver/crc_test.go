package objserver

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"kumo/internal/objectstore/bodyhash"
)

// hashedPut sends a PUT as the proxy sends a large one: chunked, its
// length in X-Backend-Obj-Content-Length (unless length is ""), and the
// proxy's hashes as trailers.
func (n *testNode) hashedPut(path, ts string, body []byte, length, etag, crc string) resp {
	n.t.Helper()
	trailer := http.Header{bodyhash.TrailerEtag: nil, bodyhash.TrailerCRC32C: nil}
	pr, pw := io.Pipe()
	go func() {
		pw.Write(body)
		trailer.Set(bodyhash.TrailerEtag, etag) // read by the client after the body's end
		trailer.Set(bodyhash.TrailerCRC32C, crc)
		pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPut, n.srv.URL+path, pr)
	if err != nil {
		n.t.Fatal(err)
	}
	req.ContentLength, req.TransferEncoding, req.Trailer = -1, []string{"chunked"}, trailer
	req.Header.Set("X-Timestamp", ts)
	req.Header.Set("Content-Type", "application/octet-stream")
	if length != "" {
		req.Header.Set(bodyhash.HeaderObjLength, length)
	}
	r, err := n.srv.Client().Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

func crcOf(b []byte) string { return bodyhash.CRC(b) }

// A proxy-hashed PUT is stored with the proxy's MD5 as its ETag once the
// node's CRC-32C of what it wrote matches the proxy's; any disagreement
// (a changed byte, a bad trailer, a short body) stores nothing.
func TestProxyHashedPut(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	body := make([]byte, 3<<20+5)
	for i := range body {
		body[i] = byte(i*7 + i>>9)
	}
	etag, crc := md5hex(body), crcOf(body)
	size := strconv.Itoa(len(body))

	bad := []struct {
		what       string
		length     string
		etag, crc  string
		wantStatus int
	}{
		{"CRC of other bytes", size, etag, crcOf(body[1:]), 422},
		{"no CRC trailer value", size, etag, "", 422},
		{"ETag not an MD5", size, "x" + etag[1:], crc, 422},
		{"no ETag trailer value", size, "", crc, 422},
		{"body shorter than its length", strconv.Itoa(len(body) + 1), etag, crc, 499},
		{"bad length", "-2", etag, crc, 400},
	}
	for i, c := range bad {
		r := n.hashedPut(objPath, fmtTS(1700000000, i+1), body, c.length, c.etag, c.crc)
		expectStatus(t, r, c.wantStatus, c.what)
		expectStatus(t, n.do("HEAD", objPath, nil, nil), 404, "HEAD after "+c.what)
	}
	if got := filesIn(t, filepath.Join(n.root, "sdb1", "tmp")); len(got) != 0 {
		t.Fatalf("refused uploads left temp files: %v", got)
	}

	for i, length := range []string{size, ""} { // with and without a stated length
		r := n.hashedPut(objPath, fmtTS(1700000100, i), body, length, etag, crc)
		expectStatus(t, r, 201, "hashed PUT")
		if r.header.Get("Etag") != `"`+etag+`"` {
			t.Fatalf("hashed PUT answered ETag %s, want %s", r.header.Get("Etag"), etag)
		}
		g := n.do("GET", objPath, nil, nil)
		expectStatus(t, g, 200, "GET")
		if !bytes.Equal(g.body, body) || g.header.Get("Etag") != `"`+etag+`"` || g.header.Get(keyCRC32C) != "" {
			t.Fatalf("GET: %d bytes, ETag %s, CRC header %q", len(g.body), g.header.Get("Etag"), g.header.Get(keyCRC32C))
		}
	}
}

// Every .data file keeps its body's CRC-32C, whoever hashed it; whole
// reads check it, and a file written without one (before kumo kept it)
// is still checked against its MD5 ETag.
func TestWholeReadsCheckCRCOrMD5(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	for _, size := range []int{4 << 10, 3 << 20} {
		body := bytes.Repeat([]byte("abcdefg"), size/7)
		name := "/sdb1/7/AUTH_a/c/o" + strconv.Itoa(size)
		expectStatus(t, n.put(name, "1700000000.1", body, nil), 201, "PUT")
		dir := n.hashDirOf("sdb1", "7", "AUTH_a", "c", "o"+strconv.Itoa(size))
		p := filepath.Join(dir, "1700000000.10000.data")
		md := readMeta(t, p)
		if md[keyCRC32C] != crcOf(body) {
			t.Fatalf("%d bytes: stored CRC %q, want %s", size, md[keyCRC32C], crcOf(body))
		}

		// Without the CRC key, as an older kumo wrote it: served, and a
		// corrupt body is caught by the MD5.
		delete(md, keyCRC32C)
		rewrite(t, p, body, md)
		g := n.do("GET", name, nil, nil)
		expectStatus(t, g, 200, "GET of a file without a CRC")
		if !bytes.Equal(g.body, body) {
			t.Fatal("GET of a file without a CRC returned other bytes")
		}
		flipped := bytes.Clone(body)
		flipped[len(flipped)/2] ^= 1
		rewrite(t, p, flipped, md)
		n.do("GET", name, nil, nil)
		expectStatus(t, n.do("HEAD", name, nil, nil), 404, "HEAD after reading a corrupt file without a CRC")

		// With a CRC that does not match (the MD5 does): caught by the CRC.
		expectStatus(t, n.put(name, "1700000001.1", body, nil), 201, "PUT again")
		p = filepath.Join(dir, "1700000001.10000.data")
		md = readMeta(t, p)
		md[keyCRC32C] = crcOf(flipped)
		rewrite(t, p, body, md)
		n.do("GET", name, nil, nil)
		expectStatus(t, n.do("HEAD", name, nil, nil), 404, "HEAD after reading a file whose CRC is wrong")
	}
}

func readMeta(t *testing.T, path string) Metadata {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	md, _, err := readFooter(f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// rewrite replaces the .data file at path with body and md.
func rewrite(t *testing.T, path string, body []byte, md Metadata) {
	t.Helper()
	footer, err := encodeFooter(md)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(bytes.Clone(body), footer...), 0o644); err != nil {
		t.Fatal(err)
	}
}
