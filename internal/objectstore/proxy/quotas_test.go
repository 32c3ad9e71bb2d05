package proxy

import (
	"testing"
)

// TestQuotas: container quotas (bytes and count, set by the owner) and
// account quotas (set only by a reseller admin) refuse uploads past them
// with 413.
func TestQuotas(t *testing.T) {
	c := newCluster(t)
	a := c.acctA
	c.must(201, "PUT", a+"/q", c.alice, nil, "X-Container-Meta-Quota-Bytes", "10", "X-Container-Meta-Quota-Count", "2")
	c.must(201, "PUT", a+"/q/one", c.alice, []byte("12345"))
	c.must(413, "PUT", a+"/q/big", c.alice, []byte("123456"))
	c.must(201, "PUT", a+"/q/two", c.alice, []byte("12345"))
	c.must(413, "PUT", a+"/q/three", c.alice, []byte{})
	c.must(400, "POST", a+"/q", c.alice, nil, "X-Container-Meta-Quota-Bytes", "ten")
	c.must(204, "POST", a+"/q", c.alice, nil, "X-Remove-Container-Meta-Quota-Count", "x", "X-Container-Meta-Quota-Bytes", "")
	c.must(201, "PUT", a+"/q/three", c.alice, []byte("more than ten bytes"))

	// Account quota: the owner may not set it, a reseller admin may.
	c.must(403, "POST", a, c.alice, nil, "X-Account-Meta-Quota-Bytes", "100")
	c.must(403, "POST", a, c.alice, nil, "X-Remove-Account-Meta-Quota-Bytes", "x")
	c.must(400, "POST", a, c.reseller, nil, "X-Account-Meta-Quota-Bytes", "-1")
	c.must(204, "POST", a, c.reseller, nil, "X-Account-Meta-Quota-Bytes", "40")
	c.must(201, "PUT", a+"/free", c.alice, nil)
	eventually(t, func() string {
		if r := c.do("PUT", a+"/free/big", c.alice, make([]byte, 20)); r.status != 413 {
			c.must(204, "DELETE", a+"/free/big", c.alice, nil)
			return "account quota not enforced yet"
		}
		return ""
	})
	c.must(201, "PUT", a+"/free/small", c.alice, []byte("x"))
	c.must(204, "POST", a, c.reseller, nil, "X-Remove-Account-Meta-Quota-Bytes", "x")
	c.must(201, "PUT", a+"/free/big", c.alice, make([]byte, 20))
}
