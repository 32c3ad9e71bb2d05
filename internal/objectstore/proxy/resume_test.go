package proxy

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// newCutCluster is a cluster whose object servers can be "killed"
// mid-transfer, with container c made.
func newCutCluster(t *testing.T) (*cluster, *cutter) {
	cl := &cutter{}
	c := newCluster(t, clusterOpts{wrapObject: cl.wrap})
	c.must(201, "PUT", c.acctA+"/c", c.alice, nil)
	return c, cl
}

// noise is n bytes that differ at every offset, so that a splice at the
// wrong place or of another body shows.
func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestGetResumesOnAnotherReplica: the node serving a GET dies after 100 KB
// of the body; the proxy continues from another replica and the client
// gets the whole object, for a plain GET and for a Range.
func TestGetResumesOnAnotherReplica(t *testing.T) {
	c, cl := newCutCluster(t)
	name := "o"
	body := noise(1, 1<<20)
	c.must(201, "PUT", c.acctA+"/c/"+name, c.alice, body)

	cl.arm(true, 100<<10)
	start := time.Now()
	r := c.must(200, "GET", c.acctA+"/c/"+name, c.alice, nil)
	if cl.cuts.Load() != 1 {
		t.Fatalf("%d connections cut, want 1", cl.cuts.Load())
	}
	if !bytes.Equal(r.body, body) {
		t.Fatalf("GET after a cut: %d of %d bytes, equal prefix %v", len(r.body), len(body), bytes.HasPrefix(body, r.body))
	}
	t.Logf("whole GET resumed in %v", time.Since(start))

	cl.arm(true, 100<<10)
	r = c.must(206, "GET", c.acctA+"/c/"+name, c.alice, nil, "Range", "bytes=1000-700000")
	if cl.cuts.Load() != 2 {
		t.Fatalf("%d connections cut, want 2", cl.cuts.Load())
	}
	if !bytes.Equal(r.body, body[1000:700001]) || r.header.Get("Content-Range") != "bytes 1000-700000/"+strconv.Itoa(len(body)) {
		t.Fatalf("ranged GET after a cut: %d bytes, Content-Range %q", len(r.body), r.header.Get("Content-Range"))
	}

	// A suffix range: the proxy learns the absolute offsets from the
	// node's Content-Range.
	cl.arm(true, 100<<10)
	r = c.must(206, "GET", c.acctA+"/c/"+name, c.alice, nil, "Range", "bytes=-300000")
	if cl.cuts.Load() != 3 || !bytes.Equal(r.body, body[len(body)-300000:]) {
		t.Fatalf("suffix GET after a cut: %d cuts, %d bytes", cl.cuts.Load(), len(r.body))
	}
}

// TestGetResumeRefusesAnotherVersion: the other replicas hold a newer
// version than the first primary, which dies mid-body. Splicing would mix two
// objects, so the client's body is cut short: a prefix of the version it
// started on, never bytes of the other.
func TestGetResumeRefusesAnotherVersion(t *testing.T) {
	c, cl := newCutCluster(t)
	name := "o"
	v1, v2 := noise(2, 1<<20), noise(3, 1<<20)
	c.must(201, "PUT", c.acctA+"/c/"+name, c.alice, v1)
	// v2 straight onto the two other primaries, as if the first missed it:
	// the proxy reads the first primary first.
	pl := c.proxy.place(c.rings[0], "AUTH_"+c.projA, "c", name)
	ts := c.proxy.clock.next()
	for _, d := range pl.primaries[1:] {
		rq, err := http.NewRequest(http.MethodPut, nodeURL(d, pl.path, ""), bytes.NewReader(v2))
		if err != nil {
			t.Fatal(err)
		}
		rq.Header.Set("X-Timestamp", ts)
		rq.Header.Set("Content-Type", "application/octet-stream")
		res, err := http.DefaultClient.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("backend PUT to %s: %d", d.IP, res.StatusCode)
		}
	}

	cl.arm(true, 100<<10)
	r := c.do("GET", c.acctA+"/c/"+name, c.alice, nil)
	if r.status != 200 || cl.cuts.Load() != 1 {
		t.Fatalf("status %d, %d cuts", r.status, cl.cuts.Load())
	}
	if len(r.body) >= len(v1) || len(r.body) < 50<<10 || !bytes.Equal(r.body, v1[:len(r.body)]) {
		t.Fatalf("body of %d bytes: want a prefix of v1 cut short (prefix of v1 %v, of v2 %v)",
			len(r.body), bytes.HasPrefix(v1, r.body), bytes.HasPrefix(v2, r.body))
	}
	// With the first primary whole again, the newest version is what the others serve.
	if r := c.do("GET", c.acctA+"/c/"+name, c.alice, nil); r.status != 200 || (!bytes.Equal(r.body, v1) && !bytes.Equal(r.body, v2)) {
		t.Fatalf("GET after: %d, %d bytes", r.status, len(r.body))
	}
}

// TestPutNodeDiesMidUpload: one of three primaries dies part way through
// an upload; the two others make the quorum, so the PUT is a 201 and the
// object reads back whole (Swift's proxy does the same).
func TestPutNodeDiesMidUpload(t *testing.T) {
	c, cl := newCutCluster(t)
	name := "o"
	body := noise(4, 4<<20)
	cl.arm(false, 256<<10)
	r := c.must(201, "PUT", c.acctA+"/c/"+name, c.alice, body)
	if cl.cuts.Load() != 1 {
		t.Fatalf("%d connections cut, want 1", cl.cuts.Load())
	}
	if r.header.Get("Etag") != md5hex(body) {
		t.Fatalf("etag %q", r.header.Get("Etag"))
	}
	if n, where := c.dataFiles("AUTH_"+c.projA, "c", name); n != 2 {
		t.Fatalf("%d replicas (%v), want the 2 of the nodes that lived", n, where)
	}
	if got := c.must(200, "GET", c.acctA+"/c/"+name, c.alice, nil).body; !bytes.Equal(got, body) {
		t.Fatalf("read back %d of %d bytes", len(got), len(body))
	}
}

// TestSLOSegmentResumes: the node serving a large object's segment dies
// mid-segment; the segment continues from another replica and the client
// gets the whole object.
func TestSLOSegmentResumes(t *testing.T) {
	c, cl := newCutCluster(t)
	segA, segB := noise(5, 600<<10), noise(6, 600<<10)
	c.must(201, "PUT", c.acctA+"/c/seg1", c.alice, segA)
	c.must(201, "PUT", c.acctA+"/c/seg2", c.alice, segB)
	manifest := `[{"path":"/c/seg1"},{"path":"/c/seg2"}]`
	c.must(201, "PUT", c.acctA+"/c/big?multipart-manifest=put", c.alice, []byte(manifest))
	// The manifest's GET is spared; the first segment's is cut.
	cl.armAfter(true, 100<<10, 1)
	r := c.must(200, "GET", c.acctA+"/c/big", c.alice, nil)
	if cl.cuts.Load() != 1 {
		t.Fatalf("%d connections cut, want 1", cl.cuts.Load())
	}
	if !bytes.Equal(r.body, append(append([]byte(nil), segA...), segB...)) {
		t.Fatalf("SLO GET after a cut: %d of %d bytes", len(r.body), len(segA)+len(segB))
	}
}
