package ring

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// changedSlots lists the (replica, part) slots that differ between tables,
// and how many replicas of each partition changed.
func changedSlots(before, after [][]uint16) (total int, perPart map[int]int) {
	perPart = map[int]int{}
	for rep := range after {
		for part := range after[rep] {
			if before[rep][part] != after[rep][part] {
				total++
				perPart[part]++
			}
		}
	}
	return total, perPart
}

// Adding a device should move about as many partition-replicas as the
// new device ends up holding, which is the least any placement can move.
func TestAddDeviceMovesMinimum(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 10, 3, 1, clock, grid(1, 4, 1, 2, 100))
	before := snapshot(b)
	id, err := b.AddDevice(devFor(layoutDev{1, 5, 1, 100}, "sdz"))
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(2)
	res, err := b.Rebalance()
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, b)
	// 9 equal devices: the new one's share of 3×1024 replicas.
	minimum := int(math.Floor(float64(3*1024) / 9))
	got := b.devs[id].parts
	if got < minimum || got > minimum+1 {
		t.Fatalf("new device holds %d partitions, want %d or %d", got, minimum, minimum+1)
	}
	moved, perPart := changedSlots(before, snapshot(b))
	if moved != res.Changed {
		t.Fatalf("Rebalance reported %d changes, table shows %d", res.Changed, moved)
	}
	if moved < got || float64(moved) > 1.02*float64(got) {
		t.Fatalf("moved %d partition-replicas, theoretical minimum %d", moved, got)
	}
	for part, n := range perPart {
		if n > 1 {
			t.Fatalf("partition %d moved %d replicas in one rebalance", part, n)
		}
	}
	if b.Balance() > 1 || b.Dispersion() != 0 {
		t.Fatalf("after add: balance %.2f dispersion %.2f", b.Balance(), b.Dispersion())
	}
	t.Logf("moved %d partition-replicas for a minimum of %d", moved, got)
}

// Removing a device reassigns exactly its partition-replicas and leaves
// every other replica where it was.
func TestRemoveDeviceMovesOnlyItsPartitions(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 10, 3, 24, clock, grid(1, 4, 1, 2, 100))
	before := snapshot(b)
	had := b.devs[0].parts
	if err := b.RemoveDevice(0); err != nil {
		t.Fatal(err)
	}
	if !b.Devices()[0].Removing || !strings.Contains(b.Describe("x"), "DEL") {
		t.Fatal("device marked for removal is not flagged")
	}
	// Within min_part_hours: a removed device's partitions still move.
	clock.advance(1)
	res, err := b.Rebalance()
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, b)
	if res.Removed != 1 || len(b.devs) > 0 && b.devs[0] != nil {
		t.Fatalf("device 0 still present after rebalance (removed %d)", res.Removed)
	}
	after := snapshot(b)
	for rep := range after {
		for part := range after[rep] {
			if before[rep][part] != 0 && before[rep][part] != after[rep][part] {
				t.Fatalf("partition %d replica %d moved from device %d though it was not removed", part, rep, before[rep][part])
			}
		}
	}
	if res.Changed != had {
		t.Fatalf("moved %d partition-replicas, the removed device had %d", res.Changed, had)
	}
	if b.Dispersion() != 0 {
		t.Fatalf("dispersion %.2f after removal", b.Dispersion())
	}
}

