package placement

import (
	"context"
	"errors"
	"testing"
)

func TestAllocationCandidates(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	big, small, stepped := consumerID(901), consumerID(902), consumerID(903)
	ts.setInv(big, map[string]Inventory{VCPU: {Total: 16}, MemoryMB: {Total: 16384}, DiskGB: {Total: 100}})
	ts.setInv(small, map[string]Inventory{VCPU: {Total: 2}, MemoryMB: {Total: 2048}})
	ts.setInv(stepped, map[string]Inventory{VCPU: {Total: 16, StepSize: 4}, MemoryMB: {Total: 16384}})
	if err := ts.Claim(ctx, consumerID(1), "p", "u", small, res(1, 1024)); err != nil {
		t.Fatal(err)
	}
	uuids := func(cs []Candidate) map[string]Candidate {
		out := map[string]Candidate{}
		for _, c := range cs {
			if c.ProviderUUID != "" {
				out[c.ProviderUUID] = c
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		req  map[string]int64
		want []string
	}{
		{"one vcpu", res(1, 1024), []string{big, small}}, // not stepped: 1 is no multiple of 4
		{"two vcpus: small has one left", res(2, 512), []string{big}},
		{"four vcpus", res(4, 512), []string{big, stepped}},
		{"disk only on big", map[string]int64{VCPU: 4, DiskGB: 10}, []string{big}},
		{"zero amounts are ignored", map[string]int64{VCPU: 4, DiskGB: 0}, []string{big, stepped}},
		{"too much everywhere", res(17, 1), nil},
	} {
		cs, err := ts.AllocationCandidates(ctx, c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := uuids(cs)
		if len(got) != len(c.want) {
			t.Errorf("%s: got %d candidates, want %v", c.name, len(got), c.want)
		}
		for _, w := range c.want {
			if _, ok := got[w]; !ok {
				t.Errorf("%s: %s missing", c.name, w)
			}
		}
	}
	// Summaries cover every class with the usage; CandidatesAmong answers
	// by position.
	cs, err := ts.CandidatesAmong(ctx, res(1, 512), []string{stepped, small, consumerID(999), big})
	if err != nil || len(cs) != 4 {
		t.Fatalf("%v %v", cs, err)
	}
	if cs[0].ProviderUUID != "" || cs[1].ProviderUUID != small || cs[2].ProviderUUID != "" || cs[3].ProviderUUID != big {
		t.Fatalf("by position: %+v", cs)
	}
	r, ok := cs[1].Resource(VCPU)
	if !ok || r.Capacity != 2 || r.Used != 1 || r.Free() != 1 || len(cs[1].Resources) != 2 {
		t.Fatalf("small's VCPU summary: %+v %v (all: %+v)", r, ok, cs[1].Resources)
	}
	if d, ok := cs[3].Resource(DiskGB); !ok || d.Capacity != 100 || d.Used != 0 {
		t.Fatalf("big's disk summary: %+v", d)
	}
	if _, err := ts.AllocationCandidates(ctx, map[string]int64{"nope": 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad class: %v", err)
	}
}
