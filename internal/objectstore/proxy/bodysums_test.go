package proxy

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// sniffer keeps what the object servers read off their connections.
type sniffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *sniffer) wrap(ln net.Listener) net.Listener { return sniffListener{ln, s} }

func (s *sniffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.buf.String()
	s.buf.Reset()
	return out
}

type sniffListener struct {
	net.Listener
	s *sniffer
}

func (l sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return sniffConn{c, l.s}, nil
}

type sniffConn struct {
	net.Conn
	s *sniffer
}

func (c sniffConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.s.mu.Lock()
	c.s.buf.Write(b[:n])
	c.s.mu.Unlock()
	return n, err
}

// A large upload is hashed once, by the proxy: every node gets it chunked
// with the proxy's MD5 and CRC-32C as trailers, and stores that MD5 as the
// ETag. The client's ETag is still checked; small bodies go as before.
func TestLargeUploadsHashedByTheProxy(t *testing.T) {
	sn := &sniffer{}
	c := newCluster(t, clusterOpts{wrapObject: sn.wrap})
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	body := noise(7, 2<<20+1)
	sum := md5.Sum(body)
	etag := hex.EncodeToString(sum[:])
	crc := fmt.Sprintf("%08x", crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	sn.take()

	r := c.must(201, "PUT", c.acctA+"/c/big", c.alice, body)
	if r.header.Get("Etag") != etag {
		t.Fatalf("PUT answered ETag %s, want %s", r.header.Get("Etag"), etag)
	}
	wire := sn.take()
	for _, want := range []string{"Transfer-Encoding: chunked\r\n", "X-Backend-Obj-Content-Length: 2097153\r\n",
		"\r\nX-Backend-Etag: " + etag + "\r\n", "\r\nX-Backend-Crc32c: " + crc + "\r\n"} {
		if n := strings.Count(wire, want); n != 3 {
			t.Fatalf("the nodes read %q %d times, want 3 (once each)", strings.TrimSpace(want), n)
		}
	}
	g := c.must(200, "GET", c.acctA+"/c/big", c.alice, nil)
	if !bytes.Equal(g.body, body) || g.header.Get("Etag") != etag {
		t.Fatalf("GET: %d bytes, ETag %s", len(g.body), g.header.Get("Etag"))
	}

	c.must(422, "PUT", c.acctA+"/c/wrong", c.alice, body, "Etag", strings.Repeat("0", 32))
	c.must(404, "HEAD", c.acctA+"/c/wrong", c.alice, nil)
	c.must(201, "PUT", c.acctA+"/c/right", c.alice, body, "Etag", etag)

	// A chunked upload from the client: no length to pass on.
	req, err := http.NewRequest("PUT", c.url+c.acctA+"/c/chunked", io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", c.alice)
	sn.take()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	wire = sn.take()
	if res.StatusCode != 201 || res.Header.Get("Etag") != etag || strings.Count(wire, "\r\nX-Backend-Etag: "+etag+"\r\n") != 3 ||
		strings.Contains(wire, "X-Backend-Obj-Content-Length") {
		t.Fatalf("chunked PUT: %d, ETag %s; trailers on the wire %d", res.StatusCode, res.Header.Get("Etag"),
			strings.Count(wire, "X-Backend-Etag"))
	}
	if g := c.must(200, "GET", c.acctA+"/c/chunked", c.alice, nil); !bytes.Equal(g.body, body) {
		t.Fatal("GET of the chunked upload returned other bytes")
	}

	small := noise(8, 4096)
	c.must(201, "PUT", c.acctA+"/c/small", c.alice, small)
	if wire := sn.take(); strings.Contains(wire, "X-Backend-Etag") || strings.Contains(wire, "Transfer-Encoding: chunked") {
		t.Fatal("a 4 KiB upload went with the proxy's hashes")
	}
}
