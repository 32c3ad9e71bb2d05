package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// throughputGoal is the scheduler goal, placements per second.
const throughputGoal = 500

// ratios are the allocation ratios and reserved memory of the cloud under
// test (kumo's defaults, Nova's too: config.Defaults().Compute).
type ratios struct {
	cpu, ram, disk float64
	reservedMemMB  int
}

// throughputPart: n single-instance POSTs from conc clients at once on
// simulated hosts; placements/s is n over the time from the first POST to
// the last ACTIVE (polled: no BUILD server left), and over the newest
// launched_at for the server's own figure. Then no host may hold more than
// its capacity.
func (b *computeBench) throughputPart(ctx context.Context, n, conc int, flavor string, r ratios) error {
	if err := b.raiseLimits(ctx, map[string]int64{"servers": -1, "class:VCPU": -1, "class:MEMORY_MB": -1, "class:DISK_GB": -1}); err != nil {
		return err
	}
	image, err := b.smallImage(ctx)
	if err != nil {
		return err
	}
	// Servers already there (an earlier run on the same cloud) are counted
	// in the checks: the hosts hold them too.
	before, err := b.countStatus(ctx, "")
	if err != nil {
		return err
	}
	mark := b.cpu()
	t0 := time.Now()
	lat, err := b.createMany(ctx, "bench-tp", n, conc, image, flavor)
	if err != nil {
		return err
	}
	postEnd := time.Since(t0)
	seen, err := b.waitNone(ctx, "status=BUILD", 20*time.Millisecond, 5*time.Minute)
	if err != nil {
		return err
	}
	elapsed := seen.Sub(t0)
	cpuMark := b.cpu() // before the checks' own requests
	rows, _, _, err := b.listAll(ctx, "/servers/detail", 1000)
	if err != nil {
		return err
	}
	counts, last, fault := statusCounts(rows)
	if counts["ACTIVE"] != before+n || len(rows) != before+n {
		return fmt.Errorf("%d servers, by status %v (fault: %q), want %d ACTIVE", len(rows), counts, fault, before+n)
	}
	hv, err := b.hypervisors(ctx)
	if err != nil {
		return err
	}
	over, msgs := overcommitted(hv, r)
	placed := 0
	for _, h := range hv {
		placed += h.RunningVMs
	}

	l := computeLine{stepLine: stepResult{ops: int64(n), lat: lat, elapsed: elapsed}.line("compute.schedule_throughput", conc),
		Instances: n, Hosts: len(hv), Overcommit: &over}
	l.PerS = round(float64(n)/elapsed.Seconds(), 1)
	l.ServerMs = []float64{durMs(last.Sub(t0.UTC()))}
	l.Note = fmt.Sprintf("ACTIVE/s = %d / first POST to no BUILD left (polled every 20 ms); by launched_at %.1f/s; POSTs done at %.0f ms (%.1f POST/s); latencies are the POSTs'; %d servers before; hosts' running_vms sum %d",
		n, float64(n)/last.Sub(t0.UTC()).Seconds(), durMs(postEnd), float64(n)/postEnd.Seconds(), before, placed)
	verdict(&l, l.PerS >= throughputGoal && over == 0 && placed == before+n, ">= 500 ACTIVE/s, no host over capacity")
	if len(msgs) > 0 {
		l.ErrSample = msgs[0]
	}
	b.cpuDelta(mark, cpuMark, &l, int64(n))
	b.emit(l)
	if over > 0 || placed != before+n {
		return fmt.Errorf("%d hosts over capacity, %d instances on hosts of %d: %v", over, placed, before+n, msgs)
	}
	return nil
}

// createMany posts n single-instance creates from conc clients and
// returns the latencies; it stops at the 10th failure.
func (b *computeBench) createMany(ctx context.Context, prefix string, n, conc int, image, flavor string) ([]time.Duration, error) {
	var next, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var sample string
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil && errs.Load() < 10 {
				i := next.Add(1)
				if i > int64(n) {
					break
				}
				s := time.Now()
				if _, err := b.createServers(ctx, fmt.Sprintf("%s-%d", prefix, i), image, flavor, 1); err != nil {
					errs.Add(1)
					mu.Lock()
					sample = err.Error()
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(s))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if errs.Load() > 0 {
		return lat, fmt.Errorf("%d POST /servers failed, e.g. %s", errs.Load(), sample)
	}
	return lat, ctx.Err()
}

// hypervisor is what the over-commit check reads of os-hypervisors/detail.
type hypervisor struct {
	Name       string `json:"hypervisor_hostname"`
	VCPUs      int    `json:"vcpus"`
	VCPUsUsed  int    `json:"vcpus_used"`
	MemMB      int    `json:"memory_mb"`
	MemMBUsed  int    `json:"memory_mb_used"`
	DiskGB     int    `json:"local_gb"`
	DiskUsed   int    `json:"local_gb_used"`
	RunningVMs int    `json:"running_vms"`
}

// hypervisors reads every page of GET /os-hypervisors/detail (2.53: paged
// with limit and hypervisors_links).
func (b *computeBench) hypervisors(ctx context.Context) ([]hypervisor, error) {
	save := b.micro
	b.micro = "2.53"
	defer func() { b.micro = save }()
	u := b.nova + "/os-hypervisors/detail?limit=1000"
	var out []hypervisor
	for range 1000 {
		var page struct {
			Hypervisors []hypervisor `json:"hypervisors"`
			Links       []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"hypervisors_links"`
		}
		if err := b.want(ctx, http.StatusOK, "GET", u, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Hypervisors...)
		u = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				u = l.Href
			}
		}
		if u == "" || len(page.Hypervisors) == 0 {
			return out, nil
		}
		if err := onLoopback(u); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("os-hypervisors/detail: more than 1000 pages")
}

// overcommitted counts the hosts whose usage exceeds placement's capacity,
// (total - reserved) x allocation ratio, of VCPU, MEMORY_MB or DISK_GB.
func overcommitted(hv []hypervisor, r ratios) (int, []string) {
	n := 0
	var msgs []string
	for _, h := range hv {
		var why []string
		if float64(h.VCPUsUsed) > float64(h.VCPUs)*r.cpu {
			why = append(why, fmt.Sprintf("vcpus_used %d > %d x %g", h.VCPUsUsed, h.VCPUs, r.cpu))
		}
		if float64(h.MemMBUsed) > float64(h.MemMB-r.reservedMemMB)*r.ram {
			why = append(why, fmt.Sprintf("memory_mb_used %d > (%d - %d) x %g", h.MemMBUsed, h.MemMB, r.reservedMemMB, r.ram))
		}
		if float64(h.DiskUsed) > float64(h.DiskGB)*r.disk {
			why = append(why, fmt.Sprintf("local_gb_used %d > %d x %g", h.DiskUsed, h.DiskGB, r.disk))
		}
		if len(why) > 0 {
			n++
			msgs = append(msgs, fmt.Sprintf("%s: %v", h.Name, why))
		}
	}
	return n, msgs
}
