package compute

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/scheduler"
)

// TestHeartbeatAll: one batched heartbeat marks every listed host up in
// the table and the cache (report_count + 1 each), leaves other hosts
// alone, and names hosts that are not registered while beating the rest.
func TestHeartbeatAll(t *testing.T) {
	tc := newTestCloud(t)
	reg, now := tc.withRegistry()
	ctx := context.Background()
	for _, h := range []string{"c3", "c4"} {
		if err := reg.RegisterService(ctx, h, "nova-compute", ""); err != nil {
			t.Fatal(err)
		}
	}
	*now = now.Add(2 * reg.DownTime)
	if err := reg.HeartbeatAll(ctx, []string{"c1", "c3", "c4"}, "nova-compute"); err != nil {
		t.Fatal(err)
	}
	l, err := reg.list(ctx, "", "nova-compute")
	if err != nil {
		t.Fatal(err)
	}
	up := map[string]bool{}
	for _, cs := range l {
		up[cs.Host] = reg.up(cs)
	}
	if !up["c1"] || up["c2"] || !up["c3"] || !up["c4"] {
		t.Fatalf("up after the batch: %v", up)
	}
	var c1, c2 int
	if err := tc.db.R.QueryRow(`SELECT (SELECT report_count FROM compute_services WHERE host = 'c1' AND service_binary = 'nova-compute'),
		(SELECT report_count FROM compute_services WHERE host = 'c2' AND service_binary = 'nova-compute')`).Scan(&c1, &c2); err != nil {
		t.Fatal(err)
	}
	if c1 != c2+1 {
		t.Fatalf("report counts c1 %d, c2 %d: want c1 one more", c1, c2)
	}
	*now = now.Add(2 * reg.DownTime)
	err = reg.HeartbeatAll(ctx, []string{"nope", "c2"}, "nova-compute")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unregistered host: %v", err)
	}
	if l, _ := reg.list(ctx, "c2", "nova-compute"); len(l) != 1 || !reg.up(l[0]) {
		t.Fatal("c2 not beaten beside an unregistered host")
	}
}

// TestStaticSchedulerHostsCache: a Static host list is built once and
// kept, and rebuilt when a service changes (disable), an aggregate's zone
// changes, a host goes down with time, or a heartbeat brings it back.
func TestStaticSchedulerHostsCache(t *testing.T) {
	tc := newTestCloud(t)
	reg, now := tc.withRegistry()
	ctx := context.Background()
	var described int
	src := SchedulerHosts{Registry: reg, Static: true, Provider: func(host string) string { return "rp-" + host },
		Describe: func(_ context.Context, h *scheduler.Host) error { described++; h.HypervisorType = "QEMU"; return nil }}
	hosts := func() map[string]scheduler.Host {
		t.Helper()
		l, err := src.Hosts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]scheduler.Host{}
		for _, h := range l {
			m[h.Name] = h
		}
		return m
	}
	if err := reg.HeartbeatAll(ctx, []string{"c1", "c2"}, "nova-compute"); err != nil {
		t.Fatal(err)
	}
	first := hosts()
	if len(first) != 2 || !first["c1"].Enabled || first["c1"].HypervisorType != "QEMU" || described != 2 {
		t.Fatalf("first list %+v, %d described", first, described)
	}
	if hosts(); described != 2 {
		t.Fatalf("unchanged list described again: %d", described)
	}
	// A service disabled through the API.
	tc.must(200, "PUT", "/v2.1/os-services/disable", tc.admin, map[string]any{"host": "c1", "binary": "nova-compute"})
	if h := hosts()["c1"]; h.Enabled || !h.Traits["COMPUTE_STATUS_DISABLED"] || described != 4 {
		t.Fatalf("after disable: %+v, %d described", h, described)
	}
	// An aggregate's zone.
	id := tc.must(200, "POST", "/v2.1/os-aggregates", tc.admin, map[string]any{"aggregate": map[string]any{"name": "a", "availability_zone": "zone9"}}).json["aggregate"].(map[string]any)["id"]
	tc.must(200, "POST", fmt.Sprintf("/v2.1/os-aggregates/%v/action", id), tc.admin, map[string]any{"add_host": map[string]any{"host": "c2"}})
	if h := hosts()["c2"]; h.AvailabilityZone != "zone9" {
		t.Fatalf("after aggregate: %+v", h)
	}
	// Time: down after DownTime without a heartbeat, up after one.
	*now = now.Add(reg.DownTime + time.Second)
	if h := hosts()["c2"]; h.Enabled {
		t.Fatalf("c2 enabled after DownTime: %+v", h)
	}
	if err := reg.HeartbeatAll(ctx, []string{"c2"}, "nova-compute"); err != nil {
		t.Fatal(err)
	}
	if h := hosts()["c2"]; !h.Enabled {
		t.Fatalf("c2 not enabled after a heartbeat: %+v", h)
	}
	// A caller's change to its list does not reach the next caller's.
	l, _ := src.Hosts(ctx)
	l[0].Name = "changed"
	if _, ok := hosts()["changed"]; ok {
		t.Fatal("the cached list was handed out")
	}
}
