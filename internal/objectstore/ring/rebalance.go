package ring

import (
	"fmt"
	"math/rand/v2"
)

// RebalanceResult reports one rebalance the way swift-ring-builder does.
type RebalanceResult struct {
	// Changed counts partition-replicas now on a different device.
	Changed int
	// Balance is the worst device's percent difference from its weight.
	Balance float64
	// Dispersion is the percent of partition-replicas placed less uniquely
	// than the topology allows.
	Dispersion float64
	// Removed counts devices dropped because they were marked for removal.
	Removed int
	// Finished is false when some device is still above its share, usually
	// because min_part_hours held partitions in place.
	Finished bool
}

// Rebalance assigns every partition replica to a device. On error the
// builder is left as it was.
func (b *Builder) Rebalance() (RebalanceResult, error) {
	weighted := 0
	for _, d := range b.devs {
		if d != nil && d.Weight > 0 {
			weighted++
		}
	}
	if weighted < b.replicas {
		return RebalanceResult{}, fmt.Errorf("replica count of %d requires more than %d devices", b.replicas, weighted)
	}
	c := b.clone()
	res, err := c.rebalance()
	if err != nil {
		return RebalanceResult{}, err
	}
	*b = *c
	return res, nil
}

// rebalancer carries the state of one rebalance.
type rebalancer struct {
	*Builder
	t    *tierTree
	plan *replicaPlan
	rng  *rand.Rand
	cnt  tierCounter
}

func (b *Builder) rebalance() (RebalanceResult, error) {
	var old [][]uint16
	if b.r2p2d != nil {
		old = b.clone().r2p2d
	}
	b.updateLastPartMoves(b.clock().Unix())
	t := buildTierTree(b.devs)
	plan, err := b.buildPlan(t)
	if err != nil {
		return RebalanceResult{}, err
	}
	r := &rebalancer{
		Builder: b, t: t, plan: plan,
		// Each rebalance of a given builder state draws the same numbers.
		rng: rand.New(rand.NewPCG(b.seed, uint64(b.version))),
		cnt: newTierCounter(len(t.nodes)),
	}
	wanted := b.partsByDevice(t, plan)
	for _, d := range b.devs {
		if d == nil {
			continue
		}
		if d.Weight <= 0 {
			// A weightless device wants to give away everything it has.
			d.partsWanted = -b.parts() * b.replicas
		} else {
			d.partsWanted = wanted[d.ID] - d.parts
		}
	}

	a := newAssignList(b.parts())
	r.allocate(a)
	r.gatherFromRemoved(a)
	r.gatherForDispersion(a)
	removed := b.dropRemoved()
	finished := false
	for i := 0; i < gatherRetries; i++ {
		r.gatherForBalance(a, i == 0)
		if len(a.items) == 0 {
			break
		}
		items := a.take()
		// No preference in which order the plan is fulfilled.
		r.rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		if err := r.reassign(items); err != nil {
			return RebalanceResult{}, err
		}
		if !b.anyOverweight() {
			finished = true
			break
		}
	}

	changed := 0
	for rep, p2d := range b.r2p2d {
		for part, id := range p2d {
			if old == nil || old[rep][part] != id {
				changed++
			}
		}
	}
	b.dispersion = b.computeDispersion()
	b.rebalanced = true
	b.version++
	return RebalanceResult{
		Changed: changed, Balance: b.Balance(), Dispersion: b.dispersion,
		Removed: removed, Finished: finished,
	}, nil
}

// updateLastPartMoves ages every partition by the whole hours since the
// last update.
func (b *Builder) updateLastPartMoves(now int64) {
	b.moved = make([]bool, b.parts())
	elapsed := (now - b.epoch) / 3600
	if elapsed <= 0 {
		return
	}
	for i, v := range b.lastPartMoves {
		b.lastPartMoves[i] = uint8(min(int64(v)+elapsed, 0xff))
	}
	b.epoch = now
}

func (b *Builder) canMove(part int) bool {
	return int(b.lastPartMoves[part]) >= b.minPartHours && !b.moved[part]
}

func (b *Builder) setMoved(part int) {
	b.lastPartMoves[part] = 0
	b.moved[part] = true
}

func (b *Builder) anyOverweight() bool {
	for _, d := range b.devs {
		if d != nil && d.partsWanted < 0 {
			return true
		}
	}
	return false
}

// allocate creates the assignment table on the first rebalance and queues
// every partition replica for placement.
func (r *rebalancer) allocate(a *assignList) {
	if r.r2p2d != nil {
		return
	}
	r.r2p2d = make([][]uint16, r.replicas)
	for rep := range r.r2p2d {
		p2d := make([]uint16, r.parts())
		for part := range p2d {
			p2d[part] = noneDev
			a.add(part, rep)
		}
		r.r2p2d[rep] = p2d
	}
}

// dropRemoved forgets devices marked for removal, whose partitions were
// already gathered.
func (b *Builder) dropRemoved() int {
	n := len(b.removeDevs)
	for _, id := range b.removeDevs {
		b.devs[id] = nil
	}
	b.removeDevs = nil
	for len(b.devs) > 0 && b.devs[len(b.devs)-1] == nil {
		b.devs = b.devs[:len(b.devs)-1]
	}
	return n
}

// assignList is the set of partition replicas waiting for a device, in
// the order they were gathered.
type assignList struct {
	pos   []int32 // index+1 into items by partition; 0 means absent
	items []assignment
}

type assignment struct {
	part     int
	replicas []int
}

func newAssignList(parts int) *assignList { return &assignList{pos: make([]int32, parts)} }

func (a *assignList) add(part, replica int) {
	if i := a.pos[part]; i > 0 {
		a.items[i-1].replicas = append(a.items[i-1].replicas, replica)
		return
	}
	a.items = append(a.items, assignment{part: part, replicas: []int{replica}})
	a.pos[part] = int32(len(a.items))
}

func (a *assignList) take() []assignment {
	items := a.items
	for _, it := range items {
		a.pos[it.part] = 0
	}
	a.items = nil
	return items
}

// tierCounter counts one partition's replicas per tier and clears only
// what it touched, so per-partition work stays proportional to replicas.
type tierCounter struct {
	n       []int32
	touched []int
}

func newTierCounter(nodes int) tierCounter { return tierCounter{n: make([]int32, nodes)} }

func (c *tierCounter) add(tiers [4]int, d int32) {
	for _, t := range tiers {
		if c.n[t] == 0 {
			c.touched = append(c.touched, t)
		}
		c.n[t] += d
	}
}

func (c *tierCounter) reset() {
	for _, t := range c.touched {
		c.n[t] = 0
	}
	c.touched = c.touched[:0]
}

// countPart loads the counter with the current replicas of part.
func (r *rebalancer) countPart(part int) {
	r.cnt.reset()
	for _, p2d := range r.r2p2d {
		if id := p2d[part]; id != noneDev {
			r.cnt.add(r.t.devTiers[id], 1)
		}
	}
}
