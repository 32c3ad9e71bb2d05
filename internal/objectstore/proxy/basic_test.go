package proxy

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestAccountContainerObjectLifecycle walks every verb through the proxy:
// account autocreate, container and object CRUD, metadata set and removed,
// usage headers, and the Tempest header formats on each response.
func TestAccountContainerObjectLifecycle(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	// An account that was never written is an empty listing for its owner.
	r := c.must(204, "HEAD", a, c.alice, nil)
	checkTarget(t, "Account", r)
	r = c.must(200, "GET", a+"?format=json", c.alice, nil)
	if string(r.body) != "[]" {
		t.Fatalf("empty account listing %q", r.body)
	}

	r = c.must(201, "PUT", a+"/photos", c.alice, nil, "X-Container-Meta-Color", "blue")
	if r.header.Get("Content-Length") != "0" {
		t.Errorf("PUT container Content-Length %q", r.header.Get("Content-Length"))
	}
	c.must(202, "PUT", a+"/photos", c.alice, nil)
	r = c.must(204, "HEAD", a+"/photos", c.alice, nil)
	checkTarget(t, "Container", r)
	if r.header.Get("X-Container-Meta-Color") != "blue" || r.header.Get("X-Storage-Policy") != "Policy-0" {
		t.Fatalf("container headers %v", r.header)
	}
	c.must(204, "POST", a+"/photos", c.alice, nil, "X-Remove-Container-Meta-Color", "x", "X-Container-Meta-Size", "big",
		"X-Container-Meta-under_score", "u")
	r = c.must(204, "HEAD", a+"/photos", c.alice, nil)
	if r.header.Get("X-Container-Meta-Color") != "" || r.header.Get("X-Container-Meta-Size") != "big" ||
		r.header.Get("X-Container-Meta-Under-Score") != "u" {
		t.Fatalf("container metadata after POST %v", r.header)
	}

	body := []byte("hello, swift")
	r = c.must(201, "PUT", a+"/photos/dir/cat.jpg", c.alice, body, "X-Object-Meta-Kind", "cat")
	if r.header.Get("Etag") != md5hex(body) || r.header.Get("Last-Modified") == "" {
		t.Fatalf("PUT object headers %v", r.header)
	}
	r = c.must(200, "GET", a+"/photos/dir/cat.jpg", c.alice, nil)
	checkTarget(t, "Object", r)
	if string(r.body) != string(body) || r.header.Get("Content-Type") != "image/jpeg" ||
		r.header.Get("X-Object-Meta-Kind") != "cat" || r.header.Get("Etag") != md5hex(body) {
		t.Fatalf("GET object: %q %v", r.body, r.header)
	}
	r = c.must(200, "HEAD", a+"/photos/dir/cat.jpg", c.alice, nil)
	if r.header.Get("Content-Length") != "12" {
		t.Fatalf("HEAD Content-Length %q", r.header.Get("Content-Length"))
	}
	// POST replaces the object's user metadata.
	c.must(202, "POST", a+"/photos/dir/cat.jpg", c.alice, nil, "X-Object-Meta-Owner", "alice")
	r = c.must(200, "HEAD", a+"/photos/dir/cat.jpg", c.alice, nil)
	if r.header.Get("X-Object-Meta-Kind") != "" || r.header.Get("X-Object-Meta-Owner") != "alice" {
		t.Fatalf("object metadata after POST %v", r.header)
	}

	// Usage reaches the container at once and the account shortly after.
	r = c.must(204, "HEAD", a+"/photos", c.alice, nil)
	if r.header.Get("X-Container-Object-Count") != "1" || r.header.Get("X-Container-Bytes-Used") != "12" {
		t.Fatalf("container usage %v", r.header)
	}
	eventually(t, func() string {
		r := c.must(204, "HEAD", a, c.alice, nil)
		if r.header.Get("X-Account-Object-Count") != "1" || r.header.Get("X-Account-Bytes-Used") != "12" ||
			r.header.Get("X-Account-Container-Count") != "1" {
			return "account usage: " + r.header.Get("X-Account-Object-Count") + " objects"
		}
		checkTarget(t, "Account", r)
		return ""
	})
	c.must(204, "POST", a, c.alice, nil, "X-Account-Meta-Team", "kumo")
	r = c.must(200, "GET", a+"?format=json", c.alice, nil)
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0]["name"] != "photos" {
		t.Fatalf("account listing %s", r.body)
	}
	if r.header.Get("X-Account-Meta-Team") != "kumo" {
		t.Fatalf("account metadata %v", r.header)
	}
	c.must(204, "POST", a, c.alice, nil, "X-Remove-Account-Meta-Team", "x")
	if v := c.must(204, "HEAD", a, c.alice, nil).header.Get("X-Account-Meta-Team"); v != "" {
		t.Fatalf("account metadata not removed: %q", v)
	}

	// A container with objects cannot be deleted.
	c.must(409, "DELETE", a+"/photos", c.alice, nil)
	c.must(204, "DELETE", a+"/photos/dir/cat.jpg", c.alice, nil)
	c.must(404, "DELETE", a+"/photos/dir/cat.jpg", c.alice, nil)
	c.must(404, "GET", a+"/photos/dir/cat.jpg", c.alice, nil)
	c.must(204, "DELETE", a+"/photos", c.alice, nil)
	c.must(404, "HEAD", a+"/photos", c.alice, nil)
	c.must(404, "DELETE", a+"/photos", c.alice, nil)
	// Account PUT/DELETE are not allowed (allow_account_management off).
	c.must(405, "PUT", a, c.alice, nil)
}

