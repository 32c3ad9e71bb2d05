package placement

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BenchmarkCommitReference is the reference the claim benchmarks compare
// with: one bare INSERT committed with synchronous=FULL, i.e. the cost of
// one durable transaction on this disk.
func BenchmarkCommitReference(b *testing.B) {
	s, d := openTestStore(b, filepath.Join(b.TempDir(), "p.db"))
	defer d.Close()
	defer s.Close()
	if _, err := d.W.Exec(`CREATE TABLE ref (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.W.Exec(`INSERT INTO ref (v) VALUES (?)`, "x"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func benchStore(b *testing.B, hosts int) *Store {
	s, d := openTestStore(b, filepath.Join(b.TempDir(), "p.db"))
	b.Cleanup(func() { s.Close(); d.Close() })
	for h := 0; h < hosts; h++ {
		if err := s.SetInventory(context.Background(), consumerID(900000+h), fmt.Sprintf("h%d", h),
			map[string]Inventory{VCPU: {Total: 1 << 20}, MemoryMB: {Total: 1 << 30}}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkClaimSerial is one claim at a time: one transaction each.
func BenchmarkClaimSerial(b *testing.B) {
	s := benchStore(b, 1)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Claim(ctx, consumerID(i), "p", "u", consumerID(900000), res(1, 512)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkClaimParallel is 32 callers claiming at once, which the group
// commit folds into shared transactions.
func BenchmarkClaimParallel(b *testing.B) {
	s := benchStore(b, 16)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if err := s.Claim(ctx, consumerID(i), "p", "u", consumerID(900000+i%16), res(1, 512)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}
