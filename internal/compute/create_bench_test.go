package compute

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCreate1000Hosts is the whole create path in one process, as
// bench/compute.sh's throughput part drives it over HTTP: single-instance
// POST /servers from 16 clients on 1,000 simulated hosts (real placement,
// scheduler, managers, SQLite), timed to the last ACTIVE. It reports
// ACTIVE/s and the process CPU per create (the clients' HTTP included):
// CPU is the figure that holds on a shared machine.
func BenchmarkCreate1000Hosts(b *testing.B) { benchCreate(b, 1000, 16, 1) }

// BenchmarkCreate1000HostsMulti is the same with min_count=max_count=50
// per POST (b.N counts instances).
func BenchmarkCreate1000HostsMulti(b *testing.B) { benchCreate(b, 1000, 4, 50) }

func benchCreate(b *testing.B, hosts, clients, perPost int) {
	sc := newSimCloud(b, hosts)
	// A small image: the test catalog hashes an image's data on every
	// lookup, which Glance does not, and would dominate the profile.
	img := sc.images.add("", true, "active", 0, 0, []byte("kumo-bench-image"))
	posts := (b.N + perPost - 1) / perPost
	n := posts * perPost
	cpu0, t0 := procCPU(), time.Now()
	var next, fails atomic.Int64
	var sample atomic.Value
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fails.Load() == 0 {
				i := next.Add(1)
				if i > int64(posts) {
					return
				}
				srv := map[string]any{"name": fmt.Sprint("b-", i), "imageRef": img, "flavorRef": "1", "networks": "none"}
				if perPost > 1 {
					srv["min_count"], srv["max_count"] = perPost, perPost
				}
				if r := sc.req("POST", "/v2.1/servers", sc.alice, map[string]any{"server": srv}, "mv", "2.37"); r.status != 202 {
					fails.Add(1)
					sample.Store(fmt.Sprintf("%d %s", r.status, r.raw))
				}
			}
		}()
	}
	wg.Wait()
	if fails.Load() > 0 {
		b.Fatalf("create failed: %v", sample.Load())
	}
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Minute)
	var building int
	for time.Now().Before(deadline) {
		if err := sc.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE deleted = 0 AND vm_state = 'building'`).Scan(&building); err != nil {
			b.Fatal(err)
		}
		if building == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed, cpu := time.Since(t0), procCPU()-cpu0
	b.StopTimer()
	var active int
	if err := sc.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE deleted = 0 AND vm_state = 'active'`).Scan(&active); err != nil {
		b.Fatal(err)
	}
	if active != n {
		b.Fatalf("%d ACTIVE of %d created (%d still building)", active, n, building)
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "active/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/create")
}

// procCPU is the process's user and system CPU time so far.
func procCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
