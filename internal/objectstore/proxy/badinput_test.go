package proxy

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadInput checks Swift's answers to requests it refuses: 400 for
// constraint violations, 404 for missing things, 405, 409, 412.
func TestBadInput(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/c", c.alice, nil)
	long := strings.Repeat("n", 257)
	meta := func(n int) []string {
		var h []string
		for i := 0; i < n; i++ {
			h = append(h, fmt.Sprintf("X-Container-Meta-K%d", i), "v")
		}
		return h
	}
	cases := []struct {
		name   string
		method string
		path   string
		want   int
		body   []byte
		hdr    []string
	}{
		{"container name too long", "PUT", a + "/" + long, 400, nil, nil},
		{"meta name too long", "PUT", a + "/m", 400, nil, []string{"X-Container-Meta-" + strings.Repeat("k", 129), "v"}},
		{"meta value too long", "POST", a + "/c", 400, nil, []string{"X-Container-Meta-K", strings.Repeat("v", 257)}},
		{"too many meta items", "POST", a + "/c", 400, nil, meta(91)},
		{"account meta value too long", "POST", a, 400, nil, []string{"X-Account-Meta-K", strings.Repeat("v", 257)}},
		{"object meta name too long", "PUT", a + "/c/o", 400, []byte("x"), []string{"X-Object-Meta-" + strings.Repeat("k", 129), "v"}},
		{"object name too long", "PUT", a + "/c/" + strings.Repeat("o", 1025), 400, []byte("x"), nil},
		{"unknown storage policy", "PUT", a + "/p", 400, nil, []string{"X-Storage-Policy", "gold"}},
		{"missing container HEAD", "HEAD", a + "/nope", 404, nil, nil},
		{"missing container POST", "POST", a + "/nope", 404, nil, nil},
		{"missing container DELETE", "DELETE", a + "/nope", 404, nil, nil},
		{"missing container GET", "GET", a + "/nope", 404, nil, nil},
		{"object in missing container", "PUT", a + "/nope/o", 404, []byte("x"), nil},
		{"missing object", "GET", a + "/c/nope", 404, nil, nil},
		{"missing object HEAD", "HEAD", a + "/c/nope", 404, nil, nil},
		{"missing object POST", "POST", a + "/c/nope", 404, nil, nil},
		{"listing limit", "GET", a + "/c?limit=10001", 412, nil, nil},
		{"account listing limit", "GET", a + "?limit=10001", 412, nil, nil},
		{"bad method", "PATCH", a + "/c/o", 405, nil, nil},
		{"not v1", "GET", "/v2/" + a, 404, nil, nil},
	}
	for _, k := range cases {
		r := c.do(k.method, k.path, c.alice, k.body, k.hdr...)
		if r.status != k.want {
			t.Errorf("%s: %s = %d, want %d (%s)", k.name, k.method, r.status, k.want, r.body)
		}
	}
	c.must(201, "PUT", a+"/c/o", c.alice, []byte("x"))
	c.must(409, "DELETE", a+"/c", c.alice, nil)
	// The limits themselves are allowed.
	c.must(204, "POST", a+"/c", c.alice, nil, meta(90)...)
	c.must(201, "PUT", a+"/"+strings.Repeat("n", 256), c.alice, nil)
}
