package ring

import (
	"fmt"
	"math"
	"slices"
)

// replicaPlan is Swift's per-tier target: how many replicas of each
// partition a tier should hold on average (target), and the whole-number
// bounds every single partition must respect (min, max).
type replicaPlan struct {
	target   []float64
	min, max []int
}

const epsilon = 1e-10

// weightedReplicas gives each tier replicanths in proportion to weight, with
// no device above one replica per partition (the excess is spread on the
// others, as Swift's _build_weighted_replicas_by_tier does).
func (b *Builder) weightedReplicas(t *tierTree) ([]float64, error) {
	total := t.nodes[0].weight
	perDev := map[int]float64{}
	var room []int
	for _, d := range b.devs {
		if d == nil || d.Weight <= 0 {
			continue
		}
		w := d.Weight * float64(b.replicas) / total
		if w >= 1 {
			w = 1
		} else {
			room = append(room, d.ID)
		}
		perDev[d.ID] = w
	}
	for i := 0; ; i++ {
		if i > len(b.devs)+8 {
			return nil, fmt.Errorf("weighted replicas did not converge")
		}
		sum := 0.0
		for _, w := range perDev {
			sum += w
		}
		remaining := float64(b.replicas) - sum
		if remaining < epsilon {
			break
		}
		room = slices.DeleteFunc(room, func(id int) bool { return perDev[id] >= 1 })
		roomSum := 0.0
		for _, id := range room {
			roomSum += perDev[id]
		}
		if roomSum <= 0 {
			return nil, fmt.Errorf("replica count of %d requires more devices", b.replicas)
		}
		rel := remaining / roomSum
		for _, id := range room {
			perDev[id] = math.Min(1, perDev[id]*(rel+1))
		}
	}
	out := make([]float64, len(t.nodes))
	for id, w := range perDev {
		out[0] += w
		for _, n := range t.devTiers[id] {
			out[n] += w
		}
	}
	return out, nil
}

// maxReplicas is the most replicas of one partition each tier may hold if
// replicas are spread evenly among siblings ("as unique as possible").
// bound is math.Ceil for the dispersion report, identity for planning.
func maxReplicas(t *tierTree, replicas int, bound func(float64) float64) []float64 {
	out := make([]float64, len(t.nodes))
	var walk func(n int, r float64)
	walk = func(n int, r float64) {
		if t.nodes[n].depth == depthDevice {
			r = math.Min(1, r)
		}
		out[n] = r
		act := t.nodes[n].active
		for _, c := range act {
			walk(c, bound(r/float64(len(act))))
		}
	}
	walk(0, float64(replicas))
	return out
}

