package proxy

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestStaticLargeObject: a manifest of checked segments reads back as one
// object with a quoted ETag, survives a POST, shows its manifest on
// request, refuses bad segments, and deletes with its segments.
func TestStaticLargeObject(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/s", c.alice, nil)
	segA, segB := strings.Repeat("a", 1000), strings.Repeat("b", 7)
	c.must(201, "PUT", a+"/s/seg1", c.alice, []byte(segA))
	c.must(201, "PUT", a+"/s/seg2", c.alice, []byte(segB))
	manifest := fmt.Sprintf(`[{"path":"/s/seg1","etag":"%s","size_bytes":1000},{"path":"s/seg2","etag":null,"size_bytes":null}]`, md5hex([]byte(segA)))
	sum := md5.Sum([]byte(md5hex([]byte(segA)) + md5hex([]byte(segB))))
	want := `"` + hex.EncodeToString(sum[:]) + `"`
	r := c.must(201, "PUT", a+"/s/big?multipart-manifest=put", c.alice, []byte(manifest), "X-Object-Meta-Kind", "slo")
	if r.header.Get("Etag") != want {
		t.Fatalf("SLO PUT Etag %q, want %q", r.header.Get("Etag"), want)
	}
	r = c.must(200, "GET", a+"/s/big", c.alice, nil)
	if string(r.body) != segA+segB || r.header.Get("Etag") != want || r.header.Get("X-Static-Large-Object") != "True" ||
		r.header.Get("Content-Length") != "1007" || r.header.Get("X-Object-Meta-Kind") != "slo" {
		t.Fatalf("SLO GET %d bytes %v", len(r.body), r.header)
	}
	c.must(202, "POST", a+"/s/big", c.alice, nil, "X-Object-Meta-Other", "x")
	r = c.must(200, "HEAD", a+"/s/big", c.alice, nil)
	if r.header.Get("Content-Length") != "1007" || r.header.Get("X-Static-Large-Object") != "True" {
		t.Fatalf("SLO HEAD after POST %v", r.header)
	}
	r = c.must(200, "GET", a+"/s/big?multipart-manifest=get", c.alice, nil)
	var stored []map[string]any
	if err := json.Unmarshal(r.body, &stored); err != nil || len(stored) != 2 || stored[1]["name"] != "/s/seg2" {
		t.Fatalf("stored manifest %s", r.body)
	}
	// Bad manifests.
	c.must(400, "PUT", a+"/s/bad?multipart-manifest=put", c.alice, []byte(`[{"path":"/s/missing"}]`))
	c.must(400, "PUT", a+"/s/bad?multipart-manifest=put", c.alice, []byte(`[{"path":"/s/seg1","size_bytes":5}]`))
	c.must(400, "PUT", a+"/s/bad?multipart-manifest=put", c.alice, []byte(`[{"path":"/s/seg1","etag":"00"}]`))
	c.must(400, "PUT", a+"/s/bad?multipart-manifest=put", c.alice, []byte(`not json`))
	c.must(422, "PUT", a+"/s/bad?multipart-manifest=put", c.alice, []byte(`[{"path":"/s/seg1"}]`), "Etag", "0000")
	// Delete with segments.
	r = c.must(200, "DELETE", a+"/s/big?multipart-manifest=delete", c.alice, nil, "Accept", "application/json")
	var rep map[string]any
	if err := json.Unmarshal(r.body, &rep); err != nil || rep["Number Deleted"].(float64) != 3 {
		t.Fatalf("SLO delete report %s", r.body)
	}
	for _, o := range []string{"big", "seg1", "seg2"} {
		c.must(404, "HEAD", a+"/s/"+o, c.alice, nil)
	}
}
