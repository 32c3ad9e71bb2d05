package node

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/objectstore/ring"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func do(t *testing.T, method, url string, body []byte, hdr ...string) *http.Response {
	t.Helper()
	r, _ := http.NewRequest(method, url, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestNodeServesAndStops starts a node, uses its three servers through
// Swift's backend API (container PUT, object PUT updating the listing,
// account PUT), then checks Close really stops them.
func TestNodeServesAndStops(t *testing.T) {
	lo, lc, la := listen(t), listen(t), listen(t)
	n, err := Start(Config{Root: t.TempDir(), Devices: []string{"sda"}, HashPath: ring.HashPath{Prefix: "p", Suffix: "s"},
		Object: lo, Container: lc, Account: la, Interval: 50 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := "1700000000.00000"
	if r := do(t, "PUT", "http://"+la.Addr().String()+"/sda/0/AUTH_a", nil, "X-Timestamp", ts); r.StatusCode != 201 {
		t.Fatalf("account PUT %d", r.StatusCode)
	}
	if r := do(t, "PUT", "http://"+lc.Addr().String()+"/sda/0/AUTH_a/c", nil, "X-Timestamp", ts); r.StatusCode != 201 {
		t.Fatalf("container PUT %d", r.StatusCode)
	}
	r := do(t, "PUT", "http://"+lo.Addr().String()+"/sda/0/AUTH_a/c/o", []byte("hi"), "X-Timestamp", "1700000001.00000",
		"Content-Type", "text/plain", "X-Container-Host", lc.Addr().String(), "X-Container-Device", "sda", "X-Container-Partition", "0")
	if r.StatusCode != 201 {
		t.Fatalf("object PUT %d", r.StatusCode)
	}
	r = do(t, "HEAD", "http://"+lc.Addr().String()+"/sda/0/AUTH_a/c", nil)
	if r.Header.Get("X-Container-Object-Count") != "1" {
		t.Fatalf("container listing not updated: %v", r.Header)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + lo.Addr().String() + "/healthcheck"); err == nil {
		t.Fatal("object server still answers after Close")
	}
}

// TestEnsureRingsAndHashPath: rings are built once and loaded afterwards;
// the hash path salt is random, kept, and reused.
func TestEnsureRingsAndHashPath(t *testing.T) {
	dir := t.TempDir()
	hp, err := LoadHashPath(filepath.Join(dir, "hashpath.json"))
	if err != nil || hp.Prefix == "" {
		t.Fatal(hp, err)
	}
	hp2, err := LoadHashPath(filepath.Join(dir, "hashpath.json"))
	if err != nil || hp2 != hp {
		t.Fatalf("hash path changed: %v %v %v", hp, hp2, err)
	}
	l := Layout{IP: "127.0.0.1", ObjectPort: 6200, ContainerPort: 6201, AccountPort: 6202, Devices: []string{"d1", "d2", "d3"}, PartPower: 6}
	a, c, o, err := EnsureRings(filepath.Join(dir, "rings"), l, hp)
	if err != nil {
		t.Fatal(err)
	}
	if a.Replicas() != 3 || o.Nodes(5)[0].Port != 6200 || c.Nodes(5)[0].Port != 6201 || a.Nodes(5)[0].Port != 6202 {
		t.Fatalf("rings: replicas %d ports %d %d %d", a.Replicas(), o.Nodes(5)[0].Port, c.Nodes(5)[0].Port, a.Nodes(5)[0].Port)
	}
	_, _, o1, err := EnsureRings(filepath.Join(dir, "rings"), l, hp)
	if err != nil || o1.Version() != o.Version() {
		t.Fatalf("ring not reloaded: %v", err)
	}
	// A new port rebuilds the ring with the same placement.
	l.ObjectPort = 9999
	_, _, o2, err := EnsureRings(filepath.Join(dir, "rings"), l, hp)
	if err != nil || o2.Nodes(5)[0].Port != 9999 {
		t.Fatalf("ring not rebuilt for the new port: %v", err)
	}
	for p := 0; p < o.Partitions(); p++ {
		for i, d := range o.Nodes(p) {
			if o2.Nodes(p)[i].Name != d.Name {
				t.Fatalf("partition %d moved from %s to %s", p, d.Name, o2.Nodes(p)[i].Name)
			}
		}
	}
	if _, _, _, err := EnsureRings(t.TempDir(), Layout{IP: "127.0.0.1"}, hp); err == nil {
		t.Fatal("no devices accepted")
	}
}
