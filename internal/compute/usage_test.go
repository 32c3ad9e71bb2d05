package compute

import (
	"math"
	"strings"
	"testing"
	"time"
)

var (
	// tempest v2_1/tenant_usages.py
	serverUsageFields = fieldSet{required: []string{"ended_at", "flavor", "hours", "instance_id", "local_gb", "memory_mb", "name",
		"started_at", "state", "tenant_id", "uptime", "vcpus"}}
	tenantUsageList = fieldSet{required: []string{"start", "stop", "tenant_id", "total_hours", "total_local_gb_usage",
		"total_memory_mb_usage", "total_vcpus_usage"}, optional: []string{"server_usages"}}
	tenantUsageGet = fieldSet{required: append([]string{"server_usages"}, tenantUsageList.required...)}
)

func near(a any, want float64) bool {
	f, ok := a.(float64)
	return ok && math.Abs(f-want) < 1e-6
}

// usageCloud has, in a window 2026-01-10T00:00 .. 2026-01-11T00:00:
// A1 (project A) running since 6 h before the window, 2 vCPU/1024 MB/10 GB;
// A2 (project A) launched at 12:00 and terminated at 18:00;
// B1 (project B) launched at 00:00 the day after the window (outside);
// A3 (project A) terminated before the window (outside).
func usageCloud(t *testing.T) (*testCloud, map[string]string) {
	tc := newTestCloud(t)
	day := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	ids := map[string]string{"A1": newUUID(), "A2": newUUID(), "B1": newUUID(), "A3": newUUID()}
	tc.insertInstanceAt(ids["A1"], tc.projA, "c1", 2, 1024, 10, false, day.Add(-6*time.Hour))
	tc.insertInstanceAt(ids["A2"], tc.projA, "c1", 1, 512, 5, false, day.Add(12*time.Hour))
	tc.deleteInstanceAt(ids["A2"], day.Add(18*time.Hour))
	tc.insertInstanceAt(ids["B1"], tc.projB, "c1", 4, 4096, 40, false, day.Add(24*time.Hour))
	tc.insertInstanceAt(ids["A3"], tc.projA, "c1", 1, 512, 5, false, day.Add(-48*time.Hour))
	tc.deleteInstanceAt(ids["A3"], day.Add(-24*time.Hour))
	return tc, ids
}

const usageWindowQuery = "start=2026-01-10T00:00:00&end=2026-01-11T00:00:00"

func TestTenantUsageShow(t *testing.T) {
	tc, ids := usageCloud(t)
	r := tc.must(200, "GET", "/v2.1/os-simple-tenant-usage/"+tc.projA+"?"+usageWindowQuery, tc.alice, nil)
	u := r.json["tenant_usage"].(map[string]any)
	if p := tenantUsageGet.check(u); p != "" {
		t.Fatal(p)
	}
	// A1 runs all 24 h; A2 runs 6 h.
	if !near(u["total_hours"], 30) || !near(u["total_vcpus_usage"], 2*24+1*6) || !near(u["total_memory_mb_usage"], 1024*24+512*6) ||
		!near(u["total_local_gb_usage"], 10*24+5*6) {
		t.Fatalf("totals %v", u)
	}
	if u["start"] != "2026-01-10T00:00:00.000000" || u["stop"] != "2026-01-11T00:00:00.000000" || u["tenant_id"] != tc.projA {
		t.Fatalf("window %v", u)
	}
	su := u["server_usages"].([]any)
	if len(su) != 2 {
		t.Fatalf("server usages %v", su)
	}
	a1, a2 := su[0].(map[string]any), su[1].(map[string]any)
	for _, s := range su {
		if p := serverUsageFields.check(s); p != "" {
			t.Fatal(p)
		}
	}
	if a1["instance_id"] != ids["A1"] || a1["state"] != "active" || a1["ended_at"] != nil || a1["flavor"] != "m1.tiny" || !near(a1["hours"], 24) || a1["local_gb"] != 10.0 {
		t.Fatalf("A1 %v", a1)
	}
	if a2["instance_id"] != ids["A2"] || a2["state"] != "terminated" || a2["ended_at"] != "2026-01-10T18:00:00.000000" || a2["uptime"] != 6*3600.0 || !near(a2["hours"], 6) {
		t.Fatalf("A2 %v", a2)
	}
	// Project isolation; a project with nothing has an empty object.
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage/"+tc.projA, tc.bob, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.")
	r = tc.must(200, "GET", "/v2.1/os-simple-tenant-usage/"+tc.projB+"?"+usageWindowQuery, tc.bob, nil)
	if u := r.json["tenant_usage"].(map[string]any); len(u) != 0 {
		t.Fatalf("B in window: %v", u)
	}
	// Bad windows.
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage/"+tc.projA+"?start=2026-01-11T00:00:00&end=2026-01-10T00:00:00", tc.alice, nil), 400, "badRequest",
		"Invalid start time. The start time cannot occur after the end time.")
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage/"+tc.projA+"?start=yesterday", tc.alice, nil), 400, "badRequest",
		"Invalid datetime string: Datetime is in invalid format")
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage/"+tc.projA+"?bogus=1", tc.alice, nil, "mv", "2.75"), 400, "badRequest", "")
	// The window's end is capped at now: an open window counts A1 until now.
	r = tc.must(200, "GET", "/v2.1/os-simple-tenant-usage/"+tc.projA+"?start=2026-01-10T00:00:00.000000&end=2999-01-01%2000:00:00.000000", tc.alice, nil)
	stop, err := time.Parse("2006-01-02T15:04:05.999999", str(r.json, "tenant_usage", "stop"))
	if err != nil || time.Since(stop) > time.Minute || time.Since(stop) < 0 {
		t.Fatalf("stop %v %v", stop, err)
	}
}

