package placement

import (
	"context"
	"errors"
	"testing"
)

func TestInventoryInUse(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	p := consumerID(900)
	ts.setInv(p, map[string]Inventory{VCPU: {Total: 8}, MemoryMB: {Total: 4096}, DiskGB: {Total: 100}})
	if err := ts.Claim(ctx, consumerID(1), "p", "u", p, res(6, 2048)); err != nil {
		t.Fatal(err)
	}
	var inUse *InventoryInUseError
	err := ts.SetInventory(ctx, p, "host-"+p, map[string]Inventory{VCPU: {Total: 5}, MemoryMB: {Total: 4096}})
	if !errors.As(err, &inUse) || len(inUse.ResourceClasses) != 1 || inUse.ResourceClasses[0] != VCPU {
		t.Fatalf("lowering VCPU below usage: want InventoryInUseError for VCPU, got %v", err)
	}
	err = ts.SetInventory(ctx, p, "host-"+p, map[string]Inventory{VCPU: {Total: 8}})
	if !errors.As(err, &inUse) || inUse.ResourceClasses[0] != MemoryMB {
		t.Fatalf("removing MEMORY_MB in use: want InventoryInUseError, got %v", err)
	}
	// Down to exactly the usage, and dropping the unused DISK_GB, is fine;
	// a ratio may make room too.
	if err := ts.SetInventory(ctx, p, "host-"+p, map[string]Inventory{VCPU: {Total: 3, AllocationRatio: 2}, MemoryMB: {Total: 2048}}); err != nil {
		t.Fatal(err)
	}
	ts.reopen()
	got, err := ts.Provider(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Inventories[DiskGB]; ok || got.Inventories[VCPU].Capacity() != 6 || got.Usages[VCPU] != 6 {
		t.Fatalf("after reopen: %+v", got)
	}
	if _, ok := capacityKind(ts.Claim(ctx, consumerID(2), "p", "u", p, res(1, 1))); !ok {
		t.Fatal("the provider is full: a claim should fail")
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
