package scheduler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"kumo/internal/placement"
	"kumo/internal/platform/db"
)

// fixture is a scheduler over hosts listed by the test, each with a real
// resource provider in a real SQLite placement store.
type fixture struct {
	t     testing.TB
	path  string
	d     *db.DB
	p     *placement.Store
	hosts hostList
}

// hostList is a HostSource of hosts a test writes by hand.
type hostList []Host

func (l hostList) Hosts(context.Context) ([]Host, error) { return append([]Host(nil), l...), nil }

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "placement.db")}
	f.open()
	t.Cleanup(f.close)
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	d, err := db.OpenSQLite(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := placement.Open(context.Background(), d)
	if err != nil {
		f.t.Fatal(err)
	}
	f.d, f.p = d, p
}

func (f *fixture) close() {
	if f.p != nil {
		f.p.Close()
		f.d.Close()
		f.p, f.d = nil, nil
	}
}

func (f *fixture) reopen() { f.close(); f.open() }

// addHost registers an enabled x86_64 QEMU host with vcpus, ram (MB) and
// disk (GB, none when 0) at ratio 1, and returns its index in f.hosts for
// edits.
func (f *fixture) addHost(name string, vcpus, ram, disk int64) int {
	f.t.Helper()
	h := Host{Name: name, ProviderUUID: fmt.Sprintf("00000000-0000-4000-a000-%012d", len(f.hosts)), Enabled: true,
		HypervisorType: "QEMU", HypervisorVersion: 8002000,
		SupportedInstances: []InstanceType{{"x86_64", "qemu", "hvm"}, {"x86_64", "kvm", "hvm"}}}
	inv := map[string]placement.Inventory{placement.VCPU: {Total: vcpus}, placement.MemoryMB: {Total: ram}}
	if disk > 0 {
		inv[placement.DiskGB] = placement.Inventory{Total: disk}
	}
	if err := f.p.SetInventory(context.Background(), h.ProviderUUID, name, inv); err != nil {
		f.t.Fatal(err)
	}
	f.hosts = append(f.hosts, h)
	return len(f.hosts) - 1
}

func (f *fixture) scheduler(cfg Config) *Scheduler { return New(f.hosts, f.p, cfg) }

var nextConsumer atomic.Int64

// request asks for n instances of 1 VCPU and 1024 MB.
func request(n int) Request {
	r := Request{ProjectID: "proj", UserID: "user", Resources: map[string]int64{placement.VCPU: 1, placement.MemoryMB: 1024}}
	for i := 0; i < n; i++ {
		r.ConsumerUUIDs = append(r.ConsumerUUIDs, fmt.Sprintf("c0000000-0000-4000-8000-%012d", nextConsumer.Add(1)))
	}
	return r
}

// hostNames returns the chosen host of each selection.
func hostNames(sel []Selection) []string {
	var out []string
	for _, s := range sel {
		out = append(out, s.Host.Name)
	}
	return out
}

// schedule runs req and fails the test on error.
func (f *fixture) schedule(s *Scheduler, req Request) []string {
	f.t.Helper()
	sel, err := s.Schedule(context.Background(), req)
	if err != nil {
		f.t.Fatalf("schedule: %v", err)
	}
	if len(sel) != len(req.ConsumerUUIDs) {
		f.t.Fatalf("%d selections for %d instances", len(sel), len(req.ConsumerUUIDs))
	}
	for i, x := range sel {
		if x.ConsumerUUID != req.ConsumerUUIDs[i] {
			f.t.Fatalf("selection %d is for %s, want %s", i, x.ConsumerUUID, req.ConsumerUUIDs[i])
		}
		c, err := f.p.Allocations(context.Background(), x.ConsumerUUID)
		if err != nil || len(c.Allocations) != 1 || c.Allocations[0].ProviderUUID != x.Host.ProviderUUID {
			f.t.Fatalf("consumer %s placed on %s but placement holds %+v %v", x.ConsumerUUID, x.Host.Name, c, err)
		}
	}
	return hostNames(sel)
}

// noValidHost runs req, expects ErrNoValidHost, and checks that nothing of
// req was claimed.
func (f *fixture) noValidHost(s *Scheduler, req Request) *NoValidHostError {
	f.t.Helper()
	sel, err := s.Schedule(context.Background(), req)
	var nvh *NoValidHostError
	if !errors.Is(err, ErrNoValidHost) || !errors.As(err, &nvh) {
		f.t.Fatalf("want ErrNoValidHost, got %v %v", hostNames(sel), err)
	}
	for _, id := range req.ConsumerUUIDs {
		if _, err := f.p.Allocations(context.Background(), id); !errors.Is(err, placement.ErrConsumerNotFound) {
			f.t.Fatalf("failed request left an allocation for %s: %v", id, err)
		}
	}
	return nvh
}

// checkNoOvercommit checks every provider's usage against its capacity and
// returns the total VCPU used.
func checkNoOvercommit(t testing.TB, p *placement.Store) int64 {
	t.Helper()
	ps, err := p.Providers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, pr := range ps {
		for rc, inv := range pr.Inventories {
			if pr.Usages[rc] > inv.Capacity() {
				t.Fatalf("provider %s over-committed: %s %d > %d", pr.Name, rc, pr.Usages[rc], inv.Capacity())
			}
		}
		total += pr.Usages[placement.VCPU]
	}
	return total
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
