package compute

import (
	"context"
	"testing"
	"time"

	"kumo/internal/platform/httpapi"
)

// fixedLimits is a LimitReader with the same registered limits for every
// project; a resource it lacks has no registered limit.
type fixedLimits map[string]int64

func (f fixedLimits) ProjectLimit(_ context.Context, _, service, _, resource string) (int64, bool, error) {
	if service != "compute" {
		return 0, false, nil
	}
	n, ok := f[resource]
	return n, ok, nil
}

// insertInstance writes an instances row as the servers API would, for
// counting (quotas, usage, hypervisor servers, service delete).
func (tc *testCloud) insertInstance(uuid, project, host string, vcpus, memMB, rootGB int, shelvedOffloaded bool) {
	tc.t.Helper()
	tc.insertInstanceAt(uuid, project, host, vcpus, memMB, rootGB, shelvedOffloaded, time.Now().UTC())
}

func (tc *testCloud) insertInstanceAt(uuid, project, host string, vcpus, memMB, rootGB int, shelvedOffloaded bool, created time.Time) {
	tc.t.Helper()
	state := "active"
	if shelvedOffloaded {
		state = "shelved_offloaded"
	}
	var h any
	if host != "" {
		h = host
	}
	ts := created.Format(time.RFC3339Nano)
	_, err := tc.db.W.Exec(`INSERT INTO instances (uuid, project_id, user_id, display_name, host, node, flavor_id, flavor, memory_mb, vcpus, root_gb, vm_state, created_at, launched_at)
		VALUES (?, ?, ?, ?, ?, ?, '1', '{"name":"m1.tiny"}', ?, ?, ?, ?, ?, ?)`, uuid, project, "u-"+project, "vm-"+uuid[:8], h, h, memMB, vcpus, rootGB, state, ts, ts)
	if err != nil {
		tc.t.Fatal(err)
	}
}

// deleteInstance soft-deletes an instance as Nova does.
func (tc *testCloud) deleteInstance(uuid string) {
	tc.t.Helper()
	tc.deleteInstanceAt(uuid, time.Now().UTC())
}

func (tc *testCloud) deleteInstanceAt(uuid string, at time.Time) {
	tc.t.Helper()
	ts := at.Format(time.RFC3339Nano)
	if _, err := tc.db.W.Exec(`UPDATE instances SET deleted = 1, deleted_at = ?, terminated_at = ?, vm_state = 'deleted' WHERE uuid = ?`, ts, ts, uuid); err != nil {
		tc.t.Fatal(err)
	}
}

// wantForbidden fails unless err is Nova's 403 with msg.
func wantForbidden(t *testing.T, err error, msg string) {
	t.Helper()
	e, ok := httpapi.AsError(err)
	if !ok || e.Status != 403 || e.Message != msg {
		t.Fatalf("want 403 %q, got %v", msg, err)
	}
}
