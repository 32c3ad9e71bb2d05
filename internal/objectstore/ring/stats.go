package ring

import "math"

// computeDispersion is Swift's dispersion figure: the percent of
// partition-replicas above the most a tier should hold if replicas were
// spread evenly, each counted once at its worst tier.
func (b *Builder) computeDispersion() float64 {
	if b.r2p2d == nil {
		return 0
	}
	t := buildTierTree(b.devs)
	most := maxReplicas(t, b.replicas, math.Ceil)
	cnt := newTierCounter(len(t.nodes))
	atRisk := 0
	for part := range b.parts() {
		cnt.reset()
		for _, p2d := range b.r2p2d {
			if id := p2d[part]; id != noneDev {
				cnt.add(t.devTiers[id], 1)
			}
		}
		var byDepth [depthDevice + 1]int
		for _, n := range cnt.touched {
			if extra := float64(cnt.n[n]) - most[n]; extra > 0 {
				byDepth[t.nodes[n].depth] += int(extra)
			}
		}
		worst := 0
		for _, v := range byDepth {
			worst = max(worst, v)
		}
		atRisk += worst
	}
	return 100 * float64(atRisk) / float64(b.parts()*b.replicas)
}

// totalWeight sums device weights.
func (b *Builder) totalWeight() float64 {
	w := 0.0
	for _, d := range b.devs {
		if d != nil {
			w += d.Weight
		}
	}
	return w
}

// balanceOf is a device's percent above (or below) the partitions its
// weight asks for; weightless devices still holding any count as 999.99.
func (b *Builder) balanceOf(d *devState, partWeight float64) float64 {
	if d.Weight == 0 {
		if d.parts > 0 {
			return maxBalance
		}
		return 0
	}
	return 100*float64(d.parts)/(d.Weight*partWeight) - 100
}

// Balance is the worst device's balance, swift-ring-builder's "balance".
// It is 0 for a ring without weight.
func (b *Builder) Balance() float64 {
	total := b.totalWeight()
	if total == 0 {
		return 0
	}
	pw := float64(b.parts()*b.replicas) / total
	worst := 0.0
	for _, d := range b.devs {
		if d != nil {
			worst = math.Max(worst, math.Abs(b.balanceOf(d, pw)))
		}
	}
	return worst
}

// DeviceStats is a device with what the builder assigned to it.
type DeviceStats struct {
	Device
	Parts    int
	Balance  float64
	Removing bool
}

// Devices lists the builder's devices by ID.
func (b *Builder) Devices() []DeviceStats {
	total := b.totalWeight()
	pw := 0.0
	if total > 0 {
		pw = float64(b.parts()*b.replicas) / total
	}
	var out []DeviceStats
	for _, d := range b.devs {
		if d == nil {
			continue
		}
		s := DeviceStats{Device: d.Device, Parts: d.parts}
		if pw > 0 {
			s.Balance = b.balanceOf(d, pw)
		} else if d.parts > 0 {
			s.Balance = maxBalance
		}
		for _, id := range b.removeDevs {
			s.Removing = s.Removing || id == d.ID
		}
		out = append(out, s)
	}
	return out
}
