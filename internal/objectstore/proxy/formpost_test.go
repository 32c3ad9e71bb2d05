package proxy

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// formBody builds a FormPost form signed with key for path.
func formBody(t *testing.T, path, key, redirect string, maxSize, maxCount int, expires int64, files map[string]string) ([]byte, string) {
	t.Helper()
	m := hmac.New(sha1.New, []byte(key))
	fmt.Fprintf(m, "%s\n%s\n%d\n%d\n%d", path, redirect, maxSize, maxCount, expires)
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range map[string]string{"redirect": redirect, "max_file_size": fmt.Sprint(maxSize),
		"max_file_count": fmt.Sprint(maxCount), "expires": fmt.Sprint(expires), "signature": hex.EncodeToString(m.Sum(nil))} {
		_ = w.WriteField(k, v)
	}
	for name, data := range files {
		fw, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(data))
	}
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// TestFormPost: a signed form uploads its files under the path's prefix
// without a token; expired forms, bad signatures, too many or too large
// files are refused with Swift's messages; a redirect answers 303.
func TestFormPost(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/f", c.alice, nil)
	c.must(204, "POST", a, c.alice, nil, "X-Account-Meta-Temp-URL-Key", "fkey")
	exp := time.Now().Add(time.Hour).Unix()
	path := a + "/f/up-"

	body, ct := formBody(t, path, "fkey", "", 100, 2, exp, map[string]string{"a.txt": "hello world"})
	r := c.must(201, "POST", path, "", body, "Content-Type", ct)
	if string(r.body) != "201 Created" {
		t.Fatalf("body %q", r.body)
	}
	if r := c.must(200, "GET", a+"/f/up-a.txt", c.alice, nil); string(r.body) != "hello world" {
		t.Fatalf("uploaded %q", r.body)
	}

	body, ct = formBody(t, path, "fkey", "", 100, 2, time.Now().Add(-time.Minute).Unix(), map[string]string{"b": "x"})
	if r := c.must(401, "POST", path, "", body, "Content-Type", ct); !strings.Contains(string(r.body), "FormPost: Form Expired") {
		t.Fatalf("expired: %q", r.body)
	}
	body, ct = formBody(t, path, "wrong", "", 100, 2, exp, map[string]string{"b": "x"})
	if r := c.must(401, "POST", path, "", body, "Content-Type", ct); !strings.Contains(string(r.body), "FormPost: Invalid Signature") {
		t.Fatalf("bad signature: %q", r.body)
	}
	body, ct = formBody(t, path, "fkey", "", 100, 1, exp, map[string]string{"b": "x", "c": "y"})
	if r := c.must(400, "POST", path, "", body, "Content-Type", ct); !strings.Contains(string(r.body), "max file count exceeded") {
		t.Fatalf("count: %q", r.body)
	}
	body, ct = formBody(t, path, "fkey", "", 4, 2, exp, map[string]string{"big": "0123456789"})
	if r := c.must(400, "POST", path, "", body, "Content-Type", ct); !strings.Contains(string(r.body), "max_file_size exceeded") {
		t.Fatalf("size: %q", r.body)
	}
	c.must(404, "GET", a+"/f/up-big", c.alice, nil)

	// The redirect is not followed: the test only reads Location.
	body, ct = formBody(t, path, "fkey", "https://example.invalid/done", 100, 2, exp, map[string]string{"r.txt": "redirected"})
	req, _ := http.NewRequest("POST", c.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 || res.Header.Get("Location") != "https://example.invalid/done?status=201&message=" {
		t.Fatalf("redirect %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	c.must(200, "GET", a+"/f/up-r.txt", c.alice, nil)
}