func TestTenantUsageListAndPaging(t *testing.T) {
	tc, ids := usageCloud(t)
	// B1 inside a wider window.
	q := "start=2026-01-09T00:00:00&end=2026-01-12T00:00:00"
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage?"+q, tc.alice, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.")
	r := tc.must(200, "GET", "/v2.1/os-simple-tenant-usage?"+q, tc.admin, nil)
	list := r.json["tenant_usages"].([]any)
	if len(list) != 2 {
		t.Fatalf("%s", r.raw)
	}
	for _, u := range list {
		if p := tenantUsageList.check(u); p != "" {
			t.Fatal(p)
		}
		if _, ok := u.(map[string]any)["server_usages"]; ok {
			t.Fatal("server_usages without detailed=1")
		}
	}
	if list[0].(map[string]any)["tenant_id"] != tc.projA || list[1].(map[string]any)["tenant_id"] != tc.projB {
		t.Fatalf("order %s", r.raw)
	}
	r = tc.must(200, "GET", "/v2.1/os-simple-tenant-usage?detailed=1&"+q, tc.admin, nil)
	for _, u := range r.json["tenant_usages"].([]any) {
		if _, ok := u.(map[string]any)["server_usages"]; !ok {
			t.Fatal("no server_usages with detailed=1")
		}
	}
	// 2.40: paging over instances by created_at (A1, A2, B1).
	r = tc.must(200, "GET", "/v2.1/os-simple-tenant-usage?detailed=1&limit=2&"+q, tc.admin, nil, "mv", "2.40")
	su := r.json["tenant_usages"].([]any)[0].(map[string]any)["server_usages"].([]any)
	if len(r.json["tenant_usages"].([]any)) != 1 || len(su) != 2 {
		t.Fatalf("page 1: %s", r.raw)
	}
	next := r.json["tenant_usages_links"].([]any)[0].(map[string]any)["href"].(string)
	if !strings.Contains(next, "marker="+ids["A2"]) || !strings.Contains(next, "/v2.1/os-simple-tenant-usage?") {
		t.Fatalf("next %s", next)
	}
	r = tc.must(200, "GET", "/v2.1/os-simple-tenant-usage?detailed=1&limit=2&marker="+ids["A2"]+"&"+q, tc.admin, nil, "mv", "2.40")
	if l := r.json["tenant_usages"].([]any); len(l) != 1 || l[0].(map[string]any)["tenant_id"] != tc.projB || r.json["tenant_usages_links"] != nil {
		t.Fatalf("page 2: %s", r.raw)
	}
	r = tc.must(200, "GET", "/v2.1/os-simple-tenant-usage/"+tc.projA+"?limit=1&"+q, tc.alice, nil, "mv", "2.40")
	if l := r.json["tenant_usage_links"].([]any); len(l) != 1 || !strings.Contains(l[0].(map[string]any)["href"].(string), "os-simple-tenant-usage/"+tc.projA+"?") {
		t.Fatalf("show links %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage?marker=nope&"+q, tc.admin, nil, "mv", "2.40"), 400, "badRequest", "Marker nope could not be found.")
	tc.fault(tc.req("GET", "/v2.1/os-simple-tenant-usage?limit=-1", tc.admin, nil, "mv", "2.40"), 400, "badRequest", "")
}
