package ring

import (
	"cmp"
	"fmt"
	"slices"
)

// sortKey orders devices by how many partitions they still want, with a
// random tie-break so equal devices share new partitions evenly.
type sortKey struct{ wanted, random, id int }

func compareKeys(a, b sortKey) int {
	return cmp.Or(cmp.Compare(a.wanted, b.wanted), cmp.Compare(a.random, b.random), cmp.Compare(a.id, b.id))
}

// reassign places queued replicas: walking down from the root, it picks
// the child tier with the most room among those still below the plan's
// maximum for this partition, so replicas land as far apart as allowed.
func (r *rebalancer) reassign(items []assignment) error {
	avail := make([]int, len(r.t.nodes))
	keys := map[int]sortKey{}
	var devs []*devState
	for _, d := range r.devs {
		if d == nil {
			continue
		}
		keys[d.ID] = sortKey{d.partsWanted, r.rng.IntN(0x10000), d.ID}
		if w := d.partsWanted; w > 0 {
			for _, t := range r.t.devTiers[d.ID] {
				avail[t] += w
			}
		}
		if d.Weight > 0 {
			devs = append(devs, d)
		}
	}
	slices.SortFunc(devs, func(a, b *devState) int { return compareKeys(keys[a.ID], keys[b.ID]) })
	// A tier sorts by its most wanting device.
	tierKey := make([]sortKey, len(r.t.nodes))
	for _, d := range devs {
		for _, t := range r.t.devTiers[d.ID] {
			tierKey[t] = keys[d.ID]
		}
	}
	children := make([][]int, len(r.t.nodes))
	for i := range r.t.nodes {
		children[i] = slices.Clone(r.t.nodes[i].active)
		slices.SortFunc(children[i], func(a, b int) int { return compareKeys(tierKey[a], tierKey[b]) })
	}

	for _, it := range items {
		part := it.part
		r.lastPartMoves[part] = 0
		r.countPart(part)
		for _, rep := range it.replicas {
			n := 0
			for depth := depthRegion; depth <= depthDevice; depth++ {
				best := -1
				for _, c := range children[n] {
					if int(r.cnt.n[c]) < r.plan.max[c] && (best < 0 || avail[c] > avail[best]) {
						best = c
					}
				}
				if best < 0 {
					return fmt.Errorf("no home for partition %d replica %d", part, rep)
				}
				n = best
			}
			d := r.devs[r.t.nodes[n].dev]
			d.partsWanted--
			d.parts++
			tiers := r.t.devTiers[d.ID]
			for _, t := range tiers {
				avail[t]--
			}
			r.cnt.add(tiers, 1)
			r.r2p2d[rep][part] = uint16(d.ID)
		}
	}
	return nil
}
