package proxy

import (
	"testing"
	"time"
)

// TestInfoCacheRules: what the cache keeps and for how long, and that an
// invalidation during a HEAD keeps that HEAD's (older) answer out.
func TestInfoCacheRules(t *testing.T) {
	var c infoCache
	live := containerInfo{status: 204, write: "AUTH_x", usage: usage{quotaBytes: -1, quotaCnt: -1}}
	c.put("k", c.generation(), live)
	if got, ok := c.get("k"); !ok || got.write != "AUTH_x" {
		t.Fatalf("a live container without quota is not cached: %v %+v", ok, got)
	}
	c.invalidate("k")
	if _, ok := c.get("k"); ok {
		t.Fatal("invalidate left the entry")
	}
	gen := c.generation()
	c.invalidate("other") // a write lands while the HEAD is in flight
	c.put("k", gen, live)
	if _, ok := c.get("k"); ok {
		t.Fatal("a HEAD begun before an invalidation was cached")
	}
	quota := live
	quota.usage.quotaCnt = 5
	c.put("q", c.generation(), quota)
	if _, ok := c.get("q"); ok {
		t.Fatal("a container with a quota was cached: its usage changes with every write")
	}
	c.put("n", c.generation(), containerInfo{status: 404, usage: usage{quotaBytes: -1, quotaCnt: -1}})
	if _, ok := c.get("n"); ok {
		t.Fatal("a missing container was cached")
	}
	c.put("old", c.generation(), live)
	c.mu.Lock()
	e := c.entries["old"]
	e.expires = time.Now().Add(-time.Second)
	c.entries["old"] = e
	c.mu.Unlock()
	if _, ok := c.get("old"); ok {
		t.Fatal("an expired entry was served")
	}
}

// TestInfoCacheInvalidation: changes made through the proxy take effect on
// the very next request although object writes are served from the
// cached container and account info: an ACL granted and revoked, a
// container quota and an account quota set after the cache was filled, a
// container deleted and created again.
func TestInfoCacheInvalidation(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/ic", c.alice, nil)
	c.must(201, "PUT", a+"/ic/o1", c.alice, []byte("x")) // fills the cache

	// carol is a member of A: use bob (project B) for ACLs.
	c.must(403, "PUT", a+"/ic/b1", c.bob, []byte("x"))
	c.must(204, "POST", a+"/ic", c.alice, nil, "X-Container-Write", c.projB+":"+c.bobID)
	c.must(201, "PUT", a+"/ic/b1", c.bob, []byte("x"))
	c.must(204, "POST", a+"/ic", c.alice, nil, "X-Remove-Container-Write", "x")
	c.must(403, "PUT", a+"/ic/b2", c.bob, []byte("x"))

	c.must(201, "PUT", a+"/ic/o2", c.alice, []byte("x"))
	c.must(204, "POST", a+"/ic", c.alice, nil, "X-Container-Meta-Quota-Bytes", "1")
	c.must(413, "PUT", a+"/ic/big", c.alice, []byte("xy"))
	c.must(204, "POST", a+"/ic", c.alice, nil, "X-Remove-Container-Meta-Quota-Bytes", "x")
	c.must(201, "PUT", a+"/ic/big", c.alice, []byte("xy"))

	c.must(204, "POST", a, c.reseller, nil, "X-Account-Meta-Quota-Bytes", "1")
	c.must(413, "PUT", a+"/ic/big2", c.alice, []byte("xy"))
	c.must(204, "POST", a, c.reseller, nil, "X-Remove-Account-Meta-Quota-Bytes", "x")
	c.must(201, "PUT", a+"/ic/big2", c.alice, []byte("xy"))

	c.must(201, "PUT", a+"/gone", c.alice, nil)
	c.must(201, "PUT", a+"/gone/o", c.alice, []byte("x")) // cached
	c.must(204, "DELETE", a+"/gone/o", c.alice, nil)
	eventually(t, func() string {
		if r := c.do("DELETE", a+"/gone", c.alice, nil); r.status != 204 {
			return "container DELETE: " + r.header.Get("X-Trans-Id")
		}
		return ""
	})
	c.must(404, "PUT", a+"/gone/o2", c.alice, []byte("x"))
	c.must(404, "DELETE", a+"/gone/o", c.alice, nil)
	c.must(201, "PUT", a+"/gone", c.alice, nil)
	c.must(201, "PUT", a+"/gone/o2", c.alice, []byte("x"))
}
