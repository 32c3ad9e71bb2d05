package ring

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var testSalt = HashPath{Prefix: "pre", Suffix: "suf"}

func ringOf(t testing.TB, b *Builder, hp HashPath) *Ring {
	t.Helper()
	r, err := b.Ring(hp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Vectors computed independently with Python's hashlib the way Swift's
// hash_path does: md5(prefix + "/a/c/o" + suffix), top bits.
func TestPartitionForMatchesSwiftHashPath(t *testing.T) {
	b16 := buildRing(t, 16, 1, 1, nil, []layoutDev{{1, 1, 1, 1}})
	r := ringOf(t, b16, testSalt)
	for _, c := range []struct {
		a, c, o string
		want    int
	}{
		{"AUTH_test", "photos", "cat.jpg", 31420},
		{"AUTH_test", "photos", "", 44688},
		{"AUTH_test", "", "", 29118},
		{"AUTH_tést", "c", "o/with/slashes", 64708},
	} {
		if got := r.PartitionFor(c.a, c.c, c.o); got != c.want {
			t.Errorf("PartitionFor(%q, %q, %q) = %d, want %d", c.a, c.c, c.o, got, c.want)
		}
	}
	b10 := buildRing(t, 10, 1, 1, nil, []layoutDev{{1, 1, 1, 1}})
	if got := ringOf(t, b10, HashPath{Suffix: "changeme"}).PartitionFor("a", "c", "o"); got != 189 {
		t.Errorf("part power 10: got %d, want 189", got)
	}
	if _, err := b10.Ring(HashPath{}); err == nil {
		t.Error("ring without hash salt accepted")
	}
}

func TestNodesAreThePrimaries(t *testing.T) {
	b := buildRing(t, 8, 3, 1, nil, grid(1, 3, 2, 1, 100))
	r := ringOf(t, b, testSalt)
	for part := range r.Partitions() {
		ids, _ := b.PartDevices(part)
		var got []int
		for _, d := range r.Nodes(part) {
			got = append(got, d.ID)
		}
		if !slices.Equal(ids, got) {
			t.Fatalf("partition %d: Nodes %v, builder %v", part, got, ids)
		}
	}
	if r.Nodes(-1) != nil || r.Nodes(r.Partitions()) != nil {
		t.Error("Nodes accepted an out-of-range partition")
	}
}

func TestHandoffs(t *testing.T) {
	b := buildRing(t, 10, 3, 1, nil, grid(2, 3, 2, 2, 100))
	r := ringOf(t, b, testSalt)
	all := len(r.Devices())
	for part := range r.Partitions() {
		seen := map[int]bool{}
		zones := map[[2]int]bool{}
		for _, d := range r.Nodes(part) {
			seen[d.ID] = true
			zones[[2]int{d.Region, d.Zone}] = true
		}
		var order []int
		i := 0
		for d := range r.Handoffs(part) {
			if seen[d.ID] {
				t.Fatalf("partition %d: handoff %d repeats device %d", part, i, d.ID)
			}
			seen[d.ID] = true
			order = append(order, d.ID)
			// 6 zones, 3 used by primaries: the next 3 go to the others.
			if i < 3 {
				z := [2]int{d.Region, d.Zone}
				if zones[z] {
					t.Fatalf("partition %d: handoff %d in zone %v already used while others are free", part, i, z)
				}
				zones[z] = true
			}
			i++
		}
		if len(seen) != all {
			t.Fatalf("partition %d: primaries and handoffs cover %d of %d devices", part, len(seen), all)
		}
		var again []int
		for d := range r.Handoffs(part) {
			again = append(again, d.ID)
		}
		if !slices.Equal(order, again) {
			t.Fatalf("partition %d: handoff order changed between calls", part)
		}
	}
	// Stopping early works.
	n := 0
	for range r.Handoffs(0) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("early stop yielded %d", n)
	}
}

func TestRingFileRoundTrip(t *testing.T) {
	b := buildRing(t, 10, 3, 1, nil, grid(2, 3, 2, 2, 100))
	r := ringOf(t, b, testSalt)
	path := filepath.Join(t.TempDir(), "object.ring")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRing(path, testSalt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Devices(), r.Devices()) || got.Version() != r.Version() || got.Replicas() != 3 || got.PartPower() != 10 {
		t.Fatal("loaded ring differs in devices or header")
	}
	for part := range r.Partitions() {
		if !slices.Equal(got.Nodes(part), r.Nodes(part)) {
			t.Fatalf("partition %d differs after load", part)
		}
	}
	var h1, h2 []Device
	for d := range r.Handoffs(77) {
		h1 = append(h1, d)
	}
	for d := range got.Handoffs(77) {
		h2 = append(h2, d)
	}
	if !slices.Equal(h1, h2) {
		t.Fatal("handoffs differ after load")
	}
	if got.PartitionFor("a", "c", "o") != r.PartitionFor("a", "c", "o") {
		t.Fatal("partition differs after load")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("atomic write left %d files", len(entries))
	}
}

func TestRingFileCorruption(t *testing.T) {
	b := buildRing(t, 6, 3, 1, nil, grid(1, 3, 1, 1, 100))
	data, err := ringOf(t, b, testSalt).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// A flipped bit anywhere — magic, header, table or checksum — and a
	// truncated file must all be refused.
	for _, off := range []int{0, 9, 20, len(data) / 2, len(data) - 40, len(data) - 1} {
		bad := slices.Clone(data)
		bad[off] ^= 0x01
		if _, err := ParseRing(bad, testSalt); !errors.Is(err, ErrCorrupt) {
			t.Errorf("bit flip at %d of %d: got %v, want ErrCorrupt", off, len(data), err)
		}
	}
	for _, n := range []int{0, 10, len(data) - 1} {
		if _, err := ParseRing(data[:n], testSalt); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d: got %v, want ErrCorrupt", n, err)
		}
	}
	path := filepath.Join(t.TempDir(), "object.ring")
	bad := slices.Clone(data)
	bad[len(data)/2] ^= 0x80
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRing(path, testSalt); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadRing of damaged file: %v", err)
	}
	if _, err := ParseRing(data, testSalt); err != nil {
		t.Fatalf("intact copy refused: %v", err)
	}
}

// A saved builder carries the assignment and min_part_hours state, so a
// later rebalance behaves as if the process never stopped.
func TestBuilderFileRoundTrip(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 8, 3, 24, clock, grid(1, 4, 1, 2, 100))
	b.AddDevice(devFor(layoutDev{1, 5, 1, 100}, "sdz"))
	path := filepath.Join(t.TempDir(), "object.builder")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	got.SetClock(clock.Now)
	if got.Describe("x") != b.Describe("x") {
		t.Fatalf("describe differs:\n%s\n%s", got.Describe("x"), b.Describe("x"))
	}
	clock.advance(1)
	res, err := got.Rebalance()
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 0 {
		t.Fatalf("loaded builder ignored min_part_hours: moved %d", res.Changed)
	}
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	clock.advance(24)
	r1, err1 := got.Rebalance()
	r2, err2 := b.Rebalance()
	if err1 != nil || err2 != nil || r1 != r2 || !slices.EqualFunc(got.r2p2d, b.r2p2d, slices.Equal) {
		t.Fatalf("loaded builder rebalanced differently: %+v vs %+v", r1, r2)
	}
	raw, _ := os.ReadFile(path)
	raw[len(raw)/2] ^= 0xff
	os.WriteFile(path, raw, 0o644)
	if _, err := LoadBuilder(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged builder file: %v", err)
	}
}
