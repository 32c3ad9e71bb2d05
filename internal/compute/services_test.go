package compute

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"kumo/internal/compute/scheduler"
)

var (
	// tempest v2_1, v2_11 services.py; v2_53 update_service
	service21     = fieldSet{required: []string{"id", "zone", "host", "state", "binary", "status", "updated_at", "disabled_reason"}}
	service211    = fieldSet{required: append(slices.Clone(service21.required), "forced_down")}
	serviceUpd253 = fieldSet{required: []string{"id", "binary", "disabled_reason", "host", "state", "status", "updated_at", "zone", "forced_down"}}
)

// withRegistry wires a service registry with a controllable clock into
// the test cloud, with compute hosts c1 and c2 and the control services.
func (tc *testCloud) withRegistry() (*ServiceRegistry, *time.Time) {
	tc.t.Helper()
	reg := NewServiceRegistry(tc.db)
	now := time.Now().UTC()
	reg.now = func() time.Time { return now }
	tc.svc.cfg.Hosts = reg
	ctx := context.Background()
	for _, s := range [][3]string{{"ctl", "nova-scheduler", ""}, {"ctl", "nova-conductor", ""}, {"ctl", "nova-osapi_compute", ""},
		{"c1", "nova-compute", ""}, {"c2", "nova-compute", "az2"}} {
		if err := reg.RegisterService(ctx, s[0], s[1], s[2]); err != nil {
			tc.t.Fatal(err)
		}
	}
	return reg, &now
}

