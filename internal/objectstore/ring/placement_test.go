package ring

import (
	"strings"
	"testing"
)

// partDevs returns the device states holding part.
func partDevs(t testing.TB, b *Builder, part int) []*devState {
	t.Helper()
	ids, err := b.PartDevices(part)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*devState, len(ids))
	for i, id := range ids {
		out[i] = b.devs[id]
	}
	return out
}

func distinct[K comparable](devs []*devState, key func(*devState) K) int {
	seen := map[K]bool{}
	for _, d := range devs {
		seen[key(d)] = true
	}
	return len(seen)
}

func zoneOf(d *devState) [2]int { return [2]int{d.Region, d.Zone} }
func nodeOf(d *devState) string { return d.IP }

func TestOneRegionThreeZonesThreeDevices(t *testing.T) {
	b := buildRing(t, 8, 3, 1, nil, []layoutDev{{1, 1, 1, 100}, {1, 2, 1, 100}, {1, 3, 1, 100}})
	for part := range b.parts() {
		if n := distinct(partDevs(t, b, part), zoneOf); n != 3 {
			t.Fatalf("partition %d spans %d zones, want 3", part, n)
		}
	}
	if b.Balance() != 0 || b.Dispersion() != 0 {
		t.Fatalf("balance %.2f dispersion %.2f, want 0 and 0", b.Balance(), b.Dispersion())
	}
}

func TestTwoRegionsFiveZones(t *testing.T) {
	var devs []layoutDev
	for _, z := range [][2]int{{1, 1}, {1, 2}, {1, 3}, {2, 1}, {2, 2}} {
		devs = append(devs, layoutDev{z[0], z[1], 1, 100}, layoutDev{z[0], z[1], 2, 100})
	}
	b := buildRing(t, 10, 3, 1, nil, devs)
	for part := range b.parts() {
		pd := partDevs(t, b, part)
		if n := distinct(pd, func(d *devState) int { return d.Region }); n != 2 {
			t.Fatalf("partition %d spans %d regions, want 2", part, n)
		}
		if n := distinct(pd, zoneOf); n != 3 {
			t.Fatalf("partition %d spans %d zones, want 3", part, n)
		}
	}
	if b.Dispersion() != 0 {
		t.Fatalf("dispersion %.2f, want 0", b.Dispersion())
	}
	if b.Balance() > 1 {
		t.Fatalf("balance %.2f%%, want within Swift's 1%%", b.Balance())
	}
}

// Nodes come before devices: with 3 nodes of 2 disks each, no partition
// may put two replicas on one node.
func TestSpreadsAcrossNodesBeforeDevices(t *testing.T) {
	b := buildRing(t, 10, 3, 1, nil, grid(1, 1, 3, 2, 100))
	for part := range b.parts() {
		if n := distinct(partDevs(t, b, part), nodeOf); n != 3 {
			t.Fatalf("partition %d spans %d nodes, want 3", part, n)
		}
	}
}

