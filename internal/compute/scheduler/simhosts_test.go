package scheduler

import (
	"context"
	"testing"

	"kumo/internal/placement"
)

// TestSimulatedHostsDurablePlacement schedules 100 instances in one call on
// 50 simulated hosts, then reopens the database: every allocation is there,
// on the host that was selected, and the simulated hosts find their
// providers again.
func TestSimulatedHostsDurablePlacement(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	sim, err := NewSimulatedHosts(ctx, f.p, 50, DefaultSimulatedHost)
	if err != nil {
		t.Fatal(err)
	}
	s := New(sim, f.p, Config{})
	req := request(100)
	req.Resources = map[string]int64{placement.VCPU: 2, placement.MemoryMB: 2048, placement.DiskGB: 20}
	sel, err := s.Schedule(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	perHost := map[string]int{}
	for _, x := range sel {
		perHost[x.Host.Name]++
	}
	// Spread over 50 equal hosts: two each.
	if len(perHost) != 50 {
		t.Fatalf("spread over %d hosts, want 50: %v", len(perHost), perHost)
	}
	f.reopen()
	if used := checkNoOvercommit(t, f.p); used != 200 {
		t.Fatalf("VCPU used after reopen %d, want 200", used)
	}
	for _, x := range sel {
		c, err := f.p.Allocations(ctx, x.ConsumerUUID)
		if err != nil || c.Allocations[0].ProviderUUID != x.Host.ProviderUUID || c.Allocations[0].Resources[placement.DiskGB] != 20 {
			t.Fatalf("%s: %+v %v", x.ConsumerUUID, c, err)
		}
	}
	// Registering the same simulated hosts again keeps their usage.
	sim, err = NewSimulatedHosts(ctx, f.p, 50, DefaultSimulatedHost)
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := sim.Hosts(ctx)
	u, err := f.p.Usages(ctx, hosts[0].ProviderUUID)
	if err != nil || u[placement.VCPU] != 4 {
		t.Fatalf("usage of %s: %v %v", hosts[0].Name, u, err)
	}
	// A disabled simulated host is skipped.
	for i := range hosts {
		sim.Update(i, func(h *Host) { h.Enabled = i == 7 })
	}
	got, err := New(sim, f.p, Config{}).Schedule(ctx, request(1))
	if err != nil || got[0].Host.Name != "sim-host-0007" {
		t.Fatalf("only sim-host-0007 enabled: %v %v", hostNames(got), err)
	}
}
