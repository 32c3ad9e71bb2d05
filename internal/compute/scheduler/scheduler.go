// Package scheduler picks a compute host for each instance of a request,
// as Nova's filter scheduler does: it asks placement which hosts have room
// (allocation candidates), keeps those that pass the filters, orders them
// with the weighers, and claims every instance's resources in placement in
// one all-or-nothing step. A claim that loses a race to another scheduler
// is planned again on fresh usage, so the next host is tried.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"kumo/internal/placement"
)

// Host is a compute host as the scheduler sees it; the compute services
// feed it through a HostSource.
type Host struct {
	Name         string // the compute service's host name
	ProviderUUID string // its resource provider in placement
	// AvailabilityZone is the host's zone; empty means the default zone.
	AvailabilityZone string
	// Enabled is false when the compute service is disabled or down
	// (ComputeFilter).
	Enabled           bool
	HypervisorType    string // as os-hypervisors: "QEMU"
	HypervisorVersion int    // Nova's encoding: 7002000 is 7.2.0
	// SupportedInstances is what the hypervisor can run, as Nova's
	// supported_instances, e.g. {x86_64, qemu, hvm} and {x86_64, kvm, hvm}.
	SupportedInstances []InstanceType
	Traits             map[string]bool // e.g. COMPUTE_STATUS_DISABLED, HW_CPU_X86_AVX2
}

// InstanceType is one (architecture, hypervisor type, vm mode) a host runs.
type InstanceType struct {
	Architecture   string // x86_64, aarch64, ...
	HypervisorType string // qemu, kvm, ...
	VMMode         string // hvm, ...
}

// HostSource lists the compute hosts. The scheduler only reads the
// returned slice, so a source may hand out the same one to every caller as
// long as it never writes into it afterwards.
type HostSource interface {
	Hosts(ctx context.Context) ([]Host, error)
}

// Request asks for one host per consumer (instance), each with the same
// resources (the flavor's).
type Request struct {
	ConsumerUUIDs     []string // one per instance
	ProjectID, UserID string
	// Resources per instance: resource class → amount (VCPU, MEMORY_MB,
	// DISK_GB, ...). Amounts of 0 are left out of the claim.
	Resources        map[string]int64
	AvailabilityZone string
	// ForceHost puts every instance on that host, skipping the filters as
	// Nova does for a forced host; capacity is still claimed.
	ForceHost       string
	ImageProperties map[string]string // hw_architecture, img_hv_type, hw_vm_mode, img_hv_requested_version
	// Traits are the flavor's trait:NAME extra specs: "required" or
	// "forbidden".
	Traits      map[string]string
	Group       *Group
	IgnoreHosts []string // host names not to use, e.g. the source of a migration
}

// Group is the server group the instances join.
type Group struct {
	Policy string // affinity, anti-affinity, soft-affinity, soft-anti-affinity
	// MemberHosts has one entry per member already placed: its host name.
	MemberHosts []string
	// MaxServerPerHost is the anti-affinity rule max_server_per_host; 0
	// means 1.
	MaxServerPerHost int
}

// Selection is the host chosen for one consumer.
type Selection struct {
	ConsumerUUID string
	Host         Host
}

// Weigher modes.
const (
	Spread = "spread" // most free resources first, as Nova's default weighers
	Pack   = "pack"   // least free first: fill a host before the next
)

// Config tunes the scheduler.
type Config struct {
	// Weigher is Spread (default) or Pack.
	Weigher string
	// HostSubsetSize picks at random among this many best hosts, so that
	// concurrent schedulers race less for one host (Nova's
	// host_subset_size; default 1).
	HostSubsetSize int
	// DefaultAvailabilityZone is the zone of hosts that have none
	// (default "nova", as Nova's default_availability_zone).
	DefaultAvailabilityZone string
	// MaxAttempts bounds how often a request is planned again after losing
	// a claim race (default 5).
	MaxAttempts int
}

// Scheduler places instances. It is safe for concurrent use.
type Scheduler struct {
	src       HostSource
	p         *placement.Store
	cfg       Config
	lostRaces atomic.Int64
	// beforeClaim, when set by a test, runs between planning and claiming,
	// where a concurrent scheduler may take the room.
	beforeClaim func()
}

// New returns a scheduler over the hosts of src and the inventory in p.
func New(src HostSource, p *placement.Store, cfg Config) *Scheduler {
	if cfg.Weigher == "" {
		cfg.Weigher = Spread
	}
	if cfg.HostSubsetSize < 1 {
		cfg.HostSubsetSize = 1
	}
	if cfg.DefaultAvailabilityZone == "" {
		cfg.DefaultAvailabilityZone = "nova"
	}
	if cfg.MaxAttempts < 1 {
		cfg.MaxAttempts = 5
	}
	return &Scheduler{src: src, p: p, cfg: cfg}
}

