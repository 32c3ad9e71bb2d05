package containerserver

import (
	"context"
	"testing"
)

// Listing rows commit with synchronous=NORMAL, and only they: the writer
// connection is at FULL (2) again for every other write, after a success
// and after a refused batch.
func TestObjectRowsLeaveSynchronousFull(t *testing.T) {
	s, ref := benchStore(t)
	ctx := context.Background()
	check := func(when string, r ContainerRef) {
		t.Helper()
		c, err := s.openContainer(r, false, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer c.release()
		var mode int
		if err := c.d.W.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil || mode != 2 {
			t.Fatalf("%s: synchronous = %d (%v), want 2 (FULL)", when, mode, err)
		}
	}
	check("before", ref)
	if err := s.PutObjectRecord(ctx, ref, ObjectRecord{Name: "a", CreatedAt: "0000000005.00000", Size: 1}); err != nil {
		t.Fatal(err)
	}
	check("after a row", ref)
	ref2 := ContainerRef{Device: "sda", Account: "AUTH_bench", Container: "gone"}
	if _, err := s.PutContainer(ctx, ref2, "0000000001.00000", 0, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContainer(ctx, ref2, "0000000002.00000"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObjectRecord(ctx, ref2, ObjectRecord{Name: "x", CreatedAt: "0000000003.00000"}); err != ErrNotFound {
		t.Fatalf("row into deleted container: %v", err)
	}
	check("after a refused row", ref2)
	info, err := s.ContainerInfo(ctx, ref)
	if err != nil || info.ObjectCount != 1 {
		t.Fatalf("info %+v %v", info, err)
	}
}
