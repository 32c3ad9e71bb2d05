package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStalledNode: a node that accepts an upload and then stops reading is
// dropped after NodeTimeout; the two others make the quorum.
func TestStalledNode(t *testing.T) {
	release := make(chan struct{})
	stall := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var b [1]byte
		_, _ = r.Body.Read(b[:]) // sends 100 Continue, then reads no more
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newCluster(t, clusterOpts{objectHandler: stall, nodeTimeout: time.Second})
	defer close(release)
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	// Find an object whose primaries include the stalling node.
	var name string
	for i := 0; i < 100 && name == ""; i++ {
		n := fmt.Sprintf("o%d", i)
		for _, d := range c.proxy.place(c.rings[0], "AUTH_"+c.projA, "c", n).primaries {
			if d.IP == c.nodes[0].ip {
				name = n
			}
		}
	}
	if name == "" {
		t.Fatal("no object placed on node 0")
	}
	body := bytes.Repeat([]byte("s"), 16<<20) // more than socket buffers hold
	start := time.Now()
	r := c.must(201, "PUT", c.acctA+"/c/"+name, c.alice, body)
	if r.header.Get("Etag") != md5hex(body) {
		t.Fatalf("etag %q", r.header.Get("Etag"))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("PUT took %v", d)
	}
	if got := c.must(200, "GET", c.acctA+"/c/"+name, c.alice, nil).body; !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes", len(got))
	}
}

// TestClientDisconnect: an upload cut short by the client leaves nothing
// behind on any node.
func TestClientDisconnect(t *testing.T) {
	c := newCluster(t)
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s/c/cut HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nContent-Length: 100000\r\n\r\n", c.acctA, c.alice)
	_, _ = conn.Write(bytes.Repeat([]byte("x"), 5000))
	// Half-close: the proxy sees the body end early.
	_ = conn.(*net.TCPConn).CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a cut upload: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 499 {
		t.Errorf("cut upload answered %d, want 499", res.StatusCode)
	}
	conn.Close()
	eventually(t, func() string {
		if n, where := c.dataFiles("AUTH_"+c.projA, "c", "cut"); n != 0 {
			return fmt.Sprintf("cut upload stored: %v", where)
		}
		return ""
	})
	c.must(404, "HEAD", c.acctA+"/c/cut", c.alice, nil)
}
