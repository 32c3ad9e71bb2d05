package scheduler

import (
	"strings"
	"testing"
)

func TestAffinity(t *testing.T) {
	f := newFixture(t)
	f.addHost("h1", 2, 2048, 0)
	f.addHost("h2", 3, 3072, 0)
	f.addHost("h3", 4, 4096, 0)
	s := f.scheduler(Config{})
	// No member yet: all three instances on one host, and only h2 or h3
	// can take three; spread prefers h3.
	req := request(3)
	req.Group = &Group{Policy: "affinity"}
	if got := f.schedule(s, req); !equal(got, []string{"h3", "h3", "h3"}) {
		t.Fatalf("affinity: %v", got)
	}
	// Members on h1: new members follow them although h2 has more room.
	req = request(2)
	req.Group = &Group{Policy: "affinity", MemberHosts: []string{"h1"}}
	if got := f.schedule(s, req); !equal(got, []string{"h1", "h1"}) {
		t.Fatalf("affinity with members on h1: %v", got)
	}
	// h1 is full now: one more member fails, and nothing is claimed.
	req = request(1)
	req.Group = &Group{Policy: "affinity", MemberHosts: []string{"h1", "h1"}}
	f.noValidHost(s, req)
	// Four instances fit on no single host (h2 has 3, h3 has 1 left).
	req = request(4)
	req.Group = &Group{Policy: "affinity"}
	f.noValidHost(s, req)
}

func TestAntiAffinity(t *testing.T) {
	f := newFixture(t)
	f.addHost("h1", 8, 8192, 0)
	f.addHost("h2", 8, 8192, 0)
	f.addHost("h3", 8, 8192, 0)
	s := f.scheduler(Config{})
	req := request(2)
	req.Group = &Group{Policy: "anti-affinity", MemberHosts: []string{"h3"}}
	got := f.schedule(s, req)
	if got[0] == got[1] || got[0] == "h3" || got[1] == "h3" {
		t.Fatalf("anti-affinity: %v", got)
	}
	// A fourth member has no host left.
	req = request(1)
	req.Group = &Group{Policy: "anti-affinity", MemberHosts: []string{"h1", "h2", "h3"}}
	f.noValidHost(s, req)
	// max_server_per_host 2 lets two members share a host.
	req = request(3)
	req.Group = &Group{Policy: "anti-affinity", MaxServerPerHost: 2, MemberHosts: []string{"h1", "h2", "h3"}}
	got = f.schedule(s, req)
	if got[0] == got[1] || got[1] == got[2] || got[0] == got[2] {
		t.Fatalf("max_server_per_host 2: %v", got)
	}
}

// TestAntiAffinityOneHost: with one host, the first member is placed and
// the second fails with ErrNoValidHost, whether it comes in a later request
// or in the same one.
func TestAntiAffinityOneHost(t *testing.T) {
	f := newFixture(t)
	f.addHost("only", 64, 65536, 0)
	s := f.scheduler(Config{})
	req := request(1)
	req.Group = &Group{Policy: "anti-affinity"}
	if got := f.schedule(s, req); got[0] != "only" {
		t.Fatalf("first member: %v", got)
	}
	req = request(1)
	req.Group = &Group{Policy: "anti-affinity", MemberHosts: []string{"only"}}
	nvh := f.noValidHost(s, req)
	if !strings.Contains(nvh.Error(), "No valid host was found") {
		t.Fatalf("error %q", nvh.Error())
	}
	req = request(2)
	req.Group = &Group{Policy: "anti-affinity"}
	nvh = f.noValidHost(s, req)
	if !strings.Contains(nvh.Detail, "only 1 of 2") {
		t.Fatalf("detail %q", nvh.Detail)
	}
	if used := checkNoOvercommit(t, f.p); used != 1 {
		t.Fatalf("VCPU used %d, want 1", used)
	}
}
