package containerserver

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// peerOf is a PartitionPeers that names one other node's server for every
// partition, as a two-replica ring would.
type peerOf struct{ addr string }

func (p peerOf) Peers(Kind, string, int) ([]Node, error) {
	return []Node{{Addr: p.addr, Device: "sda"}}, nil
}

func hostOf(u string) string { return strings.TrimPrefix(u, "http://") }

// snapshot is everything a client can see of a container.
func containerSnapshot(t *testing.T, n *node, c string) string {
	t.Helper()
	r := n.c("HEAD", "/AUTH_a/"+c, nil)
	var b strings.Builder
	fmt.Fprintf(&b, "status=%d count=%s bytes=%s put=%s meta:", r.code, r.h.Get("X-Container-Object-Count"),
		r.h.Get("X-Container-Bytes-Used"), r.h.Get("X-Put-Timestamp"))
	for _, k := range []string{"X-Container-Meta-A", "X-Container-Meta-B", "X-Container-Meta-C"} {
		fmt.Fprintf(&b, " %s=%q", k, r.h.Get(k))
	}
	b.WriteString("\n" + n.c("GET", "/AUTH_a/"+c+"?format=json", nil).body)
	return b.String()
}

func TestReplicationConverges(t *testing.T) {
	a, b := newNode(t), newNode(t)
	for _, n := range []*node{a, b} {
		expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(1, "X-Container-Meta-A", "one")), 201, "PUT container")
	}
	// Divergent writes, as when each replica missed some object updates.
	for i := 0; i < 1500; i += 7 {
		a.putObj("/AUTH_a/c/obj"+itoa(i), 10+float64(i)/1000, i, "a"+itoa(i))
	}
	for i := 0; i < 1500; i += 5 {
		b.putObj("/AUTH_a/c/obj"+itoa(i), 20+float64(i)/1000, i+1, "b"+itoa(i)) // newer
	}
	a.putObj("/AUTH_a/c/only-a", 30, 3, "x")
	a.putObj("/AUTH_a/c/gone", 30, 3, "x")
	expect(t, b.c("DELETE", "/AUTH_a/c/gone", hdrTS(31)), 204, "tombstone on b")
	b.putObj("/AUTH_a/c/older-delete-wins-not", 40, 4, "y")
	expect(t, a.c("DELETE", "/AUTH_a/c/older-delete-wins-not", hdrTS(39)), 204, "older delete on a")
	expect(t, a.c("POST", "/AUTH_a/c", hdrTS(50, "X-Container-Meta-A", "a-newer", "X-Container-Meta-B", "from-a")), 204, "POST a")
	expect(t, b.c("POST", "/AUTH_a/c", hdrTS(51, "X-Container-Meta-B", "b-newer", "X-Container-Meta-C", "from-b")), 204, "POST b")
	// A container only a has, which b must receive whole.
	expect(t, a.c("PUT", "/AUTH_a/solo", hdrTS(60, "X-Container-Meta-A", "solo")), 201, "PUT solo")
	a.putObj("/AUTH_a/solo/x/y", 61, 9, "z")

	if containerSnapshot(t, a, "c") == containerSnapshot(t, b, "c") {
		t.Fatal("replicas already equal before replication; the test proves nothing")
	}
	rep := NewReplicator(a.store, KindContainer, peerOf{hostOf(b.cont.URL)}, nil, quietLog())
	rep.ReclaimAge = 0 // the test's 1970 timestamps would all be reclaimable
	ctx := context.Background()
	st, err := rep.RunOnce(ctx)
	if err != nil || st.Failures != 0 || st.Databases != 2 || st.Pushed == 0 || st.Pulled == 0 {
		t.Fatalf("first pass: %+v, %v", st, err)
	}
	for _, c := range []string{"c", "solo"} {
		sa, sb := containerSnapshot(t, a, c), containerSnapshot(t, b, c)
		if sa != sb {
			t.Fatalf("container %s did not converge:\n a: %.400s\n b: %.400s", c, sa, sb)
		}
	}
	// The merged state is the newest of every row and metadata item.
	got := jsonList(t, a.c("GET", "/AUTH_a/c?format=json&prefix=obj35&limit=1", nil))
	if len(got) != 1 || got[0].Name != "obj35" || got[0].Hash != "b35" || got[0].Bytes != 36 {
		t.Errorf("obj35 = %+v, want b's newer row", got)
	}
	got = jsonList(t, a.c("GET", "/AUTH_a/c?format=json&prefix=obj14&limit=1", nil))
	if len(got) != 1 || got[0].Name != "obj14" || got[0].Hash != "a14" {
		t.Errorf("obj14 = %+v, want a's only row", got)
	}
	if l := plainList(t, a, "/AUTH_a/c?prefix=gone"); l != nil {
		t.Errorf("tombstone lost: %q", l)
	}
	if l := plainList(t, b, "/AUTH_a/c?prefix=older"); len(l) != 1 {
		t.Errorf("older delete won on b: %q", l)
	}
	h := b.c("HEAD", "/AUTH_a/c", nil).h
	if h.Get("X-Container-Meta-A") != "a-newer" || h.Get("X-Container-Meta-B") != "b-newer" || h.Get("X-Container-Meta-C") != "from-b" {
		t.Errorf("metadata merge on b: %v", h)
	}
	want := 0
	seen := map[int]bool{}
	for i := 0; i < 1500; i++ {
		if i%7 == 0 || i%5 == 0 {
			seen[i] = true
		}
	}
	want = len(seen) + 2 // only-a, older-delete-wins-not
	if got := b.c("HEAD", "/AUTH_a/c", nil).h.Get("X-Container-Object-Count"); got != itoa(want) {
		t.Errorf("object count %s, want %d", got, want)
	}

	// A second pass finds nothing new to merge, from either side.
	st, err = rep.RunOnce(ctx)
	if err != nil || st.Failures != 0 || st.Pulled != 0 {
		t.Fatalf("second pass: %+v, %v", st, err)
	}
	back := NewReplicator(b.store, KindContainer, peerOf{hostOf(a.cont.URL)}, nil, quietLog())
	back.ReclaimAge = 0
	st, err = back.RunOnce(ctx)
	if err != nil || st.Failures != 0 || st.Pulled != 0 {
		t.Fatalf("reverse pass: %+v, %v", st, err)
	}
	// Later writes on b flow to a on the next pass with few rows sent.
	b.putObj("/AUTH_a/c/late", 70, 1, "l")
	st, err = back.RunOnce(ctx)
	if err != nil || st.Pushed > 10 {
		t.Fatalf("incremental pass pushed %d rows (%v)", st.Pushed, err)
	}
	if containerSnapshot(t, a, "c") != containerSnapshot(t, b, "c") {
		t.Fatal("incremental write did not converge")
	}
}

