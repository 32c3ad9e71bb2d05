package ring

import (
	"cmp"
	"slices"
)

// slot is one replica of the partition being examined and its device.
type slot struct {
	dev     *devState
	replica int
}

// take unassigns one replica and queues it for placement.
func (r *rebalancer) take(a *assignList, part int, s slot) {
	s.dev.partsWanted++
	s.dev.parts--
	a.add(part, s.replica)
	r.r2p2d[s.replica][part] = noneDev
	r.cnt.add(r.t.devTiers[s.dev.ID], -1)
	r.setMoved(part)
}

// gatherFromRemoved queues every replica on a removed device. Those must
// move whatever min_part_hours says; marking the partition moved keeps its
// other replicas in place.
func (r *rebalancer) gatherFromRemoved(a *assignList) {
	for _, id := range r.removeDevs {
		if d := r.devs[id]; d.parts > 0 {
			for rep, p2d := range r.r2p2d {
				for part, on := range p2d {
					if int(on) == id {
						p2d[part] = noneDev
						a.add(part, rep)
						r.setMoved(part)
					}
				}
			}
		}
	}
}

// gatherForDispersion queues replicas sitting in a tier that holds more
// replicas of their partition than the plan allows.
func (r *rebalancer) gatherForDispersion(a *assignList) {
	var bad []slot
	for part := range r.parts() {
		// Partitions gathered from removed devices already move this time.
		// min_part_hours is checked per replica below, not here, so that a
		// doubled replica is still fixed.
		if r.moved[part] {
			continue
		}
		r.countPart(part)
		bad = bad[:0]
		for rep, p2d := range r.r2p2d {
			id := p2d[part]
			if id == noneDev {
				continue
			}
			for _, t := range r.t.devTiers[id] {
				if int(r.cnt.n[t]) > r.plan.max[t] {
					bad = append(bad, slot{r.devs[id], rep})
					break
				}
			}
		}
		slices.SortStableFunc(bad, bySheddingNeed)
		for _, s := range bad {
			// Only a device holding two replicas of one partition may break
			// min_part_hours (rings built by old Swift versions).
			if !r.canMove(part) && r.cnt.n[r.t.devTiers[s.dev.ID][3]] <= 1 {
				continue
			}
			r.take(a, part, s)
		}
	}
}

func bySheddingNeed(x, y slot) int { return cmp.Compare(x.dev.partsWanted, y.dev.partsWanted) }

// gatherForBalance queues replicas from devices above their share,
// starting at a different point of the ring each time.
func (r *rebalancer) gatherForBalance(a *assignList, disperseFirst bool) {
	parts := r.parts()
	start := (r.lastGatherStart + parts/4 + r.rng.IntN(parts/2+1)) % parts
	r.lastGatherStart = start
	if disperseFirst {
		r.gatherForBalanceCanDisperse(a, start)
	}
	r.gatherForBalanceForced(a, start)
}

// gatherForBalanceCanDisperse takes a replica from an overweight device
// only when the plan lets its tiers lose it and some other tier under the
// same parent still wants partitions.
func (r *rebalancer) gatherForBalanceCanDisperse(a *assignList, start int) {
	wantedIn := make([]int, len(r.t.nodes))
	for _, d := range r.devs {
		if d == nil || d.partsWanted <= 0 {
			continue
		}
		for _, t := range r.t.devTiers[d.ID] {
			wantedIn[t] += d.partsWanted
		}
	}
	parts := r.parts()
	var over []slot
	for off := range parts {
		part := (start + off) % parts
		if !r.canMove(part) {
			continue
		}
		r.countPart(part)
		over = over[:0]
		for rep, p2d := range r.r2p2d {
			if id := p2d[part]; id != noneDev && r.devs[id].partsWanted < 0 {
				over = append(over, slot{r.devs[id], rep})
			}
		}
		slices.SortStableFunc(over, bySheddingNeed)
		for _, s := range over {
			tiers := r.t.devTiers[s.dev.ID]
			if r.stuckByPlan(tiers) {
				continue
			}
			at := tiers[0]
			for i := 3; i >= 0; i-- {
				at = tiers[i]
				if int(r.cnt.n[at])-1 < r.plan.min[at] {
					break
				}
			}
			elsewhere := 0
			for _, c := range r.t.nodes[at].active {
				if !slices.Contains(tiers[:], c) {
					elsewhere += wantedIn[c]
				}
			}
			if elsewhere <= 0 {
				continue // nowhere with room would take it
			}
			r.take(a, part, s)
			for _, t := range tiers {
				wantedIn[t]--
			}
			break
		}
	}
}

// stuckByPlan reports whether a tier of the device holds a count of
// replicas the plan needs to stay as it is.
func (r *rebalancer) stuckByPlan(tiers [4]int) bool {
	for _, t := range tiers {
		if n := int(r.cnt.n[t]); r.plan.min[t] <= n && n < r.plan.max[t] {
			return true
		}
	}
	return false
}

// gatherForBalanceForced takes the most overweight replica of each movable
// partition regardless of where it may land, to unlock stuck layouts.
func (r *rebalancer) gatherForBalanceForced(a *assignList, start int) {
	parts := r.parts()
	for off := range parts {
		part := (start + off) % parts
		if !r.canMove(part) {
			continue
		}
		var best slot
		for rep, p2d := range r.r2p2d {
			id := p2d[part]
			if id == noneDev || r.devs[id].partsWanted >= 0 {
				continue
			}
			if best.dev == nil || r.devs[id].partsWanted < best.dev.partsWanted {
				best = slot{r.devs[id], rep}
			}
		}
		if best.dev == nil {
			continue
		}
		r.cnt.reset()
		r.take(a, part, best)
		r.cnt.reset()
	}
}
