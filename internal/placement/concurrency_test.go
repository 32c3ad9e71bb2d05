package placement

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentClaimsNeverOverCommit races 32 goroutines for a small host
// with claims of mixed sizes and some releases, then checks that usage never
// exceeds capacity and equals the sum of the claims that succeeded, in
// memory, in the database and after a reopen.
func TestConcurrentClaimsNeverOverCommit(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	inv := map[string]Inventory{
		VCPU:     {Total: 8, Reserved: 1, AllocationRatio: 2}, // capacity 14
		MemoryMB: {Total: 8192, Reserved: 512},                // capacity 7680
	}
	ts.setInv(p, inv)
	const workers, perWorker = 32, 20
	var mu sync.Mutex
	held := map[string]map[string]int64{} // consumer → resources, for claims that succeeded and were not released
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < perWorker; i++ {
				id := consumerID(w*1000 + i)
				r := res(int64(1+rng.Intn(3)), int64(256*(1+rng.Intn(4))))
				err := ts.Claim(ctx, id, "p", "u", p, r)
				if _, full := capacityKind(err); full {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if rng.Intn(4) == 0 { // give some back, so later claims can fit
					if err := ts.Release(ctx, id); err != nil {
						errs <- err
						return
					}
					continue
				}
				mu.Lock()
				held[id] = r
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var want = map[string]int64{}
	for _, r := range held {
		for rc, n := range r {
			want[rc] += n
		}
	}
	if len(held) == 0 {
		t.Fatal("no claim succeeded")
	}
	check := func(when string) {
		for rc, i := range inv {
			u, d := ts.usage(p, rc), ts.dbUsage(p, rc)
			if u != want[rc] || d != want[rc] || u > i.withDefaults().Capacity() {
				t.Fatalf("%s: %s usage %d, database %d, held %d, capacity %d", when, rc, u, d, want[rc], i.withDefaults().Capacity())
			}
		}
	}
	check("after the race")
	ts.reopen()
	check("after reopen")
	// Every held consumer is recorded as it was claimed.
	for id, r := range held {
		c, err := ts.Allocations(ctx, id)
		if err != nil || c.Allocations[0].Resources[VCPU] != r[VCPU] {
			t.Fatalf("consumer %s: %+v %v", id, c, err)
		}
	}
}

// TestFailedCommitUndoesMemory makes SQLite refuse one consumer's rows with
// a trigger: that claim must fail, and memory must go back to what the
// database holds, so the capacity it took is free again.
func TestFailedCommitUndoesMemory(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}})
	poison := consumerID(666)
	if _, err := ts.d.W.Exec(`CREATE TRIGGER poison BEFORE INSERT ON allocations
		WHEN NEW.consumer_uuid = '` + poison + `' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	if err := ts.Claim(ctx, consumerID(1), "p", "u", p, res(1, 512)); err != nil {
		t.Fatal(err)
	}
	err := ts.Claim(ctx, poison, "p", "u", p, res(3, 512))
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("poisoned claim: want the injected failure, got %v", err)
	}
	if u := ts.usage(p, VCPU); u != 1 {
		t.Fatalf("usage after failed commit %d, want 1", u)
	}
	if _, err := ts.Allocations(ctx, poison); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("failed consumer still listed: %v", err)
	}
	if err := ts.Claim(ctx, consumerID(2), "p", "u", p, res(3, 512)); err != nil {
		t.Fatalf("the capacity of the failed claim should be free: %v", err)
	}
}

// TestFailedCommitsUnderLoad poisons some claims among many concurrent
// ones: changes sharing or queued behind a failed transaction fail with it,
// and afterwards memory and database agree exactly: a claim is in the
// database if and only if it was acknowledged.
func TestFailedCommitsUnderLoad(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 1000}, MemoryMB: {Total: 1 << 20}})
	if _, err := ts.d.W.Exec(`CREATE TRIGGER poison BEFORE INSERT ON allocations
		WHEN NEW.consumer_uuid LIKE '%0' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 16, 12
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				id := consumerID(w*100 + i + 1)
				err := ts.Claim(ctx, id, "p", "u", p, res(1, 1))
				if err != nil && !strings.Contains(err.Error(), "injected failure") {
					t.Errorf("claim %s: %v", id, err)
				}
				mu.Lock()
				acked[id] = err == nil
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	var nAcked int64
	for id, ok := range acked {
		var n int
		if err := ts.d.R.QueryRow(`SELECT COUNT(*) FROM allocations WHERE consumer_uuid = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		_, memErr := ts.Allocations(ctx, id)
		if ok != (n > 0) || ok != (memErr == nil) {
			t.Fatalf("consumer %s: acknowledged %v, rows %d, in memory %v", id, ok, n, memErr == nil)
		}
		if ok {
			nAcked++
		}
		if strings.HasSuffix(id, "0") && ok {
			t.Fatalf("poisoned consumer %s was acknowledged", id)
		}
	}
	if nAcked == 0 {
		t.Fatal("no claim succeeded")
	}
	if u, d := ts.usage(p, VCPU), ts.dbUsage(p, VCPU); u != nAcked || d != nAcked {
		t.Fatalf("usage %d, database %d, acknowledged %d", u, d, nAcked)
	}
}
