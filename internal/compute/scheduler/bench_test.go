package scheduler

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/placement"
)

// benchCloud is 1,000 simulated hosts in a real SQLite placement store.
func benchCloud(b *testing.B) (*fixture, *SimulatedHosts) {
	f := newFixture(b)
	sim, err := NewSimulatedHosts(context.Background(), f.p, 1000, DefaultSimulatedHost)
	if err != nil {
		b.Fatal(err)
	}
	return f, sim
}

// flavor is a small instance: 1 VCPU, 512 MB, 1 GB. A default simulated
// host holds 64 of them (CPU-bound), the cloud 64,000.
var flavor = map[string]int64{placement.VCPU: 1, placement.MemoryMB: 512, placement.DiskGB: 1}

func benchRequest(n int, seq *atomic.Int64) Request {
	r := Request{ProjectID: "bench", UserID: "bench", Resources: flavor}
	for i := 0; i < n; i++ {
		r.ConsumerUUIDs = append(r.ConsumerUUIDs, fmt.Sprintf("be4c0000-0000-4000-8000-%012d", seq.Add(1)))
	}
	return r
}

// referenceCommits times bare durable commits on the benchmark's own
// database and returns their rate, the reference a serial placement rate
// is bounded by: each placement is one such commit plus its statements.
func referenceCommits(b *testing.B, f *fixture) float64 {
	if _, err := f.d.W.Exec(`CREATE TABLE IF NOT EXISTS bench_ref (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		b.Fatal(err)
	}
	const n = 200
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := f.d.W.Exec(`INSERT INTO bench_ref (v) VALUES ('x')`); err != nil {
			b.Fatal(err)
		}
	}
	return n / time.Since(start).Seconds()
}

// reportPlacements reports placements/s and checks, at the end, that no
// host is over capacity and that placement holds exactly the placements.
func reportPlacements(b *testing.B, f *fixture, placed int64) {
	b.ReportMetric(float64(placed)/b.Elapsed().Seconds(), "placements/s")
	b.StopTimer()
	if used := checkNoOvercommit(b, f.p); used != placed*flavor[placement.VCPU] {
		b.Fatalf("VCPU used %d, want %d", used, placed*flavor[placement.VCPU])
	}
}

// BenchmarkSchedule1000Hosts places one instance per call, one call at a
// time, on 1,000 hosts; each placement is a durable claim.
func BenchmarkSchedule1000Hosts(b *testing.B) {
	f, sim := benchCloud(b)
	s := New(sim, f.p, Config{})
	var seq atomic.Int64
	ctx := context.Background()
	ref := referenceCommits(b, f)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Schedule(ctx, benchRequest(1, &seq)); err != nil {
			b.Fatal(err)
		}
	}
	reportPlacements(b, f, int64(b.N))
	b.ReportMetric(ref, "ref-commits/s")
}

// BenchmarkPlan1000Hosts is the in-memory part of a placement alone
// (hosts, filters, candidates, weighers, pick), without the durable claim:
// what a placement costs beyond its commit.
func BenchmarkPlan1000Hosts(b *testing.B) {
	f, sim := benchCloud(b)
	s := New(sim, f.p, Config{})
	var seq atomic.Int64
	ctx := context.Background()
	req := benchRequest(1, &seq)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hosts, err := sim.Hosts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		passed, err := s.filterHosts(hosts, req)
		if err != nil {
			b.Fatal(err)
		}
		providers := make([]string, len(passed))
		for i, h := range passed {
			providers[i] = h.ProviderUUID
		}
		cands, err := f.p.CandidatesAmong(ctx, flavor, providers)
		if err != nil {
			b.Fatal(err)
		}
		if sel, err := s.plan(passed, cands, req, flavor); err != nil || len(sel) != 1 {
			b.Fatal(sel, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "plans/s")
}

// BenchmarkSchedule1000HostsParallel is 32 API workers scheduling one
// instance each at once, as concurrent boot requests do.
func BenchmarkSchedule1000HostsParallel(b *testing.B) {
	f, sim := benchCloud(b)
	s := New(sim, f.p, Config{HostSubsetSize: 4})
	var seq, placed atomic.Int64
	ctx := context.Background()
	ref := referenceCommits(b, f)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Schedule(ctx, benchRequest(1, &seq)); err != nil {
				b.Error(err)
				return
			}
			placed.Add(1)
		}
	})
	reportPlacements(b, f, placed.Load())
	b.ReportMetric(float64(s.LostRaces()), "lost-races")
	b.ReportMetric(ref, "ref-commits/s")
}

// BenchmarkSchedule100Instances is one request for 100 instances (openstack
// server create --min 100) on 1,000 hosts.
func BenchmarkSchedule100Instances(b *testing.B) {
	f, sim := benchCloud(b)
	s := New(sim, f.p, Config{})
	var seq atomic.Int64
	ctx := context.Background()
	ref := referenceCommits(b, f)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Schedule(ctx, benchRequest(100, &seq)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/request")
	reportPlacements(b, f, int64(b.N)*100)
	b.ReportMetric(ref, "ref-commits/s")
}
