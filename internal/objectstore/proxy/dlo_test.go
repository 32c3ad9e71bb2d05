package proxy

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// TestDynamicLargeObject: segments plus a manifest read back as one
// object, with Swift's quoted ETag (md5 of the segment ETags) and length;
// POST can turn an object into a manifest; bad manifests are 400.
func TestDynamicLargeObject(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/segs", c.alice, nil)
	c.must(201, "PUT", a+"/m", c.alice, nil)
	var want strings.Builder
	var etags string
	for i := 0; i < 12; i++ {
		part := fmt.Sprintf("segment-%02d;", i)
		want.WriteString(part)
		etags += md5hex([]byte(part))
		c.must(201, "PUT", fmt.Sprintf("%s/segs/big/%02d", a, i), c.alice, []byte(part))
	}
	sum := md5.Sum([]byte(etags))
	wantTag := `"` + hex.EncodeToString(sum[:]) + `"`
	c.must(201, "PUT", a+"/m/big", c.alice, []byte{}, "X-Object-Manifest", "segs/big/", "X-Object-Meta-Kind", "dlo")
	r := c.must(200, "GET", a+"/m/big", c.alice, nil)
	checkTarget(t, "Object", r)
	if string(r.body) != want.String() || r.header.Get("Etag") != wantTag ||
		r.header.Get("Content-Length") != fmt.Sprint(want.Len()) || r.header.Get("X-Object-Manifest") != "segs/big/" ||
		r.header.Get("X-Object-Meta-Kind") != "dlo" {
		t.Fatalf("DLO GET: %q %v", r.body, r.header)
	}
	r = c.must(200, "HEAD", a+"/m/big", c.alice, nil)
	if r.header.Get("Etag") != wantTag || r.header.Get("Content-Length") != fmt.Sprint(want.Len()) {
		t.Fatalf("DLO HEAD %v", r.header)
	}
	// The manifest itself, on request.
	r = c.must(200, "GET", a+"/m/big?multipart-manifest=get", c.alice, nil)
	if len(r.body) != 0 {
		t.Fatalf("manifest body %q", r.body)
	}
	// A manifest inside its own prefix (as Tempest does) contributes nothing.
	c.must(201, "PUT", a+"/segs/big", c.alice, []byte{}, "X-Object-Manifest", "segs/big")
	if r := c.must(200, "GET", a+"/segs/big", c.alice, nil); string(r.body) != want.String() {
		t.Fatalf("self-prefixed manifest %q", r.body)
	}
	// POST makes an existing object a manifest.
	c.must(201, "PUT", a+"/m/later", c.alice, []byte{})
	c.must(202, "POST", a+"/m/later", c.alice, nil, "X-Object-Manifest", "segs/big/0")
	if r := c.must(200, "GET", a+"/m/later", c.alice, nil); !strings.HasPrefix(string(r.body), "segment-00;") || len(r.body) != 110 {
		t.Fatalf("POSTed manifest %q", r.body)
	}
	c.must(400, "PUT", a+"/m/bad", c.alice, []byte{}, "X-Object-Manifest", "nocontainer")
	c.must(400, "POST", a+"/m/later", c.alice, nil, "X-Object-Manifest", "/x")
	// Segments in a container the reader may not see stay hidden.
	c.must(204, "POST", a+"/m", c.alice, nil, "X-Container-Read", ".r:*")
	c.must(401, "GET", a+"/m/big", "", nil)
}
