package scheduler

import (
	"context"
	"fmt"
	"sync"

	"kumo/internal/placement"
)

// SimulatedHosts is a SIMULATION: a set of made-up compute hosts, each with
// a real resource provider in placement, for scheduler-scale tests and
// benchmarks. No hypervisor stands behind them; kumo never uses them unless
// a test or benchmark builds them.
type SimulatedHosts struct {
	mu    sync.Mutex
	hosts []Host
}

// SimulatedHostSpec describes every simulated host: its inventory and what
// it reports about itself.
type SimulatedHostSpec struct {
	Inventory        map[string]placement.Inventory
	AvailabilityZone string
	Traits           map[string]bool
}

// DefaultSimulatedHost is a modest host: 16 VCPUs at Nova's initial 4:1
// CPU allocation ratio, 64 GiB of RAM at 1:1 with 512 MB reserved for
// the host, and 1 TB of disk, as Nova's defaults would report it.
var DefaultSimulatedHost = SimulatedHostSpec{Inventory: map[string]placement.Inventory{
	placement.VCPU:     {Total: 16, AllocationRatio: 4},
	placement.MemoryMB: {Total: 65536, Reserved: 512},
	placement.DiskGB:   {Total: 1000},
}}

// NewSimulatedHosts registers n simulated hosts named sim-host-0000… with
// spec's inventory in p (provider uuids derived from the index, so a
// reopened store finds them again) and returns them as a HostSource.
func NewSimulatedHosts(ctx context.Context, p *placement.Store, n int, spec SimulatedHostSpec) (*SimulatedHosts, error) {
	s := &SimulatedHosts{hosts: make([]Host, n)}
	for i := range s.hosts {
		s.hosts[i] = Host{
			Name:              fmt.Sprintf("sim-host-%04d", i),
			ProviderUUID:      fmt.Sprintf("51a7e000-0000-4000-8000-%012d", i),
			AvailabilityZone:  spec.AvailabilityZone,
			Enabled:           true,
			HypervisorType:    "QEMU",
			HypervisorVersion: 8002000,
			SupportedInstances: []InstanceType{
				{Architecture: "x86_64", HypervisorType: "qemu", VMMode: "hvm"},
				{Architecture: "x86_64", HypervisorType: "kvm", VMMode: "hvm"},
			},
			Traits: spec.Traits,
		}
	}
	// Register from a few goroutines at once so that placement's group
	// commit writes many providers per transaction.
	const workers = 16
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				h := &s.hosts[i]
				if err := p.SetInventory(ctx, h.ProviderUUID, h.Name, spec.Inventory); err != nil {
					errs <- fmt.Errorf("simulated host %s: %w", h.Name, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range s.hosts {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs // nil when the channel is empty
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Hosts returns the simulated hosts. The slice is shared, not copied (a
// thousand hosts per scheduling request add up): callers only read it,
// and Update replaces it rather than writing into it.
func (s *SimulatedHosts) Hosts(ctx context.Context) ([]Host, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hosts, nil
}

// Update changes simulated host i (to disable it, move it to another
// zone...), on a new copy of the list.
func (s *SimulatedHosts) Update(i int, fn func(h *Host)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hosts := append([]Host(nil), s.hosts...)
	fn(&hosts[i])
	s.hosts = hosts
}