func TestAccountReplicationConverges(t *testing.T) {
	a, b := newNode(t), newNode(t)
	for _, n := range []*node{a, b} {
		expect(t, n.a("PUT", "/AUTH_a", hdrTS(1)), 201, "PUT account")
	}
	report := func(n *node, c string, put, del float64, count, at int) {
		t.Helper()
		d := "0"
		if del > 0 {
			d = ts(del)
		}
		r := n.a("PUT", "/AUTH_a/"+url.PathEscape(c), map[string]string{"X-Put-Timestamp": ts(put), "X-Delete-Timestamp": d,
			"X-Object-Count": itoa(count), "X-Bytes-Used": itoa(count * 10), "X-Timestamp": ts(float64(at))})
		if r.code/100 != 2 {
			t.Fatalf("report %s: %d", c, r.code)
		}
	}
	report(a, "c1", 2, 0, 1, 100)
	report(b, "c1", 2, 0, 5, 200) // later counters
	report(a, "c2", 3, 0, 2, 100)
	report(b, "c3", 4, 0, 3, 100)
	report(a, "c4", 5, 0, 0, 100)
	report(b, "c4", 5, 6, 0, 101) // deleted on b
	expect(t, b.a("POST", "/AUTH_a", hdrTS(7, "X-Account-Meta-Q", "b")), 204, "POST b")

	rep := NewReplicator(b.store, KindAccount, peerOf{hostOf(a.acct.URL)}, nil, quietLog())
	rep.ReclaimAge = 0 // the test's 1970 timestamps would all be reclaimable
	if st, err := rep.RunOnce(context.Background()); err != nil || st.Failures != 0 {
		t.Fatalf("account replication: %+v %v", st, err)
	}
	for _, n := range []*node{a, b} {
		r := n.a("GET", "/AUTH_a?format=json", nil)
		got := accountJSON(t, r)
		if len(got) != 3 || got[0].Name != "c1" || got[0].Count != 5 || got[1].Name != "c2" || got[2].Name != "c3" {
			t.Fatalf("account listing %+v", got)
		}
		if r.h.Get("X-Account-Container-Count") != "3" || r.h.Get("X-Account-Object-Count") != "10" ||
			r.h.Get("X-Account-Bytes-Used") != "100" || r.h.Get("X-Account-Meta-Q") != "b" {
			t.Fatalf("account stat %v", r.h)
		}
	}
}

