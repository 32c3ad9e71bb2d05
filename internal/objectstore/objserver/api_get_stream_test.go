package objserver

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// A large object (written with O_DIRECT, sent by the hashing sender):
// whole GETs, ranges and If-None-Match come back right; one flipped byte
// in the middle is served (as in Swift, the client already has it) but
// quarantines the replica after the whole read, while a range of the same
// corrupt object does not.
func TestLargeGetStreamsAndQuarantines(t *testing.T) {
	n := newTestNode(t, []string{"sdb1"}, nil)
	body := make([]byte, 5<<20+777)
	for i := range body {
		body[i] = byte(i*13 + i>>11)
	}
	sum := md5.Sum(body)
	etag := hex.EncodeToString(sum[:])
	path := "/sdb1/7/AUTH_a/c/big"
	r := n.put(path, "1700000000.1", body, map[string]string{"ETag": etag})
	expectStatus(t, r, 201, "PUT")

	r = n.do("GET", path, nil, nil)
	expectStatus(t, r, 200, "GET")
	if !bytes.Equal(r.body, body) {
		t.Fatalf("GET returned %d bytes differing from the %d stored", len(r.body), len(body))
	}
	r = n.do("GET", path, map[string]string{"Range": "bytes=1048570-3145730"}, nil)
	expectStatus(t, r, 206, "range GET")
	if !bytes.Equal(r.body, body[1048570:3145731]) {
		t.Fatal("range GET returned other bytes")
	}
	expectStatus(t, n.do("GET", path, map[string]string{"If-None-Match": `"` + etag + `"`}, nil), 304, "If-None-Match")

	p := filepath.Join(n.hashDirOf("sdb1", "7", "AUTH_a", "c", "big"), "1700000000.10000.data")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{body[3<<20] ^ 0xff}, 3<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	expectStatus(t, n.do("GET", path, map[string]string{"Range": "bytes=0-4194303"}, nil), 206, "range GET of the corrupt object")
	expectStatus(t, n.do("HEAD", path, nil, nil), 200, "HEAD after a range read")
	r = n.do("GET", path, nil, nil)
	expectStatus(t, r, 200, "whole GET of the corrupt object")
	if len(r.body) != len(body) {
		t.Fatalf("whole GET sent %d bytes, want %d", len(r.body), len(body))
	}
	expectStatus(t, n.do("HEAD", path, nil, nil), 404, "HEAD after the whole read")
	if got := filesIn(t, n.store.quarantine("sdb1")); len(got) != 1 {
		t.Fatalf("quarantine holds %v, want the one object", got)
	}
}
