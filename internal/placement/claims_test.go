package placement

import (
	"context"
	"errors"
	"testing"
)

func TestCapacityArithmetic(t *testing.T) {
	cases := []struct {
		name string
		inv  Inventory
		want int64 // capacity: what fits exactly
	}{
		{"plain", Inventory{Total: 8}, 8},
		{"reserved", Inventory{Total: 8, Reserved: 2}, 6},
		{"overcommit", Inventory{Total: 8, Reserved: 2, AllocationRatio: 16}, 96},
		{"fractional ratio rounds down", Inventory{Total: 10, Reserved: 1, AllocationRatio: 1.5}, 13},
		{"undercommit", Inventory{Total: 10, AllocationRatio: 0.5}, 5},
		{"all reserved", Inventory{Total: 4, Reserved: 4}, 0},
	}
	ctx := context.Background()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestStore(t)
			p := consumerID(1000 + i)
			ts.setInv(p, map[string]Inventory{VCPU: c.inv})
			got, err := ts.Provider(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if capa := got.Inventories[VCPU].Capacity(); capa != c.want {
				t.Fatalf("capacity %d, want %d", capa, c.want)
			}
			if c.want > 0 {
				if err := ts.Claim(ctx, consumerID(1), "p", "u", p, map[string]int64{VCPU: c.want}); err != nil {
					t.Fatalf("claim of the whole capacity %d: %v", c.want, err)
				}
			}
			err = ts.Claim(ctx, consumerID(2), "p", "u", p, map[string]int64{VCPU: 1})
			if k, ok := capacityKind(err); !ok || k != Exceeded {
				t.Fatalf("one more unit: want Exceeded, got %v", err)
			}
			if u := ts.usage(p, VCPU); u != c.want {
				t.Fatalf("usage %d, want %d", u, c.want)
			}
		})
	}
}

func TestUnitConstraints(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 64, MinUnit: 2, MaxUnit: 8, StepSize: 2}, MemoryMB: {Total: 1024}})
	for _, n := range []int64{1, 3, 10, 7} {
		err := ts.Claim(ctx, consumerID(int(n)), "p", "u", p, map[string]int64{VCPU: n})
		if k, ok := capacityKind(err); !ok || k != ConstraintsViolated {
			t.Errorf("VCPU=%d: want ConstraintsViolated, got %v", n, err)
		}
	}
	err := ts.Claim(ctx, consumerID(20), "p", "u", p, map[string]int64{DiskGB: 1})
	if k, ok := capacityKind(err); !ok || k != NoInventory {
		t.Errorf("DISK_GB without inventory: want NoInventory, got %v", err)
	}
	for _, n := range []int64{2, 4, 8} {
		if err := ts.Claim(ctx, consumerID(100+int(n)), "p", "u", p, map[string]int64{VCPU: n, MemoryMB: 1}); err != nil {
			t.Errorf("VCPU=%d: %v", n, err)
		}
	}
	if u := ts.usage(p, VCPU); u != 14 {
		t.Fatalf("usage %d, want 14 (only the valid claims)", u)
	}
	for _, bad := range []map[string]int64{{VCPU: 0}, {"BOGUS": 1}, {}} {
		if err := ts.Claim(ctx, consumerID(30), "p", "u", p, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("claim %v: want ErrInvalid, got %v", bad, err)
		}
	}
	if err := ts.Claim(ctx, consumerID(31), "p", "u", consumerID(999), res(2, 1)); !errors.Is(err, ErrProviderNotFound) {
		t.Errorf("unknown provider: want ErrProviderNotFound, got %v", err)
	}
	if err := ts.Claim(ctx, consumerID(102), "p", "u", p, res(2, 1)); !errors.Is(err, ErrConsumerExists) {
		t.Errorf("second claim for one consumer: want ErrConsumerExists, got %v", err)
	}
}

func TestReleaseFreesAndSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}})
	if err := ts.Claim(ctx, consumerID(1), "p", "u", p, res(4, 1024)); err != nil {
		t.Fatal(err)
	}
	if _, ok := capacityKind(ts.Claim(ctx, consumerID(2), "p", "u", p, res(1, 1))); !ok {
		t.Fatal("host full: a claim should fail")
	}
	if err := ts.Release(ctx, consumerID(1)); err != nil {
		t.Fatal(err)
	}
	if err := ts.Release(ctx, consumerID(1)); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("second release: want ErrConsumerNotFound, got %v", err)
	}
	if u := ts.usage(p, VCPU); u != 0 {
		t.Fatalf("usage after release %d", u)
	}
	ts.reopen()
	if u, d := ts.usage(p, VCPU), ts.dbUsage(p, VCPU); u != 0 || d != 0 {
		t.Fatalf("after reopen: usage %d, database %d", u, d)
	}
	if err := ts.Claim(ctx, consumerID(2), "p", "u", p, res(4, 4096)); err != nil {
		t.Fatalf("released capacity should be free again: %v", err)
	}
}

func TestReplaceIsAtomic(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	a, b := consumerID(901), consumerID(902)
	ts.setInv(a, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}})
	ts.setInv(b, map[string]Inventory{VCPU: {Total: 8}, MemoryMB: {Total: 8192}})
	inst := consumerID(1)
	if err := ts.Claim(ctx, inst, "proj", "user", a, res(2, 2048)); err != nil {
		t.Fatal(err)
	}
	if err := ts.Claim(ctx, consumerID(2), "proj", "user", a, res(1, 1024)); err != nil {
		t.Fatal(err)
	}
	// Resize in place to 3 VCPU fits only if the instance's own 2 count as
	// free: 1 (other) + 3 = 4.
	if err := ts.Replace(ctx, inst, a, res(3, 3072)); err != nil {
		t.Fatalf("resize up in place: %v", err)
	}
	// 4 VCPU does not fit: the old allocation must stay untouched.
	err := ts.Replace(ctx, inst, a, res(4, 1024))
	if k, ok := capacityKind(err); !ok || k != Exceeded {
		t.Fatalf("replace beyond capacity: want Exceeded, got %v", err)
	}
	got, err := ts.Allocations(ctx, inst)
	if err != nil || len(got.Allocations) != 1 || got.Allocations[0].Resources[VCPU] != 3 || got.ProjectID != "proj" {
		t.Fatalf("allocation after failed replace: %+v %v", got, err)
	}
	// Moving to the other host frees the first in the same step.
	if err := ts.Replace(ctx, inst, b, res(6, 6144)); err != nil {
		t.Fatal(err)
	}
	ts.reopen()
	for _, c := range []struct {
		p    string
		want int64
	}{{a, 1}, {b, 6}} {
		if u, d := ts.usage(c.p, VCPU), ts.dbUsage(c.p, VCPU); u != c.want || d != c.want {
			t.Errorf("provider %s: usage %d, database %d, want %d", c.p, u, d, c.want)
		}
	}
	if err := ts.Replace(ctx, consumerID(77), a, res(1, 1)); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("replace of an unknown consumer: %v", err)
	}
}

func TestClaimAllIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}})
	claims := func(n int) []Claim {
		var out []Claim
		for i := 0; i < n; i++ {
			out = append(out, Claim{ConsumerUUID: consumerID(i), ProjectID: "p", UserID: "u",
				Allocations: map[string]map[string]int64{p: res(1, 512)}})
		}
		return out
	}
	// Five claims of 1 VCPU: each fits alone, not together.
	if _, ok := capacityKind(ts.ClaimAll(ctx, claims(5))); !ok {
		t.Fatal("five claims on four VCPUs should fail together")
	}
	if u := ts.usage(p, VCPU); u != 0 {
		t.Fatalf("a failed ClaimAll left usage %d", u)
	}
	if err := ts.ClaimAll(ctx, claims(4)); err != nil {
		t.Fatal(err)
	}
	ts.reopen()
	if u, d := ts.usage(p, VCPU), ts.dbUsage(p, VCPU); u != 4 || d != 4 {
		t.Fatalf("usage %d, database %d, want 4", u, d)
	}
}

