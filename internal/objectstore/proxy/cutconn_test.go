package proxy

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// cutter stands for a storage node killed mid-transfer: once armed, the
// first connection (to any node it wraps) that moves bytes in the chosen
// direction is closed after limit bytes (the node's side of the socket
// goes away, as at kill -9). Connections before the arming and after the
// cut are untouched.
type cutter struct {
	mu     sync.Mutex
	armed  bool
	writes bool  // cut what the node sends (a GET body), else what it reads (a PUT body)
	limit  int64 // bytes let through on the victim connection
	skip   int   // connections moving bytes that are spared first
	cuts   atomic.Int32
}

func (l *cutter) arm(writes bool, limit int64) { l.armAfter(writes, limit, 0) }

// armAfter arms the cutter for the connection after skip others (a large
// object's segment rather than its manifest).
func (l *cutter) armAfter(writes bool, limit int64, skip int) {
	l.mu.Lock()
	l.armed, l.writes, l.limit, l.skip = true, writes, limit, skip
	l.mu.Unlock()
}

// wrap makes ln's connections subject to the cutter.
func (l *cutter) wrap(ln net.Listener) net.Listener { return &cutListener{Listener: ln, l: l} }

type cutListener struct {
	net.Listener
	l *cutter
}

func (cl *cutListener) Accept() (net.Conn, error) {
	c, err := cl.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &cutConn{Conn: c, l: cl.l}, nil
}

// claim makes a connection the victim if the cutter is armed for this
// direction and no more are to be skipped.
func (l *cutter) claim(writes bool) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.armed || l.writes != writes {
		return 0, false
	}
	if l.skip > 0 {
		l.skip--
		return 0, false
	}
	l.armed = false
	return l.limit, true
}

type cutConn struct {
	net.Conn
	l      *cutter
	mu     sync.Mutex // the server reads and writes from two goroutines
	victim bool
	left   int64
	cut    bool
	killed bool
}

var errCut = errors.New("connection cut by the test")

// pass lets at most left bytes of b through, and reports whether the
// connection must be cut after them.
func (c *cutConn) pass(writes bool, b []byte) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return 0, true
	}
	if !c.victim {
		// Each response is a new candidate (a keep-alive connection
		// carries several); what a node reads, any chunk.
		if writes && !bytes.HasPrefix(b, []byte("HTTP/1.")) {
			return len(b), false
		}
		if c.left, c.victim = c.l.claim(writes); !c.victim {
			return len(b), false
		}
	}
	if int64(len(b)) < c.left {
		c.left -= int64(len(b))
		return len(b), false
	}
	return int(c.left), true
}

func (c *cutConn) Write(b []byte) (int, error) {
	n, cut := c.pass(true, b)
	if !cut {
		return c.Conn.Write(b)
	}
	if n > 0 {
		_, _ = c.Conn.Write(b[:n])
	}
	c.kill()
	return n, errCut
}

func (c *cutConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n == 0 {
		return n, err
	}
	m, cut := c.pass(false, b[:n])
	if cut {
		c.kill()
		return m, errCut
	}
	return n, err
}

// kill closes the socket at once (RST, as the kernel does for a killed
// process with unread data).
func (c *cutConn) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		return
	}
	c.cut, c.killed = true, true
	// Counted before the close: once the socket is gone the proxy may
	// resume and the client finish before this goroutine runs again.
	c.l.cuts.Add(1)
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Conn.Close()
}
