package placement

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"kumo/internal/platform/db"
)

// testStore is a Store on a real SQLite file that a test can reopen.
type testStore struct {
	*Store
	t    *testing.T
	path string
	d    *db.DB
}

func openTestStore(t testing.TB, path string) (*Store, *db.DB) {
	t.Helper()
	d, err := db.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), d)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	return s, d
}

func newTestStore(t *testing.T) *testStore {
	t.Helper()
	ts := &testStore{t: t, path: filepath.Join(t.TempDir(), "placement.db")}
	ts.Store, ts.d = openTestStore(t, ts.path)
	t.Cleanup(func() { ts.close() })
	return ts
}

func (ts *testStore) close() {
	if ts.Store != nil {
		ts.Store.Close()
		ts.d.Close()
		ts.Store, ts.d = nil, nil
	}
}

// reopen closes the store and its database and opens both again from the
// file, as a restart of kumo does.
func (ts *testStore) reopen() {
	ts.t.Helper()
	ts.close()
	ts.Store, ts.d = openTestStore(ts.t, ts.path)
}

func (ts *testStore) setInv(uuid string, inv map[string]Inventory) {
	ts.t.Helper()
	if err := ts.SetInventory(context.Background(), uuid, "host-"+uuid, inv); err != nil {
		ts.t.Fatalf("set inventory %s: %v", uuid, err)
	}
}

func (ts *testStore) usage(uuid, rc string) int64 {
	ts.t.Helper()
	u, err := ts.Usages(context.Background(), uuid)
	if err != nil {
		ts.t.Fatal(err)
	}
	return u[rc]
}

// dbUsage sums the allocations table directly, to check that the database
// agrees with memory.
func (ts *testStore) dbUsage(uuid, rc string) int64 {
	ts.t.Helper()
	var n int64
	err := ts.d.R.QueryRow(`SELECT COALESCE(SUM(used), 0) FROM allocations WHERE provider_uuid = ? AND resource_class = ?`,
		uuid, rc).Scan(&n)
	if err != nil {
		ts.t.Fatal(err)
	}
	return n
}

func capacityKind(err error) (CapacityKind, bool) {
	var ce *CapacityError
	if errors.As(err, &ce) {
		return ce.Kind, true
	}
	return 0, false
}

func res(vcpu, mem int64) map[string]int64 {
	return map[string]int64{VCPU: vcpu, MemoryMB: mem}
}

func consumerID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
