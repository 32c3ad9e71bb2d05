package ring

import (
	"cmp"
	"slices"
)

// Tier depths: the root (the whole cluster), then region, zone, node (IP)
// and device — Swift's failure domains from widest to narrowest.
const (
	depthRoot = iota
	depthRegion
	depthZone
	depthNode
	depthDevice
)

// tierNode is one failure domain. Indexes into tierTree.nodes replace
// Swift's tuple keys so per-partition counters can be plain slices.
type tierNode struct {
	depth    int
	children []int // sorted by (region, zone, ip, id), like Swift's tuples
	active   []int // children holding at least one weighted device
	dev      int   // device ID, at depthDevice only
	devices  int   // weighted devices below
	weight   float64
}

// tierTree holds every device's tiers, including zero-weight devices that
// still hold partitions while they drain.
type tierTree struct {
	nodes    []tierNode
	devTiers [][4]int // by device ID: region, zone, node, device node
}

func buildTierTree(devs []*devState) *tierTree {
	sorted := make([]*devState, 0, len(devs))
	for _, d := range devs {
		if d != nil {
			sorted = append(sorted, d)
		}
	}
	slices.SortFunc(sorted, func(a, b *devState) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Zone, b.Zone),
			cmp.Compare(a.IP, b.IP), cmp.Compare(a.ID, b.ID))
	})
	t := &tierTree{nodes: []tierNode{{depth: depthRoot}}, devTiers: make([][4]int, len(devs))}
	type key struct {
		region, zone int
		ip           string
	}
	regions, zones, nodes := map[int]int{}, map[key]int{}, map[key]int{}
	child := func(parent int, m map[key]int, k key, depth int) int {
		if id, ok := m[k]; ok {
			return id
		}
		id := len(t.nodes)
		t.nodes = append(t.nodes, tierNode{depth: depth})
		t.nodes[parent].children = append(t.nodes[parent].children, id)
		m[k] = id
		return id
	}
	for _, d := range sorted {
		r, ok := regions[d.Region]
		if !ok {
			r = len(t.nodes)
			t.nodes = append(t.nodes, tierNode{depth: depthRegion})
			t.nodes[0].children = append(t.nodes[0].children, r)
			regions[d.Region] = r
		}
		z := child(r, zones, key{d.Region, d.Zone, ""}, depthZone)
		n := child(z, nodes, key{d.Region, d.Zone, d.IP}, depthNode)
		dv := len(t.nodes)
		t.nodes = append(t.nodes, tierNode{depth: depthDevice, dev: d.ID})
		t.nodes[n].children = append(t.nodes[n].children, dv)
		t.devTiers[d.ID] = [4]int{r, z, n, dv}
		if d.Weight > 0 {
			for _, id := range []int{0, r, z, n, dv} {
				t.nodes[id].devices++
				t.nodes[id].weight += d.Weight
			}
		}
	}
	for i := range t.nodes {
		for _, c := range t.nodes[i].children {
			if t.nodes[c].devices > 0 {
				t.nodes[i].active = append(t.nodes[i].active, c)
			}
		}
	}
	return t
}