// TestAccountListingImmediate: a created container is in the account
// listing as soon as the PUT returns, and gone as soon as the DELETE does
// (Tempest lists right after creating), as in Swift.
func TestAccountListingImmediate(t *testing.T) {
	c := newCluster(t)
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("now%d", i)
		c.must(201, "PUT", c.acctA+"/"+name, c.alice, nil)
		if body := string(c.must(200, "GET", c.acctA, c.alice, nil).body); !strings.Contains(body, name+"\n") {
			t.Fatalf("%s not listed right after PUT: %q", name, body)
		}
	}
	c.must(204, "DELETE", c.acctA+"/now2", c.alice, nil)
	if body := string(c.must(200, "GET", c.acctA, c.alice, nil).body); strings.Contains(body, "now2") {
		t.Fatalf("now2 listed right after DELETE: %q", body)
	}
	r := c.must(204, "HEAD", c.acctA, c.alice, nil)
	if r.header.Get("X-Account-Container-Count") != "4" {
		t.Fatalf("container count %q", r.header.Get("X-Account-Container-Count"))
	}
}

// TestInfoHealthcheckCrossdomain checks the discovery documents.
func TestInfoHealthcheckCrossdomain(t *testing.T) {
	c := newCluster(t)
	r := c.must(200, "GET", "/info", "", nil)
	var info map[string]map[string]any
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatal(err)
	}
	sw := info["swift"]
	if sw["container_listing_limit"].(float64) != 10000 || sw["max_file_size"].(float64) != 5368709122 {
		t.Fatalf("info %v", sw)
	}
	for k := range info {
		switch k {
		case "swift", "crossdomain", "dlo", "slo", "account_quotas", "container_quotas", "tempurl", "bulk_delete", "bulk_upload",
			"versioned_writes", "formpost", "staticweb":
		default:
			t.Errorf("/info lists %q, which is not implemented", k)
		}
	}
	if r := c.must(200, "GET", "/healthcheck", "", nil); string(r.body) != "OK" {
		t.Fatalf("healthcheck %q", r.body)
	}
	if r := c.must(200, "GET", "/crossdomain.xml", "", nil); !strings.Contains(string(r.body), `allow-access-from domain="*"`) {
		t.Fatalf("crossdomain %q", r.body)
	}
	c.must(404, "GET", "/v2/foo", "", nil)
}

var _ = http.StatusOK