// wantedReplicas is the most dispersed plan that still leans on weights,
// limited by how many devices each tier has (Swift's
// _build_wanted_replicas_by_tier).
func (b *Builder) wantedReplicas(t *tierTree, weighted []float64) ([]float64, error) {
	dispersed := maxReplicas(t, b.replicas, func(f float64) float64 { return f })
	wanted := make([]float64, len(t.nodes))
	var place func(n int, r float64) error
	place = func(n int, r float64) error {
		if r > float64(t.nodes[n].devices)+epsilon {
			return fmt.Errorf("more replicanths (%g) than devices (%d) in a tier", r, t.nodes[n].devices)
		}
		wanted[n] = r
		subs := t.nodes[n].active
		if len(subs) == 0 {
			return nil
		}
		toPlace := make(map[int]float64, len(subs))
		spread := subs
		remaining := r
		deviceLimited := false
		for i := 0; ; i++ {
			if i > 1000 || len(spread) == 0 {
				return fmt.Errorf("cannot plan %g replicas over %d tiers", r, len(subs))
			}
			sum := 0.0
			for _, s := range spread {
				sum += weighted[s]
			}
			rel := remaining / sum
			for _, s := range spread {
				v := toPlace[s] + weighted[s]*rel
				lo, hi := math.Floor(dispersed[s]), math.Ceil(dispersed[s])
				if v < lo {
					v = lo
				} else if v > hi && !deviceLimited {
					v = hi
				}
				v = math.Min(v, float64(t.nodes[s].devices))
				toPlace[s] = v
			}
			placed := 0.0
			for _, s := range subs {
				placed += toPlace[s]
			}
			remaining = r - placed
			switch {
			case remaining < -epsilon:
				spread = nil
				for _, s := range subs {
					if toPlace[s] > math.Floor(dispersed[s]) {
						spread = append(spread, s)
					}
				}
			case remaining > epsilon:
				spread = nil
				for _, s := range subs {
					if float64(t.nodes[s].devices) > toPlace[s] && toPlace[s] < math.Ceil(dispersed[s]) {
						spread = append(spread, s)
					}
				}
				if len(spread) == 0 {
					deviceLimited = true
					for _, s := range subs {
						if toPlace[s] < float64(t.nodes[s].devices) {
							spread = append(spread, s)
						}
					}
				}
			default:
				for _, s := range subs {
					if err := place(s, toPlace[s]); err != nil {
						return err
					}
				}
				return nil
			}
		}
	}
	if err := place(0, float64(b.replicas)); err != nil {
		return nil, err
	}
	return wanted, nil
}

// requiredOverload is how far above its weight the most pressed device must
// go for full dispersion.
func requiredOverload(t *tierTree, weighted, wanted []float64) float64 {
	most := 0.0
	for i := range t.nodes {
		n := &t.nodes[i]
		if n.depth != depthDevice || n.devices == 0 {
			continue
		}
		if req := (wanted[i] - weighted[i]) / weighted[i]; req > most {
			most = req
		}
	}
	return most
}

// buildPlan blends the weighted and wanted plans by the overload factor.
func (b *Builder) buildPlan(t *tierTree) (*replicaPlan, error) {
	weighted, err := b.weightedReplicas(t)
	if err != nil {
		return nil, err
	}
	wanted, err := b.wantedReplicas(t, weighted)
	if err != nil {
		return nil, err
	}
	target := wanted
	if most := requiredOverload(t, weighted, wanted); most > 0 {
		over := math.Min(b.overload, most)
		target = make([]float64, len(t.nodes))
		for i := range target {
			target[i] = weighted[i] + (wanted[i]-weighted[i])/most*over
		}
	}
	p := &replicaPlan{target: target, min: make([]int, len(target)), max: make([]int, len(target))}
	for i, r := range target {
		p.min[i] = int(math.Floor(r + epsilon))
		p.max[i] = int(math.Ceil(r - epsilon))
	}
	return p, nil
}

// partsByDevice turns the plan into whole partition-replica counts per device,
// handing rounding leftovers to the tiers with the smallest targets first.
func (b *Builder) partsByDevice(t *tierTree, p *replicaPlan) map[int]int {
	parts := b.parts()
	out := map[int]int{}
	var place func(n, count int)
	place = func(n, count int) {
		if t.nodes[n].depth == depthDevice {
			out[t.nodes[n].dev] = count
			return
		}
		subs := t.nodes[n].active
		if len(subs) == 0 {
			return
		}
		toPlace := make([]int, len(subs))
		for i, s := range subs {
			toPlace[i] = min(count, int(math.Floor(p.target[s]*float64(parts))))
			count -= toPlace[i]
		}
		order := make([]int, len(subs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, c int) int {
			switch ta, tc := p.target[subs[a]], p.target[subs[c]]; {
			case ta < tc:
				return -1
			case ta > tc:
				return 1
			}
			return 0
		})
		for i := 0; count > 0; i++ {
			toPlace[order[i%len(order)]]++
			count--
		}
		for i, s := range subs {
			place(s, toPlace[i])
		}
	}
	place(0, b.replicas*parts)
	return out
}
