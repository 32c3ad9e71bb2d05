package ring

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
)

// HashPath is the secret salt Swift mixes into every path hash
// (swift_hash_path_prefix/suffix in swift.conf). It must be the same on
// every node and never change, or objects become unreachable.
type HashPath struct {
	Prefix, Suffix string
}

var errNoSalt = errors.New("hash path prefix or suffix must be set")

// Ring is the read-only placement table a proxy or storage node uses.
type Ring struct {
	partPower int
	shift     uint
	version   int
	devs      []*Device // by ID; nil marks a hole
	r2p2d     [][]uint16
	hash      HashPath

	// Counts of distinct failure domains among assigned devices, so a
	// handoff walk knows when each pass has nothing new to find.
	numRegions, numZones, numNodes, numDevs int
}

// Ring snapshots the builder's assignment with the given hash salt.
func (b *Builder) Ring(hp HashPath) (*Ring, error) {
	if b.r2p2d == nil {
		return nil, ErrNotRebalanced
	}
	devs := make([]*Device, len(b.devs))
	for i, d := range b.devs {
		if d != nil {
			dd := d.Device
			devs[i] = &dd
		}
	}
	return newRing(b.partPower, b.version, devs, b.clone().r2p2d, hp)
}

func newRing(partPower, version int, devs []*Device, r2p2d [][]uint16, hp HashPath) (*Ring, error) {
	if hp.Prefix == "" && hp.Suffix == "" {
		// Swift refuses to run without a salt: an unsalted ring lets anyone
		// aim objects at one partition.
		return nil, errNoSalt
	}
	r := &Ring{partPower: partPower, shift: uint(32 - partPower), version: version, devs: devs, r2p2d: r2p2d, hash: hp}
	type zone struct{ region, zone int }
	type node struct {
		zone
		ip string
	}
	regions, zones, nodes, used := map[int]bool{}, map[zone]bool{}, map[node]bool{}, map[uint16]bool{}
	for _, p2d := range r2p2d {
		if len(p2d) != 1<<partPower {
			return nil, fmt.Errorf("replica table has %d partitions, want %d", len(p2d), 1<<partPower)
		}
		for _, id := range p2d {
			if used[id] {
				continue
			}
			if int(id) >= len(devs) || devs[id] == nil {
				return nil, fmt.Errorf("partition assigned to unknown device %d", id)
			}
			used[id] = true
			d := devs[id]
			regions[d.Region] = true
			zones[zone{d.Region, d.Zone}] = true
			nodes[node{zone{d.Region, d.Zone}, d.IP}] = true
		}
	}
	r.numRegions, r.numZones, r.numNodes, r.numDevs = len(regions), len(zones), len(nodes), len(used)
	return r, nil
}

// PartPower, Partitions, Replicas and Version describe the ring.
func (r *Ring) PartPower() int  { return r.partPower }
func (r *Ring) Partitions() int { return 1 << r.partPower }
func (r *Ring) Replicas() int   { return len(r.r2p2d) }
func (r *Ring) Version() int    { return r.version }

// Devices lists the ring's devices by ID.
func (r *Ring) Devices() []Device {
	var out []Device
	for _, d := range r.devs {
		if d != nil {
			out = append(out, *d)
		}
	}
	return out
}

// PartitionFor hashes /account[/container[/object]] as Swift's hash_path
// does (md5 of prefix + path + suffix) and keeps the top partPower bits.
// Empty container or object are left out of the path, as in Swift.
func (r *Ring) PartitionFor(account, container, object string) int {
	// A stack buffer keeps typical lookups free of allocations.
	var stack [256]byte
	buf := append(stack[:0], r.hash.Prefix...)
	buf = append(buf, '/')
	buf = append(buf, account...)
	if container != "" {
		buf = append(buf, '/')
		buf = append(buf, container...)
		if object != "" {
			buf = append(buf, '/')
			buf = append(buf, object...)
		}
	}
	buf = append(buf, r.hash.Suffix...)
	sum := md5.Sum(buf)
	return r.partOf(sum[:])
}

func (r *Ring) partOf(digest []byte) int {
	if r.partPower == 0 {
		return 0
	}
	return int(binary.BigEndian.Uint32(digest) >> r.shift)
}

// Nodes returns the primary devices of a partition in replica order.
func (r *Ring) Nodes(part int) []Device {
	if part < 0 || part >= r.Partitions() {
		return nil
	}
	out := make([]Device, 0, len(r.r2p2d))
	for i, p2d := range r.r2p2d {
		id := p2d[part]
		dup := false
		for _, prev := range r.r2p2d[:i] {
			dup = dup || prev[part] == id
		}
		if !dup {
			out = append(out, *r.devs[id])
		}
	}
	return out
}

// Handoffs yields the devices to try, in order, when primaries of part are
// down or full. Like Swift's get_more_nodes it walks the ring's own table
// from a start derived from the partition number, first taking devices in
// regions no replica uses, then new zones, then new nodes, then any
// unused device; so the order is deterministic, follows the weights, and
// never repeats a primary or itself.
func (r *Ring) Handoffs(part int) iter.Seq[Device] {
	return func(yield func(Device) bool) {
		if part < 0 || part >= r.Partitions() {
			return
		}
		type zone struct{ region, zone int }
		type node struct {
			zone
			ip string
		}
		used := map[uint16]bool{}
		regions, zones, nodes := map[int]bool{}, map[zone]bool{}, map[node]bool{}
		mark := func(id uint16) {
			d := r.devs[id]
			used[id] = true
			regions[d.Region] = true
			zones[zone{d.Region, d.Zone}] = true
			nodes[node{zone{d.Region, d.Zone}, d.IP}] = true
		}
		for _, p2d := range r.r2p2d {
			mark(p2d[part])
		}
		parts := r.Partitions()
		digest := md5.Sum(fmt.Appendf(nil, "%d", part))
		start := r.partOf(digest[:])
		inc := max(parts/65536, 1)
		// Each pass widens what counts as new; a pass ends once that domain
		// is exhausted.
		passes := []struct {
			fresh func(*Device) bool
			done  func() bool
		}{
			{func(d *Device) bool { return !regions[d.Region] }, func() bool { return len(regions) >= r.numRegions }},
			{func(d *Device) bool { return !zones[zone{d.Region, d.Zone}] }, func() bool { return len(zones) >= r.numZones }},
			{func(d *Device) bool { return !nodes[node{zone{d.Region, d.Zone}, d.IP}] }, func() bool { return len(nodes) >= r.numNodes }},
			{func(*Device) bool { return true }, func() bool { return len(used) >= r.numDevs }},
		}
		for _, p := range passes {
			for hp := range handoffParts(start, parts, inc) {
				if p.done() {
					break
				}
				for _, p2d := range r.r2p2d {
					id := p2d[hp]
					if used[id] || !p.fresh(r.devs[id]) {
						continue
					}
					mark(id)
					if !yield(*r.devs[id]) {
						return
					}
					if p.done() {
						break
					}
				}
			}
		}
	}
}

// handoffParts visits partitions from start to the end, then wraps to the
// ones before start, striding on very large rings as Swift does.
func handoffParts(start, parts, inc int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for p := start; p < parts; p += inc {
			if !yield(p) {
				return
			}
		}
		for p := inc - (parts-start)%inc; p < start; p += inc {
			if !yield(p) {
				return
			}
		}
	}
}