// ErrNoValidHost is what Schedule returns, wrapped in a *NoValidHostError,
// when not every instance can be placed.
var ErrNoValidHost = errors.New("no valid host")

// ErrBadRequest is a request the scheduler cannot act on.
var ErrBadRequest = errors.New("bad scheduling request")

// NoValidHostError says that no host fits. Its Error is Nova's fault
// message; Detail names the filter that left no host, for the logs.
type NoValidHostError struct {
	Reason string
	Detail string
}

func (e *NoValidHostError) Error() string { return "No valid host was found. " + e.Reason }

// Unwrap makes errors.Is(err, ErrNoValidHost) true.
func (e *NoValidHostError) Unwrap() error { return ErrNoValidHost }

func noValidHost(format string, args ...any) *NoValidHostError {
	return &NoValidHostError{Reason: "There are not enough hosts available.", Detail: fmt.Sprintf(format, args...)}
}

// Schedule chooses a host for every consumer of req and claims their
// resources in placement: all of them, or none and an error (a
// *NoValidHostError when they do not fit).
func (s *Scheduler) Schedule(ctx context.Context, req Request) ([]Selection, error) {
	resources, err := validate(req)
	if err != nil {
		return nil, err
	}
	hosts, err := s.src.Hosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedule: list hosts: %w", err)
	}
	passed, err := s.filterHosts(hosts, req)
	if err != nil {
		return nil, err
	}
	providers := make([]string, len(passed))
	for i, h := range passed {
		providers[i] = h.ProviderUUID
	}
	for attempt := 0; attempt < s.cfg.MaxAttempts; attempt++ {
		cands, err := s.p.CandidatesAmong(ctx, resources, providers)
		if err != nil {
			return nil, fmt.Errorf("schedule: %w", err)
		}
		sel, err := s.plan(passed, cands, req, resources)
		if err != nil {
			return nil, err
		}
		if s.beforeClaim != nil {
			s.beforeClaim()
		}
		claims := make([]placement.Claim, len(sel))
		for i, x := range sel {
			claims[i] = placement.Claim{ConsumerUUID: x.ConsumerUUID, ProjectID: req.ProjectID, UserID: req.UserID,
				Allocations: map[string]map[string]int64{x.Host.ProviderUUID: resources}}
		}
		err = s.p.ClaimAll(ctx, claims)
		var ce *placement.CapacityError
		switch {
		case err == nil:
			return sel, nil
		case errors.As(err, &ce), errors.Is(err, placement.ErrProviderNotFound):
			// Another claim took the room, or the host's provider was
			// deleted, since the candidates were read: plan again.
			s.lostRaces.Add(1)
			continue
		default:
			return nil, fmt.Errorf("schedule: claim: %w", err)
		}
	}
	return nil, noValidHost("lost the claim race %d times", s.cfg.MaxAttempts)
}

// LostRaces counts the claims that failed after planning, for capacity or
// a provider deleted meanwhile, and were planned again, since New.
func (s *Scheduler) LostRaces() int64 { return s.lostRaces.Load() }

// validate checks req and returns the resources to claim per instance.
func validate(req Request) (map[string]int64, error) {
	if len(req.ConsumerUUIDs) == 0 {
		return nil, fmt.Errorf("%w: no instances", ErrBadRequest)
	}
	seen := make(map[string]bool, len(req.ConsumerUUIDs))
	for _, id := range req.ConsumerUUIDs {
		if id == "" || seen[id] {
			return nil, fmt.Errorf("%w: empty or repeated consumer %q", ErrBadRequest, id)
		}
		seen[id] = true
	}
	if req.ProjectID == "" || req.UserID == "" {
		return nil, fmt.Errorf("%w: project and user are required", ErrBadRequest)
	}
	resources := make(map[string]int64, len(req.Resources))
	for rc, n := range req.Resources {
		if n < 0 || !placement.ValidResourceClass(rc) {
			return nil, fmt.Errorf("%w: resource %s=%d", ErrBadRequest, rc, n)
		}
		if n > 0 {
			resources[rc] = n
		}
	}
	if len(resources) == 0 {
		return nil, fmt.Errorf("%w: no resources requested", ErrBadRequest)
	}
	if g := req.Group; g != nil {
		switch g.Policy {
		case "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity":
		default:
			return nil, fmt.Errorf("%w: server group policy %q", ErrBadRequest, g.Policy)
		}
	}
	for t, v := range req.Traits {
		if v != "required" && v != "forbidden" {
			return nil, fmt.Errorf("%w: trait %s=%s", ErrBadRequest, t, v)
		}
	}
	return resources, nil
}
