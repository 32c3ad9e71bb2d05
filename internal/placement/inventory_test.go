package placement

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestInventoryInUse follows Placement: removing a class that has
// allocations is refused (InventoryInUse), but lowering a class's capacity
// below its usage is accepted (Placement only logs that the provider now
// exceeds its capacity), so a host whose allocation ratio or reserved
// amount changed can still report its inventory. Usage may then only
// shrink until it fits again.
func TestInventoryInUse(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 8}, MemoryMB: {Total: 4096}, DiskGB: {Total: 100}})
	if err := ts.Claim(ctx, consumerID(1), "p", "u", p, res(6, 2048)); err != nil {
		t.Fatal(err)
	}
	var inUse *InventoryInUseError
	err := ts.SetInventory(ctx, p, "host-"+p, map[string]Inventory{VCPU: {Total: 8}})
	if !errors.As(err, &inUse) || len(inUse.ResourceClasses) != 1 || inUse.ResourceClasses[0] != MemoryMB {
		t.Fatalf("removing MEMORY_MB in use: want InventoryInUseError for MEMORY_MB, got %v", err)
	}
	// VCPU down to 4 under a usage of 6, and the unused DISK_GB dropped.
	if err := ts.SetInventory(ctx, p, "host-"+p, map[string]Inventory{VCPU: {Total: 4}, MemoryMB: {Total: 4096}}); err != nil {
		t.Fatalf("lowering VCPU below its usage: %v", err)
	}
	if k, ok := capacityKind(ts.Claim(ctx, consumerID(2), "p", "u", p, res(1, 1))); !ok || k != Exceeded {
		t.Fatal("the provider is over its capacity: a claim should fail")
	}
	// Shrinking the instance fits although 5 is still above 4; growing does not.
	if err := ts.Replace(ctx, consumerID(1), p, res(5, 2048)); err != nil {
		t.Fatalf("shrinking on an over-committed provider: %v", err)
	}
	if k, ok := capacityKind(ts.Replace(ctx, consumerID(1), p, res(6, 2048))); !ok || k != Exceeded {
		t.Fatal("growing on an over-committed provider should fail")
	}
	ts.reopen()
	got, err := ts.Provider(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Inventories[DiskGB]; ok || got.Inventories[VCPU].Capacity() != 4 || got.Usages[VCPU] != 5 {
		t.Fatalf("after reopen: %+v", got)
	}
	if u := ts.dbUsage(p, VCPU); u != 5 {
		t.Fatalf("database VCPU usage %d, want 5", u)
	}
}

func TestSetInventoryValidationAndProviders(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	bad := []map[string]Inventory{
		{VCPU: {Total: 0}},
		{VCPU: {Total: 4, Reserved: 5}},
		{VCPU: {Total: 4, Reserved: -1}},
		{VCPU: {Total: 4, MinUnit: 4, MaxUnit: 2}},
		{VCPU: {Total: 4, AllocationRatio: -1}},
		{"vcpu": {Total: 4}},
		{"CUSTOM_lower": {Total: 4}},
	}
	for _, inv := range bad {
		if err := ts.SetInventory(ctx, consumerID(1), "h1", inv); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: want ErrInvalid, got %v", inv, err)
		}
	}
	ts.setInv(consumerID(1), map[string]Inventory{"CUSTOM_GPU_A100": {Total: 2}})
	if err := ts.SetInventory(ctx, consumerID(2), "host-"+consumerID(1), nil); !errors.Is(err, ErrNameConflict) {
		t.Fatalf("duplicate name: want ErrNameConflict, got %v", err)
	}
	// Defaults are Placement's.
	got, err := ts.Provider(ctx, consumerID(1))
	if err != nil {
		t.Fatal(err)
	}
	i := got.Inventories["CUSTOM_GPU_A100"]
	if i.MinUnit != 1 || i.MaxUnit != MaxUnitDefault || i.StepSize != 1 || i.AllocationRatio != 1 || got.Generation != 1 {
		t.Fatalf("defaults: %+v generation %d", i, got.Generation)
	}
	if err := ts.Claim(ctx, consumerID(10), "p", "u", consumerID(1), map[string]int64{"CUSTOM_GPU_A100": 1}); err != nil {
		t.Fatal(err)
	}
	if err := ts.DeleteProvider(ctx, consumerID(1)); !errors.Is(err, ErrProviderInUse) {
		t.Fatalf("delete with allocations: want ErrProviderInUse, got %v", err)
	}
	if err := ts.Release(ctx, consumerID(10)); err != nil {
		t.Fatal(err)
	}
	if err := ts.DeleteProvider(ctx, consumerID(1)); err != nil {
		t.Fatal(err)
	}
	ts.reopen()
	ps, err := ts.Providers(ctx)
	if err != nil || len(ps) != 0 {
		t.Fatalf("providers after delete and reopen: %v %v", ps, err)
	}
}