func serviceList(tc *testCloud, q string, mv string) []map[string]any {
	tc.t.Helper()
	r := tc.must(200, "GET", "/v2.1/os-services"+q, tc.admin, nil, "mv", mv)
	var out []map[string]any
	for _, s := range r.json["services"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func TestServicesListPerMicroversionAndFilters(t *testing.T) {
	tc := newTestCloud(t)
	reg, now := tc.withRegistry()
	for _, c := range []struct {
		mv string
		fs fieldSet
	}{{"2.1", service21}, {"2.11", service211}, {"2.53", service211}} {
		list := serviceList(tc, "", c.mv)
		if len(list) != 4 {
			t.Fatalf("%s: %d services (API service must be hidden): %v", c.mv, len(list), list)
		}
		for _, s := range list {
			if p := c.fs.check(s); p != "" {
				t.Fatalf("%s: %s", c.mv, p)
			}
			_, isNum := s["id"].(float64)
			if isNum == (c.mv == "2.53") || (c.mv == "2.53" && !isUUIDLike(s["id"].(string))) {
				t.Fatalf("%s id %v", c.mv, s["id"])
			}
			if s["state"] != "up" || s["status"] != "enabled" {
				t.Fatalf("%s: %v", c.mv, s)
			}
		}
	}
	zones := map[string]string{}
	for _, s := range serviceList(tc, "", "2.1") {
		zones[s["host"].(string)+"/"+s["binary"].(string)] = s["zone"].(string)
	}
	if zones["c1/nova-compute"] != "nova" || zones["c2/nova-compute"] != "az2" || zones["ctl/nova-scheduler"] != "internal" {
		t.Fatalf("zones %v", zones)
	}
	if l := serviceList(tc, "?host=c2", "2.1"); len(l) != 1 || l[0]["host"] != "c2" {
		t.Fatalf("host filter %v", l)
	}
	if l := serviceList(tc, "?binary=nova-compute&host=c1", "2.1"); len(l) != 1 || l[0]["host"] != "c1" {
		t.Fatalf("binary+host filter %v", l)
	}
	// A service whose heartbeat is older than service_down_time is down;
	// a heartbeat brings it back.
	*now = now.Add(2 * time.Minute)
	if err := reg.Heartbeat(context.Background(), "c1", "nova-compute"); err != nil {
		t.Fatal(err)
	}
	for _, s := range serviceList(tc, "?binary=nova-compute", "2.11") {
		want := map[string]string{"c1": "up", "c2": "down"}[s["host"].(string)]
		if s["state"] != want {
			t.Fatalf("state of %v, want %s", s, want)
		}
	}
	if err := reg.Heartbeat(context.Background(), "nope", "nova-compute"); err == nil {
		t.Fatal("heartbeat of an unregistered service succeeded")
	}
	tc.fault(tc.req("GET", "/v2.1/os-services", tc.alice, nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-services:list to be performed.")
	tc.fault(tc.req("GET", "/v2.1/os-services?foo=1", tc.admin, nil, "mv", "2.75"), 400, "badRequest", "")
}

func TestServicesLegacyActions(t *testing.T) {
	tc := newTestCloud(t)
	tc.withRegistry()
	put := func(action string, body map[string]any, mv string) resp {
		return tc.req("PUT", "/v2.1/os-services/"+action, tc.admin, body, "mv", mv)
	}
	r := put("disable-log-reason", map[string]any{"host": "c1", "binary": "nova-compute", "disabled_reason": "maintenance"}, "2.1")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if p := (fieldSet{required: []string{"disabled_reason", "binary", "host", "status"}}).check(r.json["service"]); p != "" || str(r.json, "service", "status") != "disabled" {
		t.Fatalf("disable-log-reason: %s %s", p, r.raw)
	}
	svc := serviceList(tc, "?host=c1", "2.1")[0]
	if svc["status"] != "disabled" || svc["disabled_reason"] != "maintenance" {
		t.Fatalf("after disable: %v", svc)
	}
	// The availability zone of a disabled host's only service is unavailable.
	az := tc.must(200, "GET", "/v2.1/os-availability-zone", tc.alice, nil)
	for _, z := range az.json["availabilityZoneInfo"].([]any) {
		zm := z.(map[string]any)
		if zm["zoneName"] == "nova" && zm["zoneState"].(map[string]any)["available"] != false {
			t.Fatalf("zone nova still available: %s", az.raw)
		}
	}
	r = put("enable", map[string]any{"host": "c1", "binary": "nova-compute"}, "2.1")
	if p := (fieldSet{required: []string{"status", "binary", "host"}}).check(r.json["service"]); r.status != 200 || p != "" {
		t.Fatalf("enable: %d %s %s", r.status, p, r.raw)
	}
	if svc := serviceList(tc, "?host=c1", "2.1")[0]; svc["status"] != "enabled" || svc["disabled_reason"] != nil {
		t.Fatalf("after enable: %v", svc)
	}
	r = put("disable", map[string]any{"host": "c1", "binary": "nova-compute", "disabled_reason": "ignored"}, "2.1")
	if r.status != 200 || len(r.json["service"].(map[string]any)) != 3 {
		t.Fatalf("disable: %s", r.raw)
	}
	r = put("force-down", map[string]any{"host": "c2", "binary": "nova-compute", "forced_down": true}, "2.11")
	if p := (fieldSet{required: []string{"binary", "host", "forced_down"}}).check(r.json["service"]); r.status != 200 || p != "" {
		t.Fatalf("force-down: %d %s %s", r.status, p, r.raw)
	}
	if svc := serviceList(tc, "?host=c2", "2.11")[0]; svc["forced_down"] != true || svc["state"] != "down" {
		t.Fatalf("after force-down: %v", svc)
	}

	tc.fault(put("force-down", map[string]any{"host": "c2", "binary": "nova-compute"}, "2.1"), 404, "itemNotFound", "Unknown action")
	tc.fault(put("force-down", map[string]any{"host": "c2", "binary": "nova-compute"}, "2.11"), 400, "badRequest", "Missing forced_down field")
	tc.fault(put("disable-log-reason", map[string]any{"host": "c1", "binary": "nova-compute"}, "2.1"), 400, "badRequest", "Missing disabled reason field")
	tc.fault(put("reboot", map[string]any{"host": "c1", "binary": "nova-compute"}, "2.1"), 404, "itemNotFound", "Unknown action")
	tc.fault(put("disable", map[string]any{"host": "ctl", "binary": "nova-scheduler"}, "2.1"), 400, "badRequest",
		"Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.")
	tc.fault(put("disable", map[string]any{"host": "c9", "binary": "nova-compute"}, "2.1"), 404, "itemNotFound", "Could not find binary nova-compute on host c9.")
	tc.fault(put("disable", map[string]any{"host": "c1"}, "2.1"), 400, "badRequest", "'binary' is a required property")
	tc.fault(put("disable", map[string]any{"host": "c1", "binary": "nova-compute", "forced_down": true}, "2.10"), 400, "badRequest", "")
	// From 2.53 the action names are not service ids.
	tc.fault(put("disable", map[string]any{"host": "c1", "binary": "nova-compute"}, "2.53"), 400, "badRequest",
		"Additional properties are not allowed ('binary', 'host' were unexpected)")
	tc.fault(put("disable", map[string]any{"status": "disabled"}, "2.53"), 400, "badRequest", "Invalid uuid disable")
	tc.fault(tc.req("PUT", "/v2.1/os-services/disable", tc.alice, map[string]any{"host": "c1", "binary": "nova-compute"}), 403, "forbidden", "")
}

func TestServicesUpdateByUUID(t *testing.T) {
	tc := newTestCloud(t)
	tc.withRegistry()
	ids := map[string]string{}
	for _, s := range serviceList(tc, "", "2.53") {
		ids[s["host"].(string)+"/"+s["binary"].(string)] = s["id"].(string)
	}
	c1 := ids["c1/nova-compute"]
	put := func(id string, body map[string]any) resp {
		return tc.req("PUT", "/v2.1/os-services/"+id, tc.admin, body, "mv", "2.53")
	}
	r := put(c1, map[string]any{"status": "disabled", "disabled_reason": "upgrade"})
	if p := serviceUpd253.check(r.json["service"]); r.status != 200 || p != "" {
		t.Fatalf("%d %s %s", r.status, p, r.raw)
	}
	if str(r.json, "service", "status") != "disabled" || str(r.json, "service", "disabled_reason") != "upgrade" || str(r.json, "service", "id") != c1 {
		t.Fatalf("%s", r.raw)
	}
	r = put(c1, map[string]any{"forced_down": "yes"})
	if r.status != 200 || r.json["service"].(map[string]any)["forced_down"] != true || str(r.json, "service", "state") != "down" {
		t.Fatalf("%s", r.raw)
	}
	r = put(c1, map[string]any{"status": "enabled", "forced_down": false})
	if r.status != 200 || str(r.json, "service", "status") != "enabled" || r.json["service"].(map[string]any)["disabled_reason"] != nil {
		t.Fatalf("%s", r.raw)
	}
	tc.fault(put(c1, map[string]any{"status": "enabled", "disabled_reason": "x"}), 400, "badRequest", "Specifying 'disabled_reason' with status 'enabled' is invalid.")
	tc.fault(put(c1, map[string]any{}), 400, "badRequest", "No updates were requested. Fields 'status' or 'forced_down' should be specified.")
	tc.fault(put(c1, map[string]any{"status": "off"}), 400, "badRequest", "Invalid input for field/attribute status. Value: off. 'off' is not one of ['enabled', 'disabled']")
	tc.fault(put(ids["ctl/nova-conductor"], map[string]any{"status": "disabled"}), 400, "badRequest",
		"Updating a nova-conductor service is not supported. Only nova-compute services can be updated.")
	missing := newUUID()
	tc.fault(put(missing, map[string]any{"status": "disabled"}), 404, "itemNotFound", "Service "+missing+" could not be found.")
	tc.fault(put("nope", map[string]any{"status": "disabled"}), 400, "badRequest", "Invalid uuid nope")
}

func TestServicesDelete(t *testing.T) {
	tc := newTestCloud(t)
	reg, _ := tc.withRegistry()
	var cleaned []string
	reg.ComputeDeleted = func(_ context.Context, host string) error { cleaned = append(cleaned, host); return nil }
	byHost := func(mv string) map[string]any {
		out := map[string]any{}
		for _, s := range serviceList(tc, "", mv) {
			out[s["host"].(string)+"/"+s["binary"].(string)] = s["id"]
		}
		return out
	}
	inst := newUUID()
	tc.insertInstance(inst, tc.projA, "c1", 1, 512, 1, false)
	c1 := fmt.Sprint(byHost("2.1")["c1/nova-compute"])
	tc.fault(tc.req("DELETE", "/v2.1/os-services/"+c1, tc.alice, nil), 403, "forbidden", "")
	tc.fault(tc.req("DELETE", "/v2.1/os-services/"+c1, tc.admin, nil), 409, "conflictingRequest",
		"Unable to delete compute service that is hosting instances. Migrate or delete the instances first.")
	tc.fault(tc.req("DELETE", "/v2.1/os-services/abc", tc.admin, nil), 400, "badRequest", "Invalid input received: id must be an integer")
	tc.fault(tc.req("DELETE", "/v2.1/os-services/999", tc.admin, nil), 404, "itemNotFound", "Service 999 not found.")
	tc.fault(tc.req("DELETE", "/v2.1/os-services/"+c1, tc.admin, nil, "mv", "2.53"), 400, "badRequest", "Invalid uuid "+c1)
	tc.deleteInstance(inst)
	tc.must(204, "DELETE", "/v2.1/os-services/"+c1, tc.admin, nil)
	c2 := byHost("2.53")["c2/nova-compute"].(string)
	tc.must(204, "DELETE", "/v2.1/os-services/"+c2, tc.admin, nil, "mv", "2.53")
	if l := serviceList(tc, "?binary=nova-compute", "2.1"); len(l) != 0 {
		t.Fatalf("left: %v", l)
	}
	// Deleting a control service needs no cleanup.
	tc.must(204, "DELETE", "/v2.1/os-services/"+byHost("2.53")["ctl/nova-scheduler"].(string), tc.admin, nil, "mv", "2.53")
	if !slices.Equal(cleaned, []string{"c1", "c2"}) {
		t.Fatalf("cleanup calls %v", cleaned)
	}
}

func TestSchedulerHostsFromRegistry(t *testing.T) {
	tc := newTestCloud(t)
	reg, now := tc.withRegistry()
	ctx := context.Background()
	if err := reg.RegisterService(ctx, "c3", "nova-compute", ""); err != nil {
		t.Fatal(err)
	}
	tc.must(200, "PUT", "/v2.1/os-services/disable", tc.admin, map[string]any{"host": "c2", "binary": "nova-compute"})
	src := SchedulerHosts{Registry: reg,
		Provider: func(host string) string { return map[string]string{"c1": "rp-1", "c2": "rp-2"}[host] },
		Describe: func(_ context.Context, h *scheduler.Host) error { h.HypervisorType = "QEMU"; return nil }}
	hosts, err := src.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 {
		t.Fatalf("hosts %+v (c3 has no provider, ctl no nova-compute)", hosts)
	}
	if h := hosts[0]; h.Name != "c1" || h.ProviderUUID != "rp-1" || !h.Enabled || h.HypervisorType != "QEMU" || h.Traits["COMPUTE_STATUS_DISABLED"] {
		t.Fatalf("c1 %+v", h)
	}
	if h := hosts[1]; h.Name != "c2" || h.Enabled || h.AvailabilityZone != "az2" || !h.Traits["COMPUTE_STATUS_DISABLED"] {
		t.Fatalf("c2 %+v", h)
	}
	// A compute host that stops heartbeating is not Enabled either.
	*now = now.Add(61 * time.Second)
	hosts, _ = src.Hosts(ctx)
	if hosts[0].Enabled {
		t.Fatalf("down host enabled: %+v", hosts[0])
	}
	svcs, err := reg.Services(ctx)
	if err != nil || len(svcs) != 6 {
		t.Fatalf("services %v %v", svcs, err)
	}
}
