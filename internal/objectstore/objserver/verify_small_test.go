package objserver

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A corrupt small replica is never served: not whole, not a range, not
// even its headers; a sound one is served whole and by range; and a large
// object (above verifyBeforeServeMax) still streams, checked afterwards.
func TestSmallObjectsVerifiedBeforeServing(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	small := bytes.Repeat([]byte("kumo"), 1000)
	large := bytes.Repeat([]byte("0123456789abcdef"), verifyBeforeServeMax/16+1)
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/small", "1700000000.1", small, nil), 201, "PUT small")
	expectStatus(t, n.put("/sdb1/7/AUTH_a/c/large", "1700000000.1", large, nil), 201, "PUT large")
	g := n.do("GET", "/sdb1/7/AUTH_a/c/small", map[string]string{"Range": "bytes=4-7"}, nil)
	if g.status != 206 || string(g.body) != "kumo" {
		t.Fatalf("sound range: %d %q", g.status, g.body)
	}
	for _, name := range []string{"small", "large"} {
		f, err := os.OpenFile(filepath.Join(n.hashDirOf("sdb1", "7", "AUTH_a", "c", name), "1700000000.10000.data"), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("X"), 100)
		f.Close()
	}
	g = n.do("GET", "/sdb1/7/AUTH_a/c/small", nil, nil)
	if g.status != 404 || len(g.body) > 0 && bytes.Contains(g.body, []byte("kumo")) || g.header.Get("ETag") != "" {
		t.Fatalf("corrupt small object: %d, ETag %q, body %q", g.status, g.header.Get("ETag"), g.body)
	}
	if q := filesIn(t, n.store.quarantine("sdb1")); len(q) != 1 {
		t.Fatalf("quarantine holds %v, want the small object", q)
	}
	// Too big to hold: streamed (the bytes are gone before the check), then
	// quarantined, as Swift does.
	expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/c/large", nil, nil), 200, "GET large")
	expectStatus(t, n.do("GET", "/sdb1/7/AUTH_a/c/large", nil, nil), 404, "GET large again")
}
