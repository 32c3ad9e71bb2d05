package compute

import (
	"context"
	"testing"
	"time"
)

// hostsOf is a fixed HostLister.
type hostsOf []HostService

func (h hostsOf) Services(context.Context) ([]HostService, error) { return h, nil }

// Tempest v2_1/availability_zone.py: zoneName, zoneState{available}, hosts.
var zoneItem = fieldSet{required: []string{"zoneName", "zoneState", "hosts"}}

func TestAvailabilityZonesWithoutRegistry(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "GET", "/v2.1/os-availability-zone", tc.rita, nil)
	zs := r.json["availabilityZoneInfo"].([]any)
	if len(zs) != 1 || zoneItem.check(zs[0]) != "" || str(zs[0].(map[string]any), "zoneName") != "nova" ||
		zs[0].(map[string]any)["hosts"] != nil || zs[0].(map[string]any)["zoneState"].(map[string]any)["available"] != true {
		t.Fatalf("zones: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-availability-zone/detail", tc.alice, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.")
	tc.must(200, "GET", "/v2.1/os-availability-zone/detail", tc.admin, nil)
}

func TestAvailabilityZonesFromHosts(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	hosts := hostsOf{
		{Host: "ctl", Binary: "nova-scheduler", Up: true, UpdatedAt: &now},
		{Host: "cn1", Binary: "nova-compute", Up: true, UpdatedAt: &now},
		{Host: "cn2", Binary: "nova-compute", Zone: "az2", Up: false},
		{Host: "cn3", Binary: "nova-compute", Zone: "az3", Disabled: true, Up: true},
		{Host: "api", Binary: "nova-osapi_compute", Up: true},
	}
	tc := newTestCloud(t, func(c *Config) { c.Hosts = hosts })
	r := tc.must(200, "GET", "/v2.1/os-availability-zone", tc.alice, nil)
	got := map[string]bool{}
	for _, z := range r.json["availabilityZoneInfo"].([]any) {
		m := z.(map[string]any)
		if zoneItem.check(m) != "" || m["hosts"] != nil {
			t.Fatalf("zone item: %v", m)
		}
		got[m["zoneName"].(string)] = m["zoneState"].(map[string]any)["available"].(bool)
	}
	// The internal zone is hidden; a zone with only disabled services is
	// listed as unavailable.
	if len(got) != 3 || !got["nova"] || !got["az2"] || got["az3"] {
		t.Fatalf("zones: %v", got)
	}
	r = tc.must(200, "GET", "/v2.1/os-availability-zone/detail", tc.admin, nil)
	byName := map[string]map[string]any{}
	for _, z := range r.json["availabilityZoneInfo"].([]any) {
		byName[z.(map[string]any)["zoneName"].(string)] = z.(map[string]any)
	}
	internal, _ := byName["internal"]["hosts"].(map[string]any)
	if _, ok := internal["api"]; ok || internal["ctl"] == nil {
		t.Fatalf("internal zone hosts (API services are left out): %v", internal)
	}
	svc := byName["nova"]["hosts"].(map[string]any)["cn1"].(map[string]any)["nova-compute"].(map[string]any)
	if svc["available"] != true || svc["active"] != true || svc["updated_at"] != "2026-11-21T12:00:00.000000" {
		t.Fatalf("cn1 service: %v", svc)
	}
	if down := byName["az2"]["hosts"].(map[string]any)["cn2"].(map[string]any)["nova-compute"].(map[string]any); down["available"] != false || down["updated_at"] != nil {
		t.Fatalf("cn2 (down): %v", down)
	}
	if byName["az3"]["hosts"] != nil {
		t.Fatalf("unavailable zone has hosts: %v", byName["az3"])
	}
}

func TestExtensions(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "GET", "/v2.1/extensions", tc.alice, nil)
	item := fieldSet{required: []string{"updated", "name", "links", "namespace", "alias", "description"}}
	exts := r.json["extensions"].([]any)
	names := map[string]bool{}
	for _, e := range exts {
		if p := item.check(e); p != "" {
			t.Fatalf("extension %v: %s", e, p)
		}
		names[e.(map[string]any)["name"].(string)] = true
	}
	// Tempest's test_list_extensions looks for Hosts; Nova Zed lists 99.
	if len(exts) != 99 || !names["Hosts"] {
		t.Fatalf("%d extensions, Hosts %v", len(exts), names["Hosts"])
	}
	if str(tc.must(200, "GET", "/v2.1/extensions/os-consoles", tc.alice, nil).json, "extension", "alias") != "os-consoles" {
		t.Fatal("show os-consoles")
	}
	tc.fault(tc.req("GET", "/v2.1/extensions/nope", tc.alice, nil), 404, "itemNotFound", "")
}