// min_part_hours: nothing moves before it has passed, then at most one
// replica of a partition per rebalance, and a partition just moved stays.
func TestMinPartHours(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 10, 3, 24, clock, grid(1, 4, 1, 2, 100))
	// Two new zones that together want 1.5 replicas of every partition:
	// more than one rebalance can move.
	for z := 5; z <= 6; z++ {
		for n := 1; n <= 4; n++ {
			if _, err := b.AddDevice(devFor(layoutDev{1, z, n, 100}, "sdn")); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.advance(1)
	before := snapshot(b)
	res, err := b.Rebalance()
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 0 || res.Finished {
		t.Fatalf("1h after a full assignment with min_part_hours 24: changed %d finished %v", res.Changed, res.Finished)
	}
	// As in Swift, the countdown restarts at each rebalance that ages the
	// partitions, so it reads a full min_part_hours here.
	if left := b.MinPartSecondsLeft(); left != 24*3600 {
		t.Fatalf("MinPartSecondsLeft %d, want %d", left, 24*3600)
	}

	clock.advance(24)
	res, err = b.Rebalance()
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, b)
	first, perPart := changedSlots(before, snapshot(b))
	if first == 0 || first != res.Changed {
		t.Fatalf("after 25h: changed %d (reported %d), want some", first, res.Changed)
	}
	for part, n := range perPart {
		if n > 1 {
			t.Fatalf("partition %d moved %d replicas in one rebalance", part, n)
		}
	}

	clock.advance(1)
	mid := snapshot(b)
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	second, again := changedSlots(mid, snapshot(b))
	t.Logf("first day moved %d partition-replicas; 1h later %d more (balance %.2f%%)", first, second, b.Balance())
	for part := range again {
		if perPart[part] > 0 {
			t.Fatalf("partition %d moved again 1h after moving", part)
		}
	}

	// Keep going a day at a time: the ring must converge.
	for i := 0; i < 6 && b.Balance() > 1; i++ {
		clock.advance(25)
		prev := snapshot(b)
		if _, err := b.Rebalance(); err != nil {
			t.Fatal(err)
		}
		_, pp := changedSlots(prev, snapshot(b))
		for part, n := range pp {
			if n > 1 {
				t.Fatalf("day %d: partition %d moved %d replicas", i, part, n)
			}
		}
	}
	checkValid(t, b)
	t.Logf("final balance %.2f%%", b.Balance())
	if b.Balance() > 1 || b.Dispersion() != 0 {
		t.Fatalf("did not converge: balance %.2f dispersion %.2f", b.Balance(), b.Dispersion())
	}
}

// Draining by weight 0 honours min_part_hours, unlike removal.
func TestZeroWeightDrains(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 8, 3, 1, clock, grid(1, 4, 1, 2, 100))
	if err := b.SetWeight(3, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5 && b.devs[3].parts > 0; i++ {
		clock.advance(2)
		if _, err := b.Rebalance(); err != nil {
			t.Fatal(err)
		}
	}
	checkValid(t, b)
	if b.devs[3].parts != 0 {
		t.Fatalf("weightless device still holds %d partitions", b.devs[3].parts)
	}
}

func TestDeterministic(t *testing.T) {
	build := func() ([]byte, *Builder) {
		clock := newClock()
		b := buildRing(t, 10, 3, 1, clock, grid(2, 3, 2, 2, 100))
		b.AddDevice(devFor(layoutDev{1, 1, 3, 150}, "sdx"))
		b.SetWeight(4, 50)
		clock.advance(2)
		if _, err := b.Rebalance(); err != nil {
			t.Fatal(err)
		}
		r, err := b.Ring(HashPath{Prefix: "p", Suffix: "s"})
		if err != nil {
			t.Fatal(err)
		}
		data, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return data, b
	}
	a, ba := build()
	c, bc := build()
	if string(a) != string(c) {
		t.Fatal("same inputs gave different ring files")
	}
	if !slices.EqualFunc(ba.r2p2d, bc.r2p2d, slices.Equal) {
		t.Fatal("same inputs gave different assignments")
	}
}

// A partition with two replicas on one device (a damaged or very old
// builder) is fixed at once, min_part_hours or not, as Swift does.
func TestDoubledReplicaIgnoresMinPartHours(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 4, 3, 24, clock, grid(1, 4, 1, 1, 100))
	path := filepath.Join(t.TempDir(), "object.builder")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		t.Fatal(err)
	}
	// Put replica 1 of partition 0 on replica 0's device, keeping the
	// per-device counts the loader checks consistent.
	table := f["replica2part2dev"].([]any)
	r0, r1 := table[0].([]any), table[1].([]any)
	from, to := int(r1[0].(float64)), int(r0[0].(float64))
	r1[0] = float64(to)
	parts := f["dev_parts"].([]any)
	parts[from] = parts[from].(float64) - 1
	parts[to] = parts[to].(float64) + 1
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(f); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err = LoadBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	b.SetClock(clock.Now)
	clock.advance(1)
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	devs, err := b.PartDevices(0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, d := range devs {
		if seen[d] {
			t.Fatalf("partition 0 still has two replicas on device %d: %v", d, devs)
		}
		seen[d] = true
	}
	checkValid(t, b)
}
