package compute

import (
	"context"
	"fmt"
	"time"
)

// seedServers stores n instances of project (user "u-"+project) that vary
// in every field the server views show: flavors with and without extra
// specs, hosts or none, states (error with faults, deleted, soft-deleted,
// task states), locks, descriptions with characters JSON escapes,
// metadata, tags, security groups, key names and user data.
func (tc *testCloud) seedServers(project string, n int) []string {
	tc.t.Helper()
	ctx := context.Background()
	st := tc.svc.instances()
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	flavors := []instFlavor{
		{ID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		{ID: "42", Name: "k<1>&\"q\"", MemoryMB: 64, VCPUs: 1, RootGB: 0, Swap: 16,
			ExtraSpecs: map[string]string{"hw:cpu_policy": "shared", "b": "é\u2028<x>", "a": ""}},
		{ID: "x-big", Name: "big", MemoryMB: 1 << 20, VCPUs: 64, RootGB: 1000, EphemeralGB: 10, ExtraSpecs: map[string]string{}},
	}
	descs := []*string{nil, ptr(""), ptr("plain"), ptr("<script>&\"\\\t\n\x01 ü \u2029 \xff"), ptr("\b\f\r\x7f\u2028")}
	var uuids []string
	var first int // earlier seeds' uuids are taken
	if err := tc.db.R.QueryRow(`SELECT COUNT(*) FROM instances`).Scan(&first); err != nil {
		tc.t.Fatal(err)
	}
	const batch = 500
	for start := first; start < first+n; start += batch {
		var ins []*Instance
		for i := start; i < min(first+n, start+batch); i++ {
			in := &Instance{UUID: fmt.Sprintf("%08x-1111-4000-8000-%012x", i, i), ProjectID: project,
				UserID: "u-" + project, Name: fmt.Sprintf("vm-%05d", i), Description: descs[i%len(descs)],
				Hostname: fmt.Sprintf("vm-%05d", i), ReservationID: fmt.Sprintf("r-%06x", i/7), LaunchIndex: i % 7,
				Flavor: flavors[i%len(flavors)], ImageRef: "", VMState: "active", DiskConfig: "MANUAL",
				SecurityGroups: []string{}, CreatedAt: base.Add(time.Duration(i) * 1500 * time.Millisecond)}
			in.FlavorID = in.Flavor.ID
			if i%2 == 0 {
				in.ImageRef = "70a599e0-31e7-49b7-b260-868f441e862b"
			}
			if i%3 != 0 {
				in.SecurityGroups = []string{"default"}
				if i%9 == 1 {
					in.SecurityGroups = []string{"default", "web<&>"}
				}
			}
			if i%4 == 1 {
				in.KeyName, in.UserData, in.ConfigDrive, in.AZ = ptr("kp"), ptr("IyEvYmluL3NoCg=="), "True", "nova"
				in.DiskConfig = "AUTO"
			}
			if i%5 == 3 {
				in.AccessIPv4, in.AccessIPv6 = "10.0.0.1", "::1"
			}
			ins = append(ins, in)
		}
		if err := st.insertAll(ctx, ins, nil, nil); err != nil {
			tc.t.Fatal(err)
		}
		for _, in := range ins {
			uuids = append(uuids, in.UUID)
		}
	}
	exec := func(q string, args ...any) {
		tc.t.Helper()
		if _, err := tc.db.W.Exec(q, args...); err != nil {
			tc.t.Fatal(err)
		}
	}
	// States, hosts and times vary by id, in bulk.
	exec(`UPDATE instances SET host = 'h' || (id % 10), node = 'h' || (id % 10) || '.node', power_state = 1,
		launched_at = created_at WHERE project_id = ? AND id % 11 != 0`, project)
	exec(`UPDATE instances SET vm_state = 'building', task_state = 'spawning', power_state = 0 WHERE project_id = ? AND id % 11 = 0`, project)
	exec(`UPDATE instances SET vm_state = 'error', task_state = NULL WHERE project_id = ? AND id % 13 = 5`, project)
	exec(`UPDATE instances SET vm_state = 'stopped', power_state = 4, updated_at = NULL WHERE project_id = ? AND id % 17 = 2`, project)
	exec(`UPDATE instances SET task_state = 'rebooting' WHERE project_id = ? AND id % 19 = 3`, project)
	exec(`UPDATE instances SET locked = 1, locked_by = 'owner', locked_reason = CASE WHEN id % 2 = 0 THEN 'why "not"' END
		WHERE project_id = ? AND id % 7 = 4`, project)
	exec(`UPDATE instances SET vm_state = 'soft-delete', deleted = 1, deleted_at = created_at, terminated_at = created_at
		WHERE project_id = ? AND id % 29 = 6`, project)
	exec(`UPDATE instances SET vm_state = 'deleted', deleted = 1, deleted_at = created_at, terminated_at = created_at
		WHERE project_id = ? AND id % 31 = 7`, project)
	exec(`INSERT INTO instance_metadata (instance_uuid, key, value) SELECT uuid, 'role', 'web' || (id % 3) FROM instances
		WHERE project_id = ? AND id % 2 = 0`, project)
	exec(`INSERT INTO instance_metadata (instance_uuid, key, value) SELECT uuid, 'a<b>', 'x&y "z" ' || char(1) FROM instances
		WHERE project_id = ? AND id % 6 = 0`, project)
	exec(`INSERT INTO instance_tags (instance_uuid, tag) SELECT uuid, 'tag' || (id % 4) FROM instances
		WHERE project_id = ? AND id % 3 = 1`, project)
	exec(`INSERT INTO instance_tags (instance_uuid, tag) SELECT uuid, 'a-first' FROM instances WHERE project_id = ? AND id % 6 = 1`, project)
	// Faults: two for some (the latest shows), 500s with details (admins only).
	for _, code := range []int{500, 400} {
		exec(`INSERT INTO instance_faults (instance_uuid, code, message, details, created_at)
			SELECT uuid, ?, 'boom <'||id||'>', CASE WHEN id % 2 = 0 THEN 'Traceback & "stuff"' ELSE '' END, created_at FROM instances
			WHERE project_id = ? AND (vm_state = 'error' OR deleted != 0) AND id % (? / 100) = 0`, code, project, code)
	}
	return uuids
}

func ptr[T any](v T) *T { return &v }