func TestProjectUsages(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	a, b := consumerID(901), consumerID(902)
	ts.setInv(a, map[string]Inventory{VCPU: {Total: 8}, MemoryMB: {Total: 8192}})
	ts.setInv(b, map[string]Inventory{VCPU: {Total: 8}, MemoryMB: {Total: 8192}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ts.Claim(ctx, consumerID(1), "p1", "alice", a, res(1, 100)))
	must(ts.Claim(ctx, consumerID(2), "p1", "bob", b, res(2, 200)))
	must(ts.Claim(ctx, consumerID(3), "p2", "alice", a, res(4, 400)))
	ts.reopen()
	for _, c := range []struct {
		project, user string
		vcpu, mem     int64
	}{{"p1", "", 3, 300}, {"p1", "alice", 1, 100}, {"p2", "", 4, 400}, {"p3", "", 0, 0}} {
		u, err := ts.ProjectUsages(ctx, c.project, c.user)
		if err != nil || u[VCPU] != c.vcpu || u[MemoryMB] != c.mem {
			t.Errorf("%s/%s: %v %v", c.project, c.user, u, err)
		}
	}
}

// TestSetAllocationsResizeFlow follows Nova's resize: the instance's
// allocation moves to its migration in one step, the instance claims the
// new host, and a revert moves it back in one step; a move that does not
// fit changes nothing.
func TestSetAllocationsResizeFlow(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	src, dst := consumerID(901), consumerID(902)
	ts.setInv(src, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}})
	ts.setInv(dst, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}})
	inst, mig := consumerID(1), consumerID(2)
	if err := ts.Claim(ctx, inst, "proj", "user", src, res(2, 2048)); err != nil {
		t.Fatal(err)
	}
	err := ts.SetAllocations(ctx, []Claim{
		{ConsumerUUID: mig, ProjectID: "proj", UserID: "user", Allocations: map[string]map[string]int64{src: res(2, 2048)}},
		{ConsumerUUID: inst},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Claim(ctx, inst, "proj", "user", dst, res(3, 3072)); err != nil {
		t.Fatal(err)
	}
	if ts.usage(src, VCPU) != 2 || ts.usage(dst, VCPU) != 3 {
		t.Fatalf("during resize: src %d, dst %d", ts.usage(src, VCPU), ts.usage(dst, VCPU))
	}
	// A move that does not fit (5 VCPUs on src) leaves everything as is.
	err = ts.SetAllocations(ctx, []Claim{
		{ConsumerUUID: inst, Allocations: map[string]map[string]int64{src: res(5, 1)}},
		{ConsumerUUID: mig},
	})
	if _, ok := capacityKind(err); !ok {
		t.Fatalf("oversized revert: want a capacity error, got %v", err)
	}
	// Revert: the instance gets its old allocation back from the migration.
	err = ts.SetAllocations(ctx, []Claim{
		{ConsumerUUID: inst, Allocations: map[string]map[string]int64{src: res(2, 2048)}},
		{ConsumerUUID: mig},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.reopen()
	if ts.usage(src, VCPU) != 2 || ts.usage(dst, VCPU) != 0 || ts.dbUsage(src, VCPU) != 2 || ts.dbUsage(dst, VCPU) != 0 {
		t.Fatalf("after revert: src %d, dst %d", ts.usage(src, VCPU), ts.usage(dst, VCPU))
	}
	// Placement drops a consumer with no allocations, so the instance's
	// generation counts from its claim on dst: claim 1, revert 2.
	c, err := ts.Allocations(ctx, inst)
	if err != nil || c.ProjectID != "proj" || c.UserID != "user" || c.Generation != 2 {
		t.Fatalf("instance after revert: %+v %v", c, err)
	}
	if _, err := ts.Allocations(ctx, mig); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("migration after revert: %v", err)
	}
	if err := ts.SetAllocations(ctx, []Claim{{ConsumerUUID: consumerID(3), Allocations: map[string]map[string]int64{src: res(1, 1)}}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("new consumer without project: %v", err)
	}
}
