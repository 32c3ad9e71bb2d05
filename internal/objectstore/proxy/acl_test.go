package proxy

import (
	"testing"
)

// TestACLMatrix checks who may do what across two projects and anonymous
// callers: owner roles, reader role, reseller admin, container read/write
// ACLs (identity and referrer forms), and account ACLs.
func TestACLMatrix(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/priv", c.alice, nil)
	c.must(201, "PUT", a+"/priv/o", c.alice, []byte("secret"))

	type check struct {
		name        string
		method, url string
		token       string
		want        int
		hdr         []string
	}
	run := func(cs []check) {
		t.Helper()
		for _, k := range cs {
			var body []byte
			if k.method == "PUT" {
				body = []byte("data")
			}
			r := c.do(k.method, k.url, k.token, body, k.hdr...)
			if r.status != k.want {
				t.Errorf("%s: %s %s = %d, want %d (%s)", k.name, k.method, k.url, r.status, k.want, r.body)
			}
		}
	}
	run([]check{
		{"anonymous listing", "GET", a, "", 401, nil},
		{"anonymous object", "GET", a + "/priv/o", "", 401, nil},
		{"bad token is anonymous", "GET", a + "/priv/o", "not-a-token", 401, nil},
		{"other project's member", "GET", a + "/priv/o", c.bob, 403, nil},
		{"other project's member lists", "GET", a + "/priv", c.bob, 403, nil},
		{"other project's member writes", "PUT", a + "/priv/x", c.bob, 403, nil},
		{"other project's member creates container", "PUT", a + "/bobs", c.bob, 403, nil},
		{"reader reads", "GET", a + "/priv/o", c.rita, 200, nil},
		{"reader lists", "GET", a + "/priv", c.rita, 200, nil},
		{"reader heads account", "HEAD", a, c.rita, 204, nil},
		{"reader cannot write", "PUT", a + "/priv/r", c.rita, 403, nil},
		{"reader cannot delete", "DELETE", a + "/priv/o", c.rita, 403, nil},
		{"reader cannot post account", "POST", a, c.rita, 403, nil},
		{"second member owns too", "PUT", a + "/priv/carol", c.carol, 201, nil},
		{"reseller admin reads any account", "GET", a + "/priv/o", c.reseller, 200, nil},
		{"reseller admin writes any account", "PUT", a + "/priv/res", c.reseller, 201, nil},
		{"not a reseller account", "GET", "/v1/OTHER_x", c.alice, 403, nil},
	})

	// Container read ACL naming bob's project:user; write ACL for project B.
	c.must(204, "POST", a+"/priv", c.alice, nil, "X-Container-Read", c.projB+":"+c.bobID, "X-Container-Write", c.projB+":*")
	run([]check{
		{"read ACL user reads", "GET", a + "/priv/o", c.bob, 200, nil},
		{"read ACL user lists", "GET", a + "/priv", c.bob, 200, nil},
		{"write ACL project writes", "PUT", a + "/priv/bob", c.bob, 201, nil},
		{"write ACL project deletes", "DELETE", a + "/priv/bob", c.bob, 204, nil},
		{"ACL does not grant container changes", "POST", a + "/priv", c.bob, 403, []string{"X-Container-Meta-X", "y"}},
		{"ACL does not grant container delete", "DELETE", a + "/priv", c.bob, 403, nil},
		{"still no anonymous", "GET", a + "/priv/o", "", 401, nil},
	})
	// Non-owners do not see the ACLs.
	if r := c.must(204, "HEAD", a+"/priv", c.bob, nil); r.header.Get("X-Container-Read") != "" {
		t.Errorf("ACL shown to a non-owner: %v", r.header)
	}
	if r := c.must(204, "HEAD", a+"/priv", c.alice, nil); r.header.Get("X-Container-Read") == "" {
		t.Errorf("ACL hidden from the owner: %v", r.header)
	}

	// Public read: objects without a token, listings only with .rlistings.
	c.must(201, "PUT", a+"/pub", c.alice, nil, "X-Container-Read", ".r:*")
	c.must(201, "PUT", a+"/pub/o", c.alice, []byte("public"))
	run([]check{
		{"public object", "GET", a + "/pub/o", "", 200, nil},
		{"public object, other project", "GET", a + "/pub/o", c.bob, 200, nil},
		{"public listing needs .rlistings", "GET", a + "/pub", "", 401, nil},
		{"public is read-only", "PUT", a + "/pub/x", "", 401, nil},
	})
	c.must(204, "POST", a+"/pub", c.alice, nil, "X-Container-Read", ".r:*,.rlistings")
	run([]check{{"public listing", "GET", a + "/pub", "", 200, nil}})

	// Referrer rules.
	c.must(201, "PUT", a+"/ref", c.alice, nil, "X-Container-Read", ".r:.example.com,.r:-bad.example.com")
	c.must(201, "PUT", a+"/ref/o", c.alice, []byte("ref"))
	run([]check{
		{"matching referrer", "GET", a + "/ref/o", "", 200, []string{"Referer", "http://www.example.com/page"}},
		{"denied referrer", "GET", a + "/ref/o", "", 401, []string{"Referer", "http://bad.example.com/"}},
		{"no referrer", "GET", a + "/ref/o", "", 401, nil},
	})

	// Account ACL: bob read-only, then read-write, then admin.
	c.must(204, "POST", a, c.alice, nil, "X-Account-Access-Control", `{"read-only":["`+c.projB+`:`+c.bobID+`"]}`)
	run([]check{
		{"account read-only lists account", "GET", a, c.bob, 200, nil},
		{"account read-only reads", "GET", a + "/ref/o", c.bob, 200, nil},
		{"account read-only cannot write", "PUT", a + "/ref/x", c.bob, 403, nil},
	})
	c.must(204, "POST", a, c.alice, nil, "X-Account-Access-Control", `{"read-write":["`+c.projB+`:*"]}`)
	run([]check{
		{"account read-write writes", "PUT", a + "/ref/x", c.bob, 201, nil},
		{"account read-write creates containers", "PUT", a + "/bobs", c.bob, 201, nil},
		{"account read-write cannot set ACLs", "POST", a + "/bobs", c.bob, 403, []string{"X-Container-Read", ".r:*"}},
		{"account read-write cannot post account", "POST", a, c.bob, 403, nil},
	})
	if r := c.must(204, "HEAD", a, c.bob, nil); r.header.Get("X-Account-Access-Control") != "" {
		t.Errorf("account ACL shown to a non-admin")
	}
	c.must(204, "POST", a, c.alice, nil, "X-Account-Access-Control", `{"admin":["`+c.projB+`:`+c.bobID+`"]}`)
	run([]check{
		{"account admin posts account", "POST", a, c.bob, 204, []string{"X-Account-Meta-By", "bob"}},
		{"account admin sets ACLs", "POST", a + "/bobs", c.bob, 204, []string{"X-Container-Read", ".r:*"}},
	})
	if r := c.must(204, "HEAD", a, c.alice, nil); r.header.Get("X-Account-Access-Control") == "" {
		t.Errorf("account ACL hidden from the owner")
	}
	// Bad ACLs are refused.
	run([]check{
		{"bad account ACL", "POST", a, c.alice, 400, []string{"X-Account-Access-Control", `{"owner":["x"]}`}},
		{"bad account ACL JSON", "POST", a, c.alice, 400, []string{"X-Account-Access-Control", `[`}},
		{"referrer in write ACL", "POST", a + "/priv", c.alice, 400, []string{"X-Container-Write", ".r:*"}},
		{"unknown designator", "POST", a + "/priv", c.alice, 400, []string{"X-Container-Read", ".x:*"}},
		{"empty referrer", "POST", a + "/priv", c.alice, 400, []string{"X-Container-Read", ".r:"}},
	})
}
