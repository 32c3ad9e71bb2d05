package ring

import (
	"fmt"
	"testing"
	"time"
)

// layout describes devices as region, zone, node index and weight.
type layoutDev struct {
	region, zone, node int
	weight             float64
}

// fakeClock is an injectable clock the tests advance by hours.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) advance(h int)  { c.now = c.now.Add(time.Duration(h) * time.Hour) }
func newClock() *fakeClock          { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func devFor(l layoutDev, name string) Device {
	return Device{
		Region: l.region, Zone: l.zone,
		IP:   fmt.Sprintf("10.%d.%d.%d", l.region, l.zone, l.node),
		Port: 6200, Name: name, Weight: l.weight,
	}
}

// newRing builds and rebalances a builder over the given layout.
func buildRing(t testing.TB, power, replicas, minHours int, clock *fakeClock, devs []layoutDev) *Builder {
	t.Helper()
	b, err := NewBuilder(power, replicas, minHours)
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		b.SetClock(clock.Now)
	}
	for i, l := range devs {
		if _, err := b.AddDevice(devFor(l, fmt.Sprintf("sd%c", 'a'+i%26)+fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	checkValid(t, b)
	return b
}

// grid makes regions×zones×nodes×disks devices of one weight.
func grid(regions, zones, nodes, disks int, weight float64) []layoutDev {
	var out []layoutDev
	for r := 1; r <= regions; r++ {
		for z := 1; z <= zones; z++ {
			for n := 1; n <= nodes; n++ {
				for range disks {
					out = append(out, layoutDev{r, z, n, weight})
				}
			}
		}
	}
	return out
}

// checkValid asserts every replica is on a live device, no partition has
// two replicas on one device, and per-device counts match the table.
func checkValid(t testing.TB, b *Builder) {
	t.Helper()
	counts := map[int]int{}
	for part := range b.parts() {
		ids, err := b.PartDevices(part)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, id := range ids {
			if id == noneDev || id >= len(b.devs) || b.devs[id] == nil {
				t.Fatalf("partition %d has replica on missing device %d", part, id)
			}
			if seen[id] {
				t.Fatalf("partition %d has two replicas on device %d", part, id)
			}
			seen[id] = true
			counts[id]++
		}
	}
	for _, d := range b.devs {
		if d != nil && d.parts != counts[d.ID] {
			t.Fatalf("device %d: counted %d parts, table has %d", d.ID, d.parts, counts[d.ID])
		}
	}
}

// snapshot copies the assignment table.
func snapshot(b *Builder) [][]uint16 { return b.clone().r2p2d }
