package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"kumo/internal/placement"
)

// TestLostRaceRetriesNextHost lets another claim fill the chosen host
// between planning and claiming: the request is planned again and lands on
// the next host.
func TestLostRaceRetriesNextHost(t *testing.T) {
	f := newFixture(t)
	h1 := f.addHost("h1", 4, 4096, 0)
	f.addHost("h2", 2, 2048, 0)
	s := f.scheduler(Config{})
	races := 0
	s.beforeClaim = func() {
		if races > 0 {
			return
		}
		races++
		// Another scheduler takes all of h1, the host just chosen.
		err := f.p.Claim(context.Background(), "7a11e000-0000-4000-8000-000000000001", "other", "other",
			f.hosts[h1].ProviderUUID, map[string]int64{placement.VCPU: 4, placement.MemoryMB: 1024})
		if err != nil {
			t.Errorf("racing claim: %v", err)
		}
	}
	if got := f.schedule(s, request(2)); !equal(got, []string{"h2", "h2"}) || races != 1 {
		t.Fatalf("after a lost race: %v (races %d)", got, races)
	}
}

// TestConcurrentSchedulesNeverOverCommit runs 32 schedulers at once on ten
// hosts until the cloud is full, then checks that no host is over
// its capacity, that placement holds exactly the selections made, and that
// the failures left no capacity unused (a serial fill finds nothing left
// beyond what it places), also after a reopen.
func TestConcurrentSchedulesNeverOverCommit(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 10; i++ {
		f.addHost(fmt.Sprintf("h%02d", i), 16, 32768, 0)
	}
	const slots = 160 // 10 hosts × 16 VCPUs, 1 VCPU per instance
	var mu sync.Mutex
	placed := map[string]string{} // consumer → host
	var lost atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Packers all aim at the fullest host, so they meet at its
			// last free units.
			cfg := Config{HostSubsetSize: 1 + w%3}
			if w%2 == 0 {
				cfg = Config{Weigher: Pack}
			}
			s := f.scheduler(cfg)
			defer func() { lost.Add(s.LostRaces()) }()
			<-start // all at once, to race
			for i := 0; i < 8; i++ {
				sel, err := s.Schedule(context.Background(), request(1+(w+i)%2))
				if errors.Is(err, ErrNoValidHost) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, x := range sel {
					placed[x.ConsumerUUID] = x.Host.Name
				}
				mu.Unlock()
			}
		}(w)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d instances placed concurrently, %d lost claim races retried", len(placed), lost.Load())
	if used := checkNoOvercommit(t, f.p); used != int64(len(placed)) {
		t.Fatalf("VCPU used %d, but %d instances placed", used, len(placed))
	}
	s := f.scheduler(Config{})
	for len(placed) < slots {
		sel, err := s.Schedule(context.Background(), request(1))
		if err != nil {
			t.Fatalf("serial fill after %d: %v", len(placed), err)
		}
		placed[sel[0].ConsumerUUID] = sel[0].Host.Name
	}
	f.noValidHost(s, request(1))
	f.reopen()
	if used := checkNoOvercommit(t, f.p); used != slots {
		t.Fatalf("after reopen: VCPU used %d, want %d", used, slots)
	}
	provider := map[string]string{}
	for _, h := range f.hosts {
		provider[h.Name] = h.ProviderUUID
	}
	for id, host := range placed {
		c, err := f.p.Allocations(context.Background(), id)
		if err != nil || c.Allocations[0].ProviderUUID != provider[host] {
			t.Fatalf("consumer %s on %s: placement has %+v %v", id, host, c, err)
		}
	}
}

// TestDeletedProviderRetriesNextHost: the chosen host's resource provider
// is deleted (its compute service was removed) between planning and
// claiming. The request used to fail with the claim's "provider not found";
// it is planned again and lands on the other host.
func TestDeletedProviderRetriesNextHost(t *testing.T) {
	f := newFixture(t)
	h1 := f.addHost("h1", 8, 8192, 0)
	f.addHost("h2", 2, 2048, 0)
	s := f.scheduler(Config{})
	deleted := false
	s.beforeClaim = func() {
		if deleted {
			return
		}
		deleted = true
		if err := f.p.DeleteProvider(context.Background(), f.hosts[h1].ProviderUUID); err != nil {
			t.Errorf("delete provider: %v", err)
		}
	}
	if got := f.schedule(s, request(1)); !equal(got, []string{"h2"}) || !deleted {
		t.Fatalf("after the provider of h1 was deleted: %v", got)
	}
}
