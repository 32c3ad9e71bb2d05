package scheduler

import (
	"math/rand/v2"
	"sort"

	"kumo/internal/placement"
)

// weigher is one of Nova's weighers: a raw value per host, normalised to
// 0..1 across the hosts being weighed and multiplied by multiplier.
type weigher struct {
	name       string
	multiplier float64
	raw        func(st *hostState) float64
}

func free(rc string) func(st *hostState) float64 {
	return func(st *hostState) float64 { return float64(st.free(rc)) }
}

// weighers returns the weighers for req: RAMWeigher, CPUWeigher and
// DiskWeigher (positive multipliers spread, negative ones pack) and, for a
// soft group policy, ServerGroupSoftAffinityWeigher or
// ServerGroupSoftAntiAffinityWeigher.
func (s *Scheduler) weighers(req *Request) []weigher {
	m := 1.0
	if s.cfg.Weigher == Pack {
		m = -1.0
	}
	ws := []weigher{
		{"RAMWeigher", m, free(placement.MemoryMB)},
		{"CPUWeigher", m, free(placement.VCPU)},
		{"DiskWeigher", m, free(placement.DiskGB)},
	}
	if req.Group != nil {
		switch req.Group.Policy {
		case "soft-affinity":
			ws = append(ws, weigher{"ServerGroupSoftAffinityWeigher", 1.0,
				func(st *hostState) float64 { return float64(st.members) }})
		case "soft-anti-affinity":
			ws = append(ws, weigher{"ServerGroupSoftAntiAffinityWeigher", 1.0,
				func(st *hostState) float64 { return -float64(st.members) }})
		}
	}
	return ws
}

// weigh sets st.weight for every host in hosts, as Nova's weight handler:
// each weigher's values are normalised over the hosts (all equal gives 0).
func weigh(hosts []*hostState, ws []weigher, raw []float64) {
	for _, st := range hosts {
		st.weight = 0
	}
	for _, w := range ws {
		lo, hi := 0.0, 0.0
		for i, st := range hosts {
			v := w.raw(st)
			raw[i] = v
			if i == 0 || v < lo {
				lo = v
			}
			if i == 0 || v > hi {
				hi = v
			}
		}
		if hi == lo {
			continue
		}
		for i, st := range hosts {
			st.weight += w.multiplier * (raw[i] - lo) / (hi - lo)
		}
	}
}

// pick returns the best host, or one at random among the best subset
// hosts (host_subset_size). Equal weights go by host name, so a single
// scheduler is deterministic.
func pick(hosts []*hostState, subset int) *hostState {
	better := func(a, b *hostState) bool {
		if a.weight != b.weight {
			return a.weight > b.weight
		}
		return a.host.Name < b.host.Name
	}
	if subset <= 1 || len(hosts) == 1 {
		best := hosts[0]
		for _, st := range hosts[1:] {
			if better(st, best) {
				best = st
			}
		}
		return best
	}
	sorted := append([]*hostState(nil), hosts...)
	sort.Slice(sorted, func(i, j int) bool { return better(sorted[i], sorted[j]) })
	if subset > len(sorted) {
		subset = len(sorted)
	}
	return sorted[rand.IntN(subset)]
}
