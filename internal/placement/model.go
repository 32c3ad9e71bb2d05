// Package placement is kumo's resource inventory, named and shaped as
// OpenStack Placement: resource providers (one per compute host) publish
// inventories per resource class, and consumers (instances) hold
// allocations against them. A claim checks capacity and writes the
// allocation atomically, so the scheduler never over-commits a host.
//
// The Store keeps an authoritative in-memory view of providers, usages and
// allocations, loaded from the database at open and changed only under one
// mutex, and makes every change durable through a group-committing writer
// before it returns: claims that arrive while a transaction is being synced
// share the next one, so throughput does not stop at one fsync per claim.
// Because memory is authoritative, one Store (one kumo process) owns the
// placement tables; a scale-out deployment needs the checks moved into SQL
// or a single placement service that the others call.
// Its REST API (port 8778) is not written yet; the names here are
// Placement's so that it can be added on top.
package placement

import (
	"math"
	"regexp"
)

// Standard resource classes, as os-resource-classes names them.
const (
	VCPU     = "VCPU"
	MemoryMB = "MEMORY_MB"
	DiskGB   = "DISK_GB"
	PCPU     = "PCPU"
)

var standardClasses = map[string]bool{
	"VCPU": true, "MEMORY_MB": true, "DISK_GB": true, "PCI_DEVICE": true,
	"SRIOV_NET_VF": true, "NUMA_SOCKET": true, "NUMA_CORE": true,
	"NUMA_THREAD": true, "NUMA_MEMORY_MB": true, "IPV4_ADDRESS": true,
	"VGPU": true, "VGPU_DISPLAY_HEAD": true, "NET_BW_EGR_KILOBIT_PER_SEC": true,
	"NET_BW_IGR_KILOBIT_PER_SEC": true, "PCPU": true, "MEM_ENCRYPTION_CONTEXT": true,
	"FPGA": true, "PGPU": true, "NET_PACKET_RATE_KILOPACKET_PER_SEC": true,
	"NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC": true,
	"NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC": true,
}

var customClass = regexp.MustCompile(`^CUSTOM_[A-Z0-9_]+$`)

// ValidResourceClass reports whether rc is a standard class or a custom
// one (CUSTOM_ followed by upper-case letters, digits and underscores).
func ValidResourceClass(rc string) bool {
	return standardClasses[rc] || customClass.MatchString(rc)
}

// MaxUnitDefault is Placement's default max_unit (its database's MAX_INT).
const MaxUnitDefault = math.MaxInt32

// Inventory is a provider's amount of one resource class. Zero MinUnit,
// MaxUnit, StepSize and AllocationRatio mean Placement's defaults (1,
// MaxUnitDefault, 1, 1.0).
type Inventory struct {
	Total           int64
	Reserved        int64
	MinUnit         int64
	MaxUnit         int64
	StepSize        int64
	AllocationRatio float64
}

// Capacity is what allocations may add up to: (total - reserved) ×
// allocation_ratio, as Placement computes it. It saturates at MaxInt64: a
// ratio as large as Placement allows overflows int64, and Go's conversion of
// an out-of-range float is not defined (it gives MinInt64 on amd64).
func (i Inventory) Capacity() int64 {
	c := math.Floor(float64(i.Total-i.Reserved) * i.AllocationRatio)
	if c >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(c)
}

func (i Inventory) withDefaults() Inventory {
	if i.MinUnit == 0 {
		i.MinUnit = 1
	}
	if i.MaxUnit == 0 {
		i.MaxUnit = MaxUnitDefault
	}
	if i.StepSize == 0 {
		i.StepSize = 1
	}
	if i.AllocationRatio == 0 {
		i.AllocationRatio = 1.0
	}
	return i
}

// fits reports whether used units may become used+amount, comparing in
// floating point as Placement does so that fractional ratios round alike.
func (i Inventory) fits(used, amount int64) bool {
	return float64(used+amount) <= float64(i.Total-i.Reserved)*i.AllocationRatio
}

// Provider is a resource provider with its inventories and current usage.
type Provider struct {
	UUID        string
	Name        string
	Generation  int64
	Inventories map[string]Inventory // by resource class
	Usages      map[string]int64     // by resource class; classes without allocations are 0
}

// Allocation is what one consumer holds on one provider.
type Allocation struct {
	ProviderUUID string
	Resources    map[string]int64
}

// Consumer is the holder of allocations: an instance (or, in Placement, a
// migration) with the project and user that own it.
type Consumer struct {
	UUID        string
	ProjectID   string
	UserID      string
	Generation  int64
	Allocations []Allocation // sorted by provider uuid
}

// Claim asks for allocations for one consumer, possibly on several
// providers: provider uuid → resource class → amount.
type Claim struct {
	ConsumerUUID string
	ProjectID    string
	UserID       string
	Allocations  map[string]map[string]int64
}

// Candidate is a provider that can hold a requested set of resources, with
// a summary of every resource class it has, as Placement's
// allocation_candidates provider_summaries. Resources is a short slice,
// not a map, because a scheduler reads thousands of candidates per request.
type Candidate struct {
	ProviderUUID string
	Generation   int64
	Resources    []ResourceSummary
}

// Resource returns the summary of class rc, and whether the provider has it.
func (c *Candidate) Resource(rc string) (*ResourceSummary, bool) {
	for i := range c.Resources {
		if c.Resources[i].Class == rc {
			return &c.Resources[i], true
		}
	}
	return nil, false
}

// ResourceSummary is one resource class of a candidate, as in Placement's
// provider_summaries.
type ResourceSummary struct {
	Class    string
	Capacity int64 // (total - reserved) × allocation_ratio
	Used     int64
}

// Free is what is left of the class.
func (r ResourceSummary) Free() int64 { return r.Capacity - r.Used }