// Swift never stores two replicas of a partition on one device: its
// builder refuses a replica count above the number of weighted devices.
func TestSingleDevice(t *testing.T) {
	b, err := NewBuilder(6, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddDevice(devFor(layoutDev{1, 1, 1, 100}, "sda")); err != nil {
		t.Fatal(err)
	}
	_, err = b.Rebalance()
	if err == nil || !strings.Contains(err.Error(), "replica count of 3 requires more than 1 devices") {
		t.Fatalf("3 replicas on 1 device: got %v, want Swift's replica count error", err)
	}
	if b.r2p2d != nil {
		t.Fatal("failed rebalance changed the builder")
	}

	one := buildRing(t, 6, 1, 1, nil, []layoutDev{{1, 1, 1, 100}})
	if one.devs[0].parts != one.parts() {
		t.Fatalf("single device holds %d of %d partitions", one.devs[0].parts, one.parts())
	}
}

func TestWeightsProportional(t *testing.T) {
	var devs []layoutDev
	for i, w := range []float64{100, 150, 200, 250, 300, 350} {
		devs = append(devs, layoutDev{1, 1, i + 1, w})
	}
	b := buildRing(t, 12, 3, 1, nil, devs)
	total := 0.0
	for _, d := range devs {
		total += d.weight
	}
	for _, d := range b.Devices() {
		want := d.Weight / total * float64(b.parts()*b.Replicas())
		if diff := (float64(d.Parts) - want) / want * 100; diff > 1 || diff < -1 {
			t.Errorf("device %d weight %.0f holds %d partitions, want %.1f (off %.2f%%)", d.ID, d.Weight, d.Parts, want, diff)
		}
	}
	if b.Balance() > 1 {
		t.Fatalf("balance %.2f%%, want under 1%%", b.Balance())
	}
	t.Logf("balance %.3f%%", b.Balance())
}

// A zone too small for one replica of every partition: with overload 0
// weights win and some partitions double up in a big zone (Swift's
// default); enough overload buys full dispersion at the small zone's
// expense.
func TestOverloadTradesBalanceForDispersion(t *testing.T) {
	devs := []layoutDev{{1, 1, 1, 100}, {1, 2, 1, 100}, {1, 2, 2, 100}, {1, 3, 1, 100}, {1, 3, 2, 100}}
	b := buildRing(t, 10, 3, 1, nil, devs)
	if b.Dispersion() == 0 || b.Balance() > 1 {
		t.Fatalf("overload 0: dispersion %.2f balance %.2f, want dispersion > 0 and balance under 1%%", b.Dispersion(), b.Balance())
	}
	t.Logf("overload 0: dispersion %.2f%% balance %.2f%%", b.Dispersion(), b.Balance())
	if err := b.SetOverload(0.7); err != nil {
		t.Fatal(err)
	}
	b.PretendMinPartHoursPassed()
	for range 4 {
		if _, err := b.Rebalance(); err != nil {
			t.Fatal(err)
		}
		b.PretendMinPartHoursPassed()
	}
	checkValid(t, b)
	if b.Dispersion() != 0 {
		t.Fatalf("overload 0.7: dispersion %.2f, want 0", b.Dispersion())
	}
	for part := range b.parts() {
		if n := distinct(partDevs(t, b, part), zoneOf); n != 3 {
			t.Fatalf("partition %d spans %d zones, want 3", part, n)
		}
	}
	t.Logf("overload 0.7: dispersion %.2f%% balance %.2f%%", b.Dispersion(), b.Balance())
}

func TestBuilderRejectsBadInput(t *testing.T) {
	for _, c := range []struct{ power, replicas, hours int }{{-1, 3, 1}, {25, 3, 1}, {8, 0, 1}, {8, 3, -1}, {8, 3, 256}} {
		if _, err := NewBuilder(c.power, c.replicas, c.hours); err == nil {
			t.Errorf("NewBuilder(%d, %d, %d) accepted", c.power, c.replicas, c.hours)
		}
	}
	b, _ := NewBuilder(4, 1, 1)
	good := devFor(layoutDev{1, 1, 1, 100}, "sda")
	for name, mutate := range map[string]func(*Device){
		"port":   func(d *Device) { d.Port = 0 },
		"ip":     func(d *Device) { d.IP = "not an ip!" },
		"name":   func(d *Device) { d.Name = "" },
		"slash":  func(d *Device) { d.Name = "a/b" },
		"weight": func(d *Device) { d.Weight = -1 },
		"zone":   func(d *Device) { d.Zone = -1 },
	} {
		d := good
		mutate(&d)
		if _, err := b.AddDevice(d); err == nil {
			t.Errorf("%s: bad device accepted", name)
		}
	}
	if _, err := b.AddDevice(good); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddDevice(good); err == nil {
		t.Error("duplicate ip:port/device accepted")
	}
	if err := b.SetWeight(7, 1); err == nil {
		t.Error("SetWeight on unknown device accepted")
	}
	if _, err := b.Ring(HashPath{Suffix: "x"}); err != ErrNotRebalanced {
		t.Errorf("Ring before rebalance: %v", err)
	}
}

// A hundred devices of mixed weights, then ten more: balanced, fully
// dispersed, and the growth moves close to the minimum.
func TestLargeMixedLayout(t *testing.T) {
	var devs []layoutDev
	for i, l := range grid(2, 5, 5, 2, 0) {
		l.weight = float64(100 + 50*(i%3))
		devs = append(devs, l)
	}
	clock := newClock()
	b := buildRing(t, 14, 3, 1, clock, devs)
	if b.Balance() > 1 || b.Dispersion() != 0 {
		t.Fatalf("100 devices: balance %.2f dispersion %.2f", b.Balance(), b.Dispersion())
	}
	before := snapshot(b)
	added := 0.0
	for i := range 10 {
		if _, err := b.AddDevice(devFor(layoutDev{1 + i%2, 1 + i%5, 9, 100}, "new")); err != nil {
			t.Fatal(err)
		}
		added += 100
	}
	clock.advance(2)
	res, err := b.Rebalance()
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, b)
	total := b.totalWeight()
	minimum := added / total * float64(b.parts()*3)
	moved, _ := changedSlots(before, snapshot(b))
	t.Logf("added 10 devices: moved %d, minimum %.0f, balance %.2f%%, dispersion %.2f%%", moved, minimum, res.Balance, res.Dispersion)
	if float64(moved) > 1.05*minimum+3 || res.Balance > 1 || res.Dispersion != 0 {
		t.Fatalf("moved %d for a minimum of %.0f; balance %.2f dispersion %.2f", moved, minimum, res.Balance, res.Dispersion)
	}
}

// The smallest rings (1 and 2 partitions) still place and look up.
func TestTinyPartPower(t *testing.T) {
	for _, power := range []int{0, 1} {
		b := buildRing(t, power, 3, 1, nil, grid(1, 3, 1, 1, 100))
		r := ringOf(t, b, testSalt)
		part := r.PartitionFor("a", "c", "o")
		if part < 0 || part >= 1<<power || len(r.Nodes(part)) != 3 {
			t.Fatalf("power %d: partition %d nodes %v", power, part, r.Nodes(part))
		}
		n := 0
		for range r.Handoffs(part) {
			n++
		}
		if n != 0 {
			t.Fatalf("power %d: %d handoffs with every device primary", power, n)
		}
	}
}
