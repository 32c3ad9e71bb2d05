package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestVersionedWritesStack: with X-Versions-Location an overwrite keeps
// the old data in the versions container under Swift's name, and DELETE
// pops versions back until the object is gone; bad locations are refused.
func TestVersionedWritesStack(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/vers", c.alice, nil)
	c.must(201, "PUT", a+"/base", c.alice, nil, "X-Versions-Location", "vers")
	if r := c.must(204, "HEAD", a+"/base", c.alice, nil); r.header.Get("X-Versions-Location") != "vers" {
		t.Fatalf("location not shown: %v", r.header)
	}
	c.must(201, "PUT", a+"/base/obj", c.alice, []byte("one"))
	c.must(201, "PUT", a+"/base/obj", c.alice, []byte("two"))
	c.must(201, "PUT", a+"/base/obj", c.alice, []byte("three"))
	r := c.must(200, "GET", a+"/vers?format=json", c.alice, nil)
	var items []struct{ Name string }
	if err := json.Unmarshal(r.body, &items); err != nil || len(items) != 2 || !strings.HasPrefix(items[0].Name, "003obj/") {
		t.Fatalf("versions listing %s", r.body)
	}
	for _, want := range []string{"two", "one"} {
		c.must(204, "DELETE", a+"/base/obj", c.alice, nil)
		if r := c.must(200, "GET", a+"/base/obj", c.alice, nil); string(r.body) != want {
			t.Fatalf("after delete: %q, want %q", r.body, want)
		}
	}
	c.must(204, "DELETE", a+"/base/obj", c.alice, nil)
	c.must(404, "GET", a+"/base/obj", c.alice, nil)
	if r := c.must(200, "GET", a+"/vers?format=json", c.alice, nil); string(r.body) != "[]" {
		t.Fatalf("versions left: %s", r.body)
	}
	c.must(400, "POST", a+"/base", c.alice, nil, "X-Versions-Location", "vers", "X-History-Location", "vers")
	c.must(412, "POST", a+"/base", c.alice, nil, "X-Versions-Location", "a/b")
	// A missing versions container makes an overwrite fail, as Swift's 412.
	c.must(204, "POST", a+"/base", c.alice, nil, "X-Versions-Location", "gone")
	c.must(201, "PUT", a+"/base/x", c.alice, []byte("1"))
	c.must(412, "PUT", a+"/base/x", c.alice, []byte("2"))
	// Removing the location stops versioning.
	c.must(204, "POST", a+"/base", c.alice, nil, "X-Remove-Versions-Location", "x")
	if r := c.must(204, "HEAD", a+"/base", c.alice, nil); r.header.Get("X-Versions-Location") != "" {
		t.Fatalf("location kept: %v", r.header)
	}
	c.must(201, "PUT", a+"/base/x", c.alice, []byte("2"))
}

// TestVersionedWritesHistory: with X-History-Location a DELETE archives
// the object and leaves a delete marker; the object stays gone.
func TestVersionedWritesHistory(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/hist", c.alice, nil)
	c.must(201, "PUT", a+"/base", c.alice, nil, "X-History-Location", "hist")
	if r := c.must(204, "HEAD", a+"/base", c.alice, nil); r.header.Get("X-History-Location") != "hist" || r.header.Get("X-Versions-Location") != "" {
		t.Fatalf("location headers: %v", r.header)
	}
	c.must(201, "PUT", a+"/base/obj", c.alice, []byte("one"))
	c.must(201, "PUT", a+"/base/obj", c.alice, []byte("two"))
	c.must(204, "DELETE", a+"/base/obj", c.alice, nil)
	c.must(404, "GET", a+"/base/obj", c.alice, nil)
	r := c.must(200, "GET", a+"/hist?format=json", c.alice, nil)
	var items []struct {
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Bytes       int    `json:"bytes"`
	}
	if err := json.Unmarshal(r.body, &items); err != nil || len(items) != 3 {
		t.Fatalf("history listing %s", r.body)
	}
	if items[0].Bytes != 3 || items[1].Bytes != 3 || items[2].ContentType != deleteMarkerType {
		t.Fatalf("history entries %+v", items)
	}
	if r := c.must(200, "GET", a+"/hist/"+items[1].Name, c.alice, nil); string(r.body) != "two" {
		t.Fatalf("archived %q", r.body)
	}
}

// TestVersionedWritesTempURL: an overwrite authorized by a temp URL (no
// token) still archives the old data.
func TestVersionedWritesTempURL(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/vers", c.alice, nil)
	c.must(201, "PUT", a+"/base", c.alice, nil, "X-Versions-Location", "vers")
	c.must(201, "PUT", a+"/base/obj", c.alice, []byte("old"))
	c.must(204, "POST", a, c.alice, nil, "X-Account-Meta-Temp-URL-Key", "vkey")
	exp := time.Now().Add(time.Hour).Unix()
	sig := hex.EncodeToString(sign(sha256.New, "vkey", "PUT", exp, a+"/base/obj"))
	c.must(201, "PUT", fmt.Sprintf("%s/base/obj?temp_url_sig=%s&temp_url_expires=%d", a, sig, exp), "", []byte("new"))
	r := c.must(200, "GET", a+"/vers?format=json", c.alice, nil)
	var items []struct{ Name string }
	if err := json.Unmarshal(r.body, &items); err != nil || len(items) != 1 {
		t.Fatalf("versions %s", r.body)
	}
	if r := c.must(200, "GET", a+"/vers/"+items[0].Name, c.alice, nil); string(r.body) != "old" {
		t.Fatalf("archived %q", r.body)
	}
}
