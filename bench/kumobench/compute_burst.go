package main

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// burstGoal is the goal for 100 instances in one request.
const burstGoal = 2 * time.Second

// burstPart: repeat times, one POST /servers of min_count=max_count=n on
// simulated hosts, timed to the last ACTIVE. The client polls the short
// list of the reservation's BUILD servers every 5 ms (one small request);
// once none is left, one detailed list checks that all n are ACTIVE and
// gives the server's own figure, the newest launched_at.
func (b *computeBench) burstPart(ctx context.Context, n, repeat int, flavor string) error {
	if err := b.raiseLimits(ctx, map[string]int64{"servers": -1, "class:VCPU": -1, "class:MEMORY_MB": -1, "class:DISK_GB": -1}); err != nil {
		return err
	}
	image, err := b.smallImage(ctx)
	if err != nil {
		return err
	}
	var client, server, post []time.Duration
	mark := b.cpu()
	for i := range repeat {
		t0 := time.Now()
		rid, err := b.createServers(ctx, fmt.Sprintf("bench-burst-%d", i), image, flavor, n)
		if err != nil {
			return err
		}
		post = append(post, time.Since(t0))
		q := url.Values{"reservation_id": {rid}}
		q.Set("status", "BUILD")
		seen, err := b.waitNone(ctx, q.Encode(), 5*time.Millisecond, time.Minute)
		if err != nil {
			return err
		}
		client = append(client, seen.Sub(t0))
		rows, _, _, err := b.listAll(ctx, "/servers/detail?reservation_id="+url.QueryEscape(rid), 1000)
		if err != nil {
			return err
		}
		counts, last, fault := statusCounts(rows)
		if len(rows) != n || counts["ACTIVE"] != n {
			return fmt.Errorf("burst %d (%s): %d servers, by status %v (fault: %q), want %d ACTIVE", i, rid, len(rows), counts, fault, n)
		}
		server = append(server, last.Sub(t0.UTC()))
	}
	l := computeLine{stepLine: durLine(fmt.Sprintf("compute.burst_%d", n), client), Instances: n,
		RunsMs: durMsList(client), ServerMs: durMsList(server), MedianMs: durMs(durMedian(client))}
	l.Note = fmt.Sprintf("one POST of min_count=max_count=%d to the last ACTIVE (client: poll every 5 ms of GET /servers?reservation_id&status=BUILD until empty; server_runs_ms: newest launched_at); POST alone: %v ms", n, durMsList(post))
	slowest := client[0]
	for _, d := range client {
		slowest = max(slowest, d)
	}
	verdict(&l, slowest < burstGoal, "every run < 2000 ms")
	b.since(mark, &l, int64(n*repeat))
	b.emit(l)
	return nil
}
