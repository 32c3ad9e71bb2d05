package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var randomSeeds = 60

// Random layouts and changes, from fixed seeds: every rebalance must
// succeed (or refuse too few devices), leave a valid table, and never move
// two replicas of a partition while min_part_hours applies.
func TestRandomChanges(t *testing.T) {
	rebalanced := 0
	defer func() { t.Logf("%d successful rebalances", rebalanced) }()
	for seed := range uint64(randomSeeds) {
		rng := rand.New(rand.NewPCG(seed, 1))
		replicas := 1 + rng.IntN(4)
		clock := newClock()
		b, err := NewBuilder(6+rng.IntN(3), replicas, 1+rng.IntN(3))
		if err != nil {
			t.Fatal(err)
		}
		b.SetClock(clock.Now)
		b.SetSeed(seed)
		if rng.IntN(3) == 0 {
			b.SetOverload(rng.Float64())
		}
		add := func() {
			l := layoutDev{1 + rng.IntN(2), 1 + rng.IntN(4), 1 + rng.IntN(3), float64(50 + rng.IntN(200))}
			b.AddDevice(devFor(l, fmt.Sprintf("d%d", rng.Uint32())))
		}
		for range replicas + rng.IntN(8) {
			add()
		}
		for step := range 12 {
			switch rng.IntN(4) {
			case 0:
				add()
			case 1:
				if ds := b.Devices(); len(ds) > replicas+1 {
					b.RemoveDevice(ds[rng.IntN(len(ds))].ID)
				}
			case 2:
				if ds := b.Devices(); len(ds) > 0 {
					b.SetWeight(ds[rng.IntN(len(ds))].ID, float64(rng.IntN(300)))
				}
			}
			clock.advance(rng.IntN(4))
			var before [][]uint16
			if b.r2p2d != nil {
				before = snapshot(b)
			}
			res, err := b.Rebalance()
			if err != nil {
				weighted := 0
				for _, d := range b.Devices() {
					if d.Weight > 0 {
						weighted++
					}
				}
				if weighted < replicas {
					continue
				}
				t.Fatalf("seed %d step %d: %v\n%s", seed, step, err, b.Describe("x"))
			}
			checkValid(t, b)
			rebalanced++
			if before != nil && len(before) == len(b.r2p2d) && res.Removed == 0 {
				_, per := changedSlots(before, snapshot(b))
				for part, n := range per {
					if n > 1 {
						t.Fatalf("seed %d step %d: partition %d moved %d replicas", seed, step, part, n)
					}
				}
			}
		}
	}
}
