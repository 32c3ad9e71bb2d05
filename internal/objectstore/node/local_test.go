package node

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/objectstore/ring"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// The container updates of an object PUT and DELETE reach the node's own
// container server without a connection, and the listing follows them.
func TestContainerUpdatesToThisNodeSkipTheSocket(t *testing.T) {
	lo, la := listen(t), listen(t)
	lc := &countingListener{Listener: listen(t)}
	n, err := Start(Config{Root: t.TempDir(), Devices: []string{"sda"}, HashPath: ring.HashPath{Prefix: "p", Suffix: "s"},
		Object: lo, Container: lc, Account: la, Interval: time.Hour,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	cont := "http://" + lc.Addr().String() + "/sda/0/AUTH_a/c"
	if r := do(t, "PUT", cont, nil, "X-Timestamp", "1700000000.00000"); r.StatusCode != 201 {
		t.Fatalf("container PUT %d", r.StatusCode)
	}
	// An update over TCP would need a new connection: the test's own
	// keep-alive one is gone.
	http.DefaultClient.CloseIdleConnections()
	before := lc.accepted.Load()
	update := []string{"X-Container-Host", lc.Addr().String(), "X-Container-Device", "sda", "X-Container-Partition", "0"}
	obj := "http://" + lo.Addr().String() + "/sda/0/AUTH_a/c/o"
	if r := do(t, "PUT", obj, []byte("hi"), append([]string{"X-Timestamp", "1700000001.00000", "Content-Type", "text/plain"}, update...)...); r.StatusCode != 201 {
		t.Fatalf("object PUT %d", r.StatusCode)
	}
	if r := do(t, "DELETE", obj+"2", nil, append([]string{"X-Timestamp", "1700000002.00000"}, update...)...); r.StatusCode != 404 {
		t.Fatalf("DELETE of a missing object %d", r.StatusCode)
	}
	n.Objects.WaitUpdates()
	if got := lc.accepted.Load(); got != before {
		t.Fatalf("container updates opened %d connections", got-before)
	}
	r := do(t, "HEAD", cont, nil)
	if r.Header.Get("X-Container-Object-Count") != "1" || r.Header.Get("X-Container-Bytes-Used") != "2" {
		t.Fatalf("listing not updated: %v", r.Header)
	}
}
