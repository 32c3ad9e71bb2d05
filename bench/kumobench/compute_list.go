package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// listGoal is the goal for list and detail requests.
const listGoal = 30 * time.Millisecond

// listPart: n instances on simulated hosts (POSTs of min_count=100 from
// createConc clients), all ACTIVE; then each list request listReqs times
// (bigReqs for the 1000-entry pages) at listConc after 20 unrecorded, and
// 3 walks of every page.
func (b *computeBench) listPart(ctx context.Context, n, createConc, listConc, listReqs, bigReqs int, flavor string) error {
	if err := b.raiseLimits(ctx, map[string]int64{"servers": -1, "class:VCPU": -1, "class:MEMORY_MB": -1, "class:DISK_GB": -1}); err != nil {
		return err
	}
	image, err := b.smallImage(ctx)
	if err != nil {
		return err
	}
	// The project is to hold n servers: earlier ones (another part on the
	// same cloud) count.
	before, err := b.countStatus(ctx, "")
	if err != nil {
		return err
	}
	if n > before {
		if err := b.fill(ctx, n-before, createConc, image, flavor); err != nil {
			return err
		}
	}
	n = max(n, before)
	steps := []struct {
		name, path string
		want, reqs int
	}{
		{"compute.list_servers_default", "/servers", min(n, 1000), bigReqs},
		{"compute.list_servers_limit100", "/servers?limit=100", min(n, 100), listReqs},
		{"compute.list_detail_limit100", "/servers/detail?limit=100", min(n, 100), listReqs},
		{"compute.list_detail_default", "/servers/detail", min(n, 1000), bigReqs},
	}
	for _, st := range steps {
		op := func(ctx context.Context) (time.Duration, error) { return b.listOnce(ctx, st.path, st.want) }
		for range 20 { // warm-up, not recorded
			if _, err := op(ctx); err != nil {
				return err
			}
		}
		mark := b.cpu()
		res := runTimedStep(ctx, listConc, 5*time.Minute, int64(st.reqs), op)
		l := computeLine{stepLine: res.line(st.name, listConc), Instances: n}
		l.Note = fmt.Sprintf("GET %s with %d instances: %d entries per answer from %d clients; latency is request to "+
			"last byte, the answer's JSON is checked after it", st.path, n, st.want, listConc)
		verdict(&l, res.errors == 0 && time.Duration(l.P99ms*1e6) < listGoal, "p99 < 30 ms")
		b.since(mark, &l, res.ops)
		b.emit(l)
	}
	for _, w := range []struct{ name, path string }{
		{"compute.walk_servers_limit1000", "/servers"},
		{"compute.walk_detail_limit1000", "/servers/detail"},
	} {
		var runs, pageLat []time.Duration
		pages := 0
		mark := b.cpu()
		for range 3 {
			t0 := time.Now()
			rows, p, lat, err := b.listAll(ctx, w.path, 1000)
			if err != nil {
				return err
			}
			if len(rows) != n {
				return fmt.Errorf("walk of %s: %d servers, want %d", w.path, len(rows), n)
			}
			runs, pageLat, pages = append(runs, time.Since(t0)), append(pageLat, lat...), p
		}
		l := computeLine{stepLine: stepResult{ops: int64(len(pageLat)), lat: pageLat, elapsed: durSum(runs)}.line(w.name, 1),
			Instances: n, Pages: pages, RunsMs: durMsList(runs), MedianMs: durMs(durMedian(runs))}
		l.Note = fmt.Sprintf("every page of GET %s?limit=1000 following servers_links next, 3 walks; latencies are the pages' "+
			"(in the pass of list concurrency %d)", w.path, listConc)
		b.since(mark, &l, int64(len(pageLat)))
		b.emit(l)
	}
	return nil
}

