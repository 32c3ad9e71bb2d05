package proxy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWritesAllReplicas checks that a PUT lands on three devices of three
// different nodes, the ring's primaries.
func TestWritesAllReplicas(t *testing.T) {
	c := newCluster(t)
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	c.must(201, "PUT", c.acctA+"/c/o", c.alice, []byte("abc"))
	n, where := c.dataFiles("AUTH_"+c.projA, "c", "o")
	if n != 3 {
		t.Fatalf("%d replicas: %v", n, where)
	}
	nodes := map[string]bool{}
	for _, w := range where {
		for i, tn := range c.nodes {
			if strings.HasPrefix(w, tn.root) {
				nodes[c.nodes[i].ip] = true
			}
		}
	}
	if len(nodes) != 3 {
		t.Fatalf("replicas on %d nodes: %v", len(nodes), where)
	}
}

// TestOneNodeDown: with one of three nodes down, writes still reach a
// quorum (on handoffs where needed) and reads find a live replica.
func TestOneNodeDown(t *testing.T) {
	c := newCluster(t)
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	c.must(201, "PUT", c.acctA+"/c/before", c.alice, []byte("written before"))
	c.stopNode(0)
	c.must(201, "PUT", c.acctA+"/c2", c.alice, nil)
	body := bytes.Repeat([]byte("x"), 300<<10)
	r := c.must(201, "PUT", c.acctA+"/c2/after", c.alice, body)
	if r.header.Get("Etag") != md5hex(body) {
		t.Fatalf("etag %q", r.header.Get("Etag"))
	}
	if got := c.must(200, "GET", c.acctA+"/c2/after", c.alice, nil).body; !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes", len(got))
	}
	if got := c.must(200, "GET", c.acctA+"/c/before", c.alice, nil).body; string(got) != "written before" {
		t.Fatalf("old object %q", got)
	}
	r = c.must(200, "GET", c.acctA+"/c2?format=json", c.alice, nil)
	if !strings.Contains(string(r.body), `"after"`) {
		t.Fatalf("listing %s", r.body)
	}
	c.must(202, "POST", c.acctA+"/c2/after", c.alice, nil, "X-Object-Meta-A", "1")
	c.must(204, "DELETE", c.acctA+"/c/before", c.alice, nil)
	// Every write still made three copies: the dead node's share went to
	// handoffs on the live nodes.
	if n, where := c.dataFiles("AUTH_"+c.projA, "c2", "after"); n != 3 {
		t.Fatalf("%d replicas with a node down: %v", n, where)
	}
}

// TestAllNodesDown: with no storage node reachable, writes and reads get
// 503, never a false success.
func TestAllNodesDown(t *testing.T) {
	c := newCluster(t)
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	for i := range c.nodes {
		c.stopNode(i)
	}
	c.must(503, "PUT", c.acctA+"/c/o", c.alice, []byte("x"))
	c.must(503, "GET", c.acctA+"/c/o", c.alice, nil)
	c.must(503, "PUT", c.acctA+"/c3", c.alice, nil)
}

// TestFullDeviceHandoff: a primary device that answers 507 is replaced by
// a handoff, and the object is still readable.
func TestFullDeviceHandoff(t *testing.T) {
	c := newCluster(t)
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	pl := c.proxy.place(c.rings[0], "AUTH_"+c.projA, "c", "o")
	d := pl.primaries[0]
	var root string
	for _, tn := range c.nodes {
		if tn.ip == d.IP {
			root = tn.root
		}
	}
	// An unmounted device: the object server answers 507 for it.
	if err := os.RemoveAll(filepath.Join(root, d.Name)); err != nil {
		t.Fatal(err)
	}
	c.must(201, "PUT", c.acctA+"/c/o", c.alice, []byte("handed off"))
	n, where := c.dataFiles("AUTH_"+c.projA, "c", "o")
	if n != 3 {
		t.Fatalf("%d replicas: %v", n, where)
	}
	for _, w := range where {
		if strings.HasPrefix(w, filepath.Join(root, d.Name)+"/") {
			t.Fatalf("replica on the missing device: %s", w)
		}
	}
	if got := c.must(200, "GET", c.acctA+"/c/o", c.alice, nil).body; string(got) != "handed off" {
		t.Fatalf("read %q", got)
	}
}

// TestReplicationRestoresNode: objects written while a node was down (to
// handoffs) reach that node's devices once it is back, through the
// nodes' replicators, and the handoff copies go away.
func TestReplicationRestoresNode(t *testing.T) {
	c := newCluster(t, clusterOpts{replicate: true})
	c.must(201, "PUT", c.acctA+"/r", c.alice, nil)
	var name string
	for i := 0; i < 100 && name == ""; i++ {
		n := "o" + strings.Repeat("x", i)
		for _, d := range c.proxy.place(c.rings[0], "AUTH_"+c.projA, "r", n).primaries {
			if d.IP == c.nodes[0].ip {
				name = n
			}
		}
	}
	c.stopNode(0)
	c.must(201, "PUT", c.acctA+"/r/"+name, c.alice, []byte("while down"))
	c.restartNode(0)
	eventually(t, func() string {
		n, where := c.dataFiles("AUTH_"+c.projA, "r", name)
		onNode0 := 0
		for _, w := range where {
			if strings.HasPrefix(w, c.nodes[0].root) {
				onNode0++
			}
		}
		if onNode0 != 1 || n != 3 {
			return "replicas after restart: " + strings.Join(where, ", ")
		}
		return ""
	})
}
