package compute

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestHostZonesFollowAggregateChanges: the host zones the scheduler reads
// for every request are cached, and every aggregate write (create, host
// added, zone changed, delete) is seen by the next read.
func TestHostZonesFollowAggregateChanges(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	st := tc.svc.aggregates()
	zoneOf := func(host string) string {
		t.Helper()
		z, err := st.hostZones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return z[host]
	}
	if z := zoneOf("c1"); z != "" {
		t.Fatalf("zone of c1 before any aggregate: %q", z)
	}
	a, err := st.create(ctx, "agg1", "az1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.change(ctx, a.ID, time.Now(), func(tx *sql.Tx, a *Aggregate) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)`, a.ID, "c1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if z := zoneOf("c1"); z != "az1" {
		t.Fatalf("zone of c1 after it joined agg1 (az1): %q", z)
	}
	az2 := "az2"
	if _, err := st.change(ctx, a.ID, time.Now(), func(tx *sql.Tx, a *Aggregate) error {
		return setAggregateMetadata(ctx, tx, a.ID, map[string]*string{azKey: &az2})
	}); err != nil {
		t.Fatal(err)
	}
	if z := zoneOf("c1"); z != "az2" {
		t.Fatalf("zone of c1 after agg1 moved to az2: %q", z)
	}
	if _, err := st.change(ctx, a.ID, time.Now(), func(tx *sql.Tx, a *Aggregate) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM aggregate_hosts WHERE aggregate_id = ?`, a.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if z := zoneOf("c1"); z != "" {
		t.Fatalf("zone of c1 after it left agg1: %q", z)
	}
}