// fill creates n instances in POSTs of min_count=max_count=100 (the last
// one smaller) from conc clients and waits until none is in BUILD; every
// new one must then be ACTIVE.
func (b *computeBench) fill(ctx context.Context, n, conc int, image, flavor string) error {
	const batch = 100
	activeBefore, err := b.countStatus(ctx, "status=ACTIVE")
	if err != nil {
		return err
	}
	var next, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var sample string
	mark := b.cpu()
	t0 := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && errs.Load() == 0 {
				first := next.Add(batch) - batch
				if first >= int64(n) {
					return
				}
				k := int(min(batch, int64(n)-first))
				s := time.Now()
				_, err := b.createServers(ctx, fmt.Sprintf("bench-list-%d", first), image, flavor, k)
				mu.Lock()
				if err != nil {
					errs.Add(1)
					sample = err.Error()
				} else {
					lat = append(lat, time.Since(s))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if errs.Load() > 0 {
		return fmt.Errorf("creating %d instances: %s", n, sample)
	}
	seen, err := b.waitNone(ctx, "status=BUILD", 200*time.Millisecond, 10*time.Minute)
	if err != nil {
		return err
	}
	active, err := b.countStatus(ctx, "status=ACTIVE")
	if err != nil {
		return err
	}
	if active != activeBefore+n {
		return fmt.Errorf("%d ACTIVE servers after creating %d beside %d ACTIVE (none in BUILD)", active, n, activeBefore)
	}
	elapsed := seen.Sub(t0)
	l := computeLine{stepLine: stepResult{ops: int64(len(lat)), lat: lat, elapsed: elapsed}.line(fmt.Sprintf("compute.create_%d", n), conc), Instances: n}
	l.PerS = round(float64(n)/elapsed.Seconds(), 1)
	l.Note = fmt.Sprintf("POSTs of min_count=max_count=%d, first POST to none in BUILD (polled every 200 ms); latencies are the POSTs'", batch)
	b.since(mark, &l, int64(n))
	b.emit(l)
	return nil
}

// listOnce is one list request: 200 and want entries. Its latency is the
// exchange's (request sent to the answer's last byte read). The answer is
// checked after, cheaply: a whole JSON object whose servers each have one
// self link (a name cannot fake one: its quotes are escaped). Decoding a
// 1 MB answer per request would take the server's cores from it.
func (b *computeBench) listOnce(ctx context.Context, path string, want int) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", b.nova+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Auth-Token", b.token)
	req.Header.Set("OpenStack-API-Version", "compute "+b.micro)
	buf := listBufs.Get().(*bytes.Buffer)
	defer listBufs.Put(buf)
	buf.Reset()
	t0 := time.Now()
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, 256<<20))
	resp.Body.Close()
	lat := time.Since(t0)
	if err != nil {
		return 0, err
	}
	raw := bytes.TrimSpace(buf.Bytes())
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d: %.200s", path, resp.StatusCode, raw)
	}
	if n := countSelfLinks(raw); !bytes.HasPrefix(raw, []byte(`{"servers":`)) || raw[len(raw)-1] != '}' || n != want {
		return 0, fmt.Errorf("GET %s: %d servers, want %d: %.200s", path, n, want, raw)
	}
	return lat, nil
}

// listBufs are listOnce's answer buffers: a 1 MB answer read into a
// growing slice would be copied some 20 times.
var listBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// countSelfLinks counts the "self" links of a servers list (Go's JSON
// spacing, else Python's). It uses a Horspool search: a JSON answer is
// mostly quotes, which stop bytes.Count's first-byte scan every few bytes,
// and on a 1 MB page that cost more CPU than the server spent answering.
func countSelfLinks(raw []byte) int {
	if n := countOf(raw, `"rel":"self"`); n > 0 {
		return n
	}
	return countOf(raw, `"rel": "self"`)
}

// countOf counts the occurrences of pat in raw (Horspool).
func countOf(raw []byte, pat string) int {
	last := len(pat) - 1
	var skip [256]int
	for i := range skip {
		skip[i] = len(pat)
	}
	for i := range last {
		skip[pat[i]] = last - i
	}
	n := 0
	for i := last; i < len(raw); {
		if raw[i] == pat[last] && string(raw[i-last:i+1]) == pat {
			n++
			i += len(pat)
			continue
		}
		i += skip[raw[i]]
	}
	return n
}

// runTimedStep is runStep for operations that measure their own latency.
func runTimedStep(ctx context.Context, n int, d time.Duration, maxOps int64, op func(context.Context) (time.Duration, error)) stepResult {
	var mu sync.Mutex
	var lat []time.Duration
	res := runStep(ctx, n, d, maxOps, func(ctx context.Context) error {
		l, err := op(ctx)
		if err == nil {
			mu.Lock()
			lat = append(lat, l)
			mu.Unlock()
		}
		return err
	})
	res.lat = lat
	return res
}

func durSum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}
