package compute

import (
	"context"
	"fmt"
	"testing"
)

// TestServiceRegistryCache checks that the services list is served from
// memory (a write that bypasses the registry is not seen), and that every
// write through the registry is seen at once.
func TestServiceRegistryCache(t *testing.T) {
	tc := newTestCloud(t)
	reg, now := tc.withRegistry()
	ctx := context.Background()
	computes := func() []*computeService {
		t.Helper()
		l, err := reg.list(ctx, "", "nova-compute")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := computes(); len(l) != 2 || l[0].Host != "c1" || l[1].Host != "c2" {
		t.Fatalf("computes %+v", l)
	}
	// Cached: a write behind the registry's back is not read again.
	if _, err := tc.db.W.Exec(`UPDATE compute_services SET disabled = 1 WHERE host = 'c1'`); err != nil {
		t.Fatal(err)
	}
	if computes()[0].Disabled {
		t.Fatal("list read the table again instead of its cache")
	}
	if _, err := tc.db.W.Exec(`UPDATE compute_services SET disabled = 0 WHERE host = 'c1'`); err != nil {
		t.Fatal(err)
	}
	// A caller's change to a listed row does not reach the cache.
	computes()[0].Disabled = true
	if computes()[0].Disabled {
		t.Fatal("list handed out the cached row")
	}

	// Writes through the registry: update, register, heartbeat, delete.
	cs := computes()[0]
	cs.Disabled = true
	if err := reg.update(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if !computes()[0].Disabled {
		t.Fatal("update not seen")
	}
	if err := reg.RegisterService(ctx, "c3", "nova-compute", ""); err != nil {
		t.Fatal(err)
	}
	if l := computes(); len(l) != 3 || l[2].Host != "c3" {
		t.Fatalf("register not seen: %+v", l)
	}
	*now = now.Add(2 * reg.DownTime)
	if reg.up(computes()[1]) {
		t.Fatal("c2 up without a heartbeat")
	}
	if err := reg.Heartbeat(ctx, "c2", "nova-compute"); err != nil {
		t.Fatal(err)
	}
	if c2 := computes()[1]; !reg.up(c2) || !c2.lastSeen().Equal(*now) {
		t.Fatalf("heartbeat not seen: last seen %v, now %v", c2.lastSeen(), *now)
	}
	if reg.up(computes()[0]) {
		t.Fatal("heartbeat of c2 marked c1 up")
	}
	if err := reg.deleteService(ctx, computes()[2]); err != nil {
		t.Fatal(err)
	}
	if l := computes(); len(l) != 2 {
		t.Fatalf("delete not seen: %+v", l)
	}
	// And through the API (os-services PUT, as an admin).
	tc.must(200, "PUT", "/v2.1/os-services/enable", tc.admin, map[string]any{"host": "c1", "binary": "nova-compute"})
	if computes()[0].Disabled {
		t.Fatal("os-services enable not seen")
	}
}

// TestInstanceQuotaSkipsCountWhenUnlimited checks that with every limit
// unlimited the usage is not counted (the instances table is not read),
// and that a finite limit still counts.
func TestInstanceQuotaSkipsCountWhenUnlimited(t *testing.T) {
	limits := fixedLimits{resServers: -1, resVCPU: -1, resMemoryMB: -1, resDiskGB: -1}
	tc := newTestCloud(t, func(c *Config) { c.Limits = limits })
	ctx := context.Background()
	tc.insertInstance("00000000-0000-4000-8000-000000000001", tc.projA, "h1", 4, 512, 1, false)
	// Without its table, counting would fail.
	if _, err := tc.db.W.Exec(`ALTER TABLE instances RENAME TO instances_away`); err != nil {
		t.Fatal(err)
	}
	n, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 1, 3, InstanceResources{VCPUs: 2, MemoryMB: 64, DiskGB: 1})
	if err != nil || n != 3 {
		t.Fatalf("unlimited: %d, %v; want 3 without counting", n, err)
	}
	limits[resVCPU] = 5
	if _, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 1, 3, InstanceResources{VCPUs: 2}); err == nil {
		t.Fatal("a finite limit did not count the usage")
	}
	if _, err := tc.db.W.Exec(`ALTER TABLE instances_away RENAME TO instances`); err != nil {
		t.Fatal(err)
	}
	// 4 used + 2 per server under 5 vCPUs: none fits.
	if _, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 1, 3, InstanceResources{VCPUs: 2}); err == nil {
		t.Fatal("over the vCPU limit allowed")
	}
	limits[resVCPU] = 8 // 4 + 2*2: two fit
	if n, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 1, 3, InstanceResources{VCPUs: 2}); err != nil || n != 2 {
		t.Fatalf("limit 8: %d, %v; want 2", n, err)
	}
}

// BenchmarkSchedulerHosts1000 is the scheduler's host list with 1,000
// compute services: from the cache (each placement) and from the table
// (what each placement cost before the cache).
func BenchmarkSchedulerHosts1000(b *testing.B) {
	tc := newTestCloud(b)
	reg := NewServiceRegistry(tc.db)
	ctx := context.Background()
	for i := range 1000 {
		if err := reg.RegisterService(ctx, fmt.Sprintf("sim-%04d", i), "nova-compute", ""); err != nil {
			b.Fatal(err)
		}
	}
	src := SchedulerHosts{Registry: reg, Provider: func(host string) string { return "rp-" + host }}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if h, err := src.Hosts(ctx); err != nil || len(h) != 1000 {
				b.Fatal(len(h), err)
			}
		}
	})
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			reg.cache.invalidate()
			if h, err := src.Hosts(ctx); err != nil || len(h) != 1000 {
				b.Fatal(len(h), err)
			}
		}
	})
}
