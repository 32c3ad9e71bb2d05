package scheduler

import (
	"testing"

	"kumo/internal/placement"
)

func TestWeighNormalises(t *testing.T) {
	st := func(name string, ram, vcpu int64) *hostState {
		return &hostState{host: &Host{Name: name}, cand: &placement.Candidate{Resources: []placement.ResourceSummary{
			{Class: placement.MemoryMB, Capacity: ram}, {Class: placement.VCPU, Capacity: vcpu}}}}
	}
	s := New(hostList{}, nil, Config{})
	// a has the most RAM, c the most VCPUs: normalised, RAM gives a 1, b
	// 0.5, c 0; VCPUs give c 1, b 0.1, a 0. No disk anywhere: 0 for all.
	hosts := []*hostState{st("a", 4096, 1), st("b", 2560, 2), st("c", 1024, 11)}
	weigh(hosts, s.weighers(&Request{}), make([]float64, 3))
	want := []float64{1, 0.6, 1}
	for i, h := range hosts {
		if d := h.weight - want[i]; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: weight %v, want %v", h.host.Name, h.weight, want[i])
		}
	}
	// Equal weights go by name.
	if got := pick(hosts, 1); got.host.Name != "a" {
		t.Fatalf("pick %s", got.host.Name)
	}
	pack := New(hostList{}, nil, Config{Weigher: Pack})
	weigh(hosts, pack.weighers(&Request{}), make([]float64, 3))
	if got := pick(hosts, 1); got.host.Name != "b" {
		t.Fatalf("pack picks %s (weights %v %v %v)", got.host.Name, hosts[0].weight, hosts[1].weight, hosts[2].weight)
	}
	// A subset of 2 never picks the worst host.
	weigh(hosts, s.weighers(&Request{}), make([]float64, 3))
	for i := 0; i < 50; i++ {
		if got := pick(hosts, 2); got.host.Name == "b" {
			t.Fatal("subset 2 picked the worst host")
		}
	}
}

func TestSpreadAndPack(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"h1", "h2", "h3"} {
		f.addHost(n, 4, 4096, 10)
	}
	// Spread: each instance goes to the host with the most free RAM, which
	// the earlier instances of the request have just used.
	if got := f.schedule(f.scheduler(Config{}), request(3)); !equal(got, []string{"h1", "h2", "h3"}) {
		t.Fatalf("spread: %v", got)
	}
	// Pack: fill the fullest host that still fits, then the next.
	f2 := newFixture(t)
	for _, n := range []string{"h1", "h2", "h3"} {
		f2.addHost(n, 4, 4096, 10)
	}
	pack := f2.scheduler(Config{Weigher: Pack})
	if got := f2.schedule(pack, request(6)); !equal(got, []string{"h1", "h1", "h1", "h1", "h2", "h2"}) {
		t.Fatalf("pack: %v", got)
	}
	// The spread scheduler on the same cloud picks the emptiest host.
	if got := f2.schedule(f2.scheduler(Config{}), request(1)); got[0] != "h3" {
		t.Fatalf("spread after pack: %v", got)
	}
}

func TestSoftGroupWeighers(t *testing.T) {
	// Two empty, equal hosts: resources tie and h1 wins by name, unless a
	// group weigher says otherwise.
	equalHosts := func() (*fixture, *Scheduler) {
		f := newFixture(t)
		f.addHost("h1", 8, 8192, 0)
		f.addHost("h2", 8, 8192, 0)
		return f, f.scheduler(Config{})
	}
	f, s := equalHosts()
	if got := f.schedule(s, request(1)); got[0] != "h1" {
		t.Fatalf("no group: want h1 by name, got %v", got)
	}
	f, s = equalHosts()
	req := request(2)
	req.Group = &Group{Policy: "soft-anti-affinity", MemberHosts: []string{"h1"}}
	// First to h2, away from the member; then each host holds one member
	// and h1 has more free resources.
	if got := f.schedule(s, req); !equal(got, []string{"h2", "h1"}) {
		t.Fatalf("soft-anti-affinity: %v", got)
	}
	f, s = equalHosts()
	req = request(1)
	req.Group = &Group{Policy: "soft-affinity", MemberHosts: []string{"h2"}}
	if got := f.schedule(s, req); got[0] != "h2" {
		t.Fatalf("soft-affinity: %v", got)
	}
	// Soft policies never refuse: soft-anti-affinity on a single host.
	one := newFixture(t)
	one.addHost("only", 8, 8192, 0)
	req = request(3)
	req.Group = &Group{Policy: "soft-anti-affinity", MemberHosts: []string{"only"}}
	if got := one.schedule(one.scheduler(Config{}), req); !equal(got, []string{"only", "only", "only"}) {
		t.Fatalf("soft-anti-affinity on one host: %v", got)
	}
}

func TestDiskWeigher(t *testing.T) {
	f := newFixture(t)
	f.addHost("small-disk", 8, 8192, 100)
	f.addHost("big-disk", 8, 8192, 1000)
	req := request(1)
	req.Resources["DISK_GB"] = 10
	// RAM and VCPUs tie: the disk decides, spreading to the bigger disk and
	// packing onto the smaller.
	if got := f.schedule(f.scheduler(Config{}), req); got[0] != "big-disk" {
		t.Fatalf("spread: %v", got)
	}
	g := newFixture(t)
	g.addHost("small-disk", 8, 8192, 100)
	g.addHost("big-disk", 8, 8192, 1000)
	req = request(1)
	req.Resources["DISK_GB"] = 10
	if got := g.schedule(g.scheduler(Config{Weigher: Pack}), req); got[0] != "small-disk" {
		t.Fatalf("pack: %v", got)
	}
}
