package proxy

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"testing"
	"time"
)

func sign(h func() hash.Hash, key, method string, expires int64, path string) []byte {
	m := hmac.New(h, []byte(key))
	fmt.Fprintf(m, "%s\n%d\n%s", method, expires, path)
	return m.Sum(nil)
}

// TestTempURL: signed URLs grant their method on their object without a
// token, with account or container keys, sha1/sha256 hex or base64
// signatures, prefixes, and expire.
func TestTempURL(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/t", c.alice, nil)
	c.must(201, "PUT", a+"/t/o", c.alice, []byte("temp"))
	c.must(204, "POST", a, c.alice, nil, "X-Account-Meta-Temp-URL-Key", "akey", "X-Account-Meta-Temp-URL-Key-2", "akey2")
	c.must(204, "POST", a+"/t", c.alice, nil, "X-Container-Meta-Temp-URL-Key", "ckey")
	exp := time.Now().Add(time.Hour).Unix()
	path := a + "/t/o"
	url := func(sig string, e int64) string {
		return fmt.Sprintf("%s?temp_url_sig=%s&temp_url_expires=%d", path, sig, e)
	}
	hexSig := func(h func() hash.Hash, key, method string) string {
		return hex.EncodeToString(sign(h, key, method, exp, path))
	}

	r := c.must(200, "GET", url(hexSig(sha256.New, "akey", "GET"), exp), "", nil)
	if string(r.body) != "temp" || r.header.Get("Content-Disposition") != `attachment; filename="o"; filename*=UTF-8''o` {
		t.Fatalf("temp URL GET %q %v", r.body, r.header)
	}
	checkTarget(t, "Object", r)
	c.must(200, "GET", url(hexSig(sha1.New, "akey2", "GET"), exp), "", nil)
	c.must(200, "GET", url(hexSig(sha256.New, "ckey", "GET"), exp), "", nil)
	b64 := "sha256:" + base64.RawURLEncoding.EncodeToString(sign(sha256.New, "akey", "GET", exp, path))
	c.must(200, "GET", url(b64, exp), "", nil)
	if r := c.must(200, "GET", url(hexSig(sha256.New, "akey", "GET"), exp)+"&inline", "", nil); r.header.Get("Content-Disposition") != "inline" {
		t.Fatalf("inline disposition %q", r.header.Get("Content-Disposition"))
	}
	// HEAD works with a GET signature; other methods need their own.
	c.must(200, "HEAD", url(hexSig(sha256.New, "akey", "GET"), exp), "", nil)
	c.must(401, "DELETE", url(hexSig(sha256.New, "akey", "GET"), exp), "", nil)
	c.must(401, "GET", url(hexSig(sha256.New, "wrong", "GET"), exp), "", nil)
	c.must(401, "GET", url(hexSig(sha256.New, "akey", "GET"), exp+1), "", nil)
	past := time.Now().Add(-time.Minute).Unix()
	c.must(401, "GET", url(hex.EncodeToString(sign(sha256.New, "akey", "GET", past, path)), past), "", nil)
	c.must(401, "GET", a+"/t/o?temp_url_sig=zz&temp_url_expires=x", "", nil)

	// PUT through a temp URL, then read it back.
	put := a + "/t/new"
	sig := hex.EncodeToString(sign(sha256.New, "akey", "PUT", exp, put))
	c.must(201, "PUT", fmt.Sprintf("%s?temp_url_sig=%s&temp_url_expires=%d", put, sig, exp), "", []byte("uploaded"))
	if got := c.must(200, "GET", put, c.alice, nil).body; string(got) != "uploaded" {
		t.Fatalf("temp URL PUT stored %q", got)
	}
	// A prefix signature covers every object under it, and nothing else.
	psig := hex.EncodeToString(sign(sha256.New, "akey", "GET", exp, "prefix:"+a+"/t/"))
	c.must(200, "GET", fmt.Sprintf("%s/t/new?temp_url_sig=%s&temp_url_expires=%d&temp_url_prefix=", a, psig, exp), "", nil)
	psig = hex.EncodeToString(sign(sha256.New, "akey", "GET", exp, "prefix:"+a+"/t/n"))
	c.must(200, "GET", fmt.Sprintf("%s/t/new?temp_url_sig=%s&temp_url_expires=%d&temp_url_prefix=n", a, psig, exp), "", nil)
	c.must(401, "GET", fmt.Sprintf("%s/t/o?temp_url_sig=%s&temp_url_expires=%d&temp_url_prefix=n", a, psig, exp), "", nil)
	// Another account's key does not sign this account's objects.
	c.must(204, "POST", c.acctB, c.bob, nil, "X-Account-Meta-Temp-URL-Key", "bkey")
	c.must(401, "GET", url(hexSig(sha256.New, "bkey", "GET"), exp), "", nil)
}