// TestInventoryBoundsStopOverflow: max_unit and step_size are bounded by
// MAX_INT, as in Placement's schema. Without the bound, a max_unit near
// 2^63 let two claims of 2^62 on an 8-VCPU host wrap their int64 sum
// negative and pass the capacity check (usage became MinInt64).
func TestInventoryBoundsStopOverflow(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	for _, inv := range []Inventory{
		{Total: 8, MaxUnit: math.MaxInt64},
		{Total: 8, MaxUnit: MaxUnitDefault + 1},
		{Total: 8, StepSize: MaxUnitDefault + 1},
		{Total: 8, AllocationRatio: math.Inf(1)},
		{Total: 8, AllocationRatio: math.NaN()},
	} {
		err := ts.SetInventory(ctx, p, "h", map[string]Inventory{VCPU: inv})
		if errors.Is(err, ErrInvalid) {
			continue
		}
		t.Errorf("inventory %+v: want ErrInvalid, got %v", inv, err)
		if err != nil {
			continue
		}
		huge := map[string]map[string]int64{p: {VCPU: 1 << 62}}
		err = ts.ClaimAll(ctx, []Claim{
			{ConsumerUUID: consumerID(1), ProjectID: "p", UserID: "u", Allocations: huge},
			{ConsumerUUID: consumerID(2), ProjectID: "p", UserID: "u", Allocations: huge},
		})
		if err == nil {
			t.Fatalf("two claims of 2^62 on 8 VCPUs were accepted: usage %d", ts.usage(p, VCPU))
		}
	}
	// The largest values Placement accepts are fine.
	ts.setInv(p, map[string]Inventory{VCPU: {Total: MaxUnitDefault, MaxUnit: MaxUnitDefault, StepSize: 1,
		AllocationRatio: math.MaxFloat32}})
}

// TestCapacitySaturates: a ratio as large as Placement allows makes a
// capacity beyond int64; it must read as the largest one, not wrap to a
// negative number that would make the scheduler see a full host.
func TestCapacitySaturates(t *testing.T) {
	for _, i := range []Inventory{
		{Total: 8, AllocationRatio: 1e30},
		{Total: MaxUnitDefault, AllocationRatio: math.MaxFloat32},
	} {
		if c := i.Capacity(); c != math.MaxInt64 {
			t.Errorf("%+v: capacity %d, want MaxInt64", i, c)
		}
	}
	if c := (Inventory{Total: 8, AllocationRatio: 1e9}).Capacity(); c != 8e9 {
		t.Errorf("capacity %d, want 8e9", c)
	}
}

// TestProviderNameLength: Placement's limit is 200 characters, not bytes;
// a 200-character name in a non-ASCII script used to be refused.
func TestProviderNameLength(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	inv := map[string]Inventory{VCPU: {Total: 1}}
	if err := ts.SetInventory(ctx, consumerID(1), strings.Repeat("é", 200), inv); err != nil {
		t.Fatalf("200 characters: %v", err)
	}
	if err := ts.SetInventory(ctx, consumerID(2), strings.Repeat("é", 201), inv); !errors.Is(err, ErrInvalid) {
		t.Fatalf("201 characters: want ErrInvalid, got %v", err)
	}
}
