package proxy

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"net"
	"sync/atomic"
	"testing"
)

// connCounter counts the connections its listeners accept.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) wrap(ln net.Listener) net.Listener { return countListener{ln, c} }

type countListener struct {
	net.Listener
	c *connCounter
}

func (l countListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.c.n.Add(1)
	}
	return conn, err
}

// With the nodes' handlers in Config.Local (kumo up), the proxy's
// requests reach them in process: small and large uploads (the large ones
// with the proxy's hash trailers; the one past objserver's O_DIRECT
// threshold written to the disk from the proxy's buffers, copyLent),
// reads, ranges, copies and deletes all work and not one connection is
// made to an object server.
func TestLocalNodesAreReachedInProcess(t *testing.T) {
	cc := &connCounter{}
	c := newCluster(t, clusterOpts{wrapObject: cc.wrap, inProcess: true})
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	small, large, direct := noise(1, 4096), noise(2, 3<<20+5), noise(3, 5<<20+5)
	for name, body := range map[string][]byte{"small": small, "large": large, "direct": direct} {
		sum := md5.Sum(body)
		etag := hex.EncodeToString(sum[:])
		if r := c.must(201, "PUT", c.acctA+"/c/"+name, c.alice, body); r.header.Get("Etag") != etag {
			t.Fatalf("%s: PUT ETag %s, want %s", name, r.header.Get("Etag"), etag)
		}
		if g := c.must(200, "GET", c.acctA+"/c/"+name, c.alice, nil); !bytes.Equal(g.body, body) || g.header.Get("Etag") != etag {
			t.Fatalf("%s: GET %d bytes, ETag %s", name, len(g.body), g.header.Get("Etag"))
		}
		if g := c.must(206, "GET", c.acctA+"/c/"+name, c.alice, nil, "Range", "bytes=10-19"); !bytes.Equal(g.body, body[10:20]) {
			t.Fatalf("%s: range %q", name, g.body)
		}
		c.must(422, "PUT", c.acctA+"/c/"+name+"-bad", c.alice, body, "Etag", "00000000000000000000000000000000")
		c.must(404, "HEAD", c.acctA+"/c/"+name+"-bad", c.alice, nil)
		c.must(201, "PUT", c.acctA+"/c/"+name+"-copy", c.alice, nil, "X-Copy-From", "c/"+name)
		if g := c.must(200, "GET", c.acctA+"/c/"+name+"-copy", c.alice, nil); !bytes.Equal(g.body, body) {
			t.Fatalf("%s: copy has %d bytes", name, len(g.body))
		}
		c.must(304, "GET", c.acctA+"/c/"+name, c.alice, nil, "If-None-Match", etag)
	}
	if r := c.must(204, "HEAD", c.acctA+"/c", c.alice, nil); r.header.Get("X-Container-Object-Count") != "6" {
		t.Fatalf("container lists %s objects, want 6", r.header.Get("X-Container-Object-Count"))
	}
	c.must(204, "DELETE", c.acctA+"/c/small", c.alice, nil)
	c.must(404, "GET", c.acctA+"/c/small", c.alice, nil)
	if n := cc.n.Load(); n != 0 {
		t.Fatalf("the proxy opened %d connections to object servers", n)
	}
}