func TestReplicateRejectsBadRequests(t *testing.T) {
	a := newNode(t)
	expect(t, a.do(a.cont.URL, "REPLICATE", "/sda/0/nothex", nil), 400, "bad hash")
	expect(t, a.do(a.cont.URL, "REPLICATE", "/sda/0/"+strings.Repeat("a", 32), nil), 400, "no body")
	expect(t, a.do(a.cont.URL, "REPLICATE", "/sdx/0/"+strings.Repeat("a", 32), nil), 507, "missing device")
	// A sync whose identity does not hash to the path must not create a DB.
	rep := NewReplicator(a.store, KindContainer, nil, nil, quietLog())
	err := rep.call(context.Background(), Node{Addr: hostOf(a.cont.URL), Device: "sda"}, 0, strings.Repeat("a", 32), "sync",
		replInfo{ID: "x", Account: "AUTH_a", Container: "c"}, nil)
	if err == nil {
		t.Fatal("sync with a mismatched identity succeeded")
	}
}

type noPeers struct{}

func (noPeers) Peers(Kind, string, int) ([]Node, error) { return nil, nil }

// TestReclaimTombstones: tombstones older than ReclaimAge go, newer ones
// and live rows stay, and counters are untouched.
func TestReclaimTombstones(t *testing.T) {
	n := newNode(t)
	expect(t, n.c("PUT", "/AUTH_a/c", hdrTS(1)), 201, "PUT container")
	n.putObj("/AUTH_a/c/live", 2, 5, "e")
	expect(t, n.c("DELETE", "/AUTH_a/c/ancient", hdrTS(3)), 204, "old tombstone")
	recent := hdrTS(0)
	recent["X-Timestamp"] = string(Now())
	expect(t, n.c("DELETE", "/AUTH_a/c/recent", recent), 204, "recent tombstone")
	rep := NewReplicator(n.store, KindContainer, noPeers{}, nil, quietLog())
	st, err := rep.RunOnce(context.Background())
	if err != nil || st.Reclaimed != 1 {
		t.Fatalf("reclaim pass: %+v %v", st, err)
	}
	d, release, err := n.store.handle(n.store.containerPath("sda", 0, "AUTH_a", "c"), false, KindContainer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rows, err := rowsSince(context.Background(), d, KindContainer, -1, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows.Objects {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "live,recent" {
		t.Fatalf("rows after reclaim: %v", names)
	}
	if h := n.c("HEAD", "/AUTH_a/c", nil).h; h.Get("X-Container-Object-Count") != "1" || h.Get("X-Container-Bytes-Used") != "5" {
		t.Fatalf("counters changed by reclaim: %v", h)
	}
	if st, _ := rep.RunOnce(context.Background()); st.Reclaimed != 0 {
		t.Fatalf("second pass reclaimed %d", st.Reclaimed)
	}
}
