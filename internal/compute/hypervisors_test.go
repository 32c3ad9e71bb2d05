package compute

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// nodeList is a HypervisorSource of nodes a test writes by hand (the
// coordinator's one reads the QEMU driver and placement).
type nodeList []Hypervisor

func (l nodeList) Hypervisors(context.Context) ([]Hypervisor, error) {
	return append([]Hypervisor(nil), l...), nil
}

var (
	// tempest v2_1/hypervisors.py hypervisor_detail (status and state optional)
	hypDetail21 = fieldSet{required: []string{"cpu_info", "current_workload", "disk_available_least", "host_ip", "free_disk_gb", "free_ram_mb",
		"hypervisor_hostname", "hypervisor_type", "hypervisor_version", "id", "local_gb", "local_gb_used", "memory_mb", "memory_mb_used",
		"running_vms", "service", "vcpus", "vcpus_used"}, optional: []string{"status", "state"}}
	// v2_53: servers optional
	hypDetail253 = fieldSet{required: hypDetail21.required, optional: []string{"status", "state", "servers"}}
	// Nova 2.88: the usage figures leave, uptime joins
	hypDetail288 = fieldSet{required: []string{"id", "hypervisor_hostname", "state", "status", "hypervisor_type", "hypervisor_version",
		"host_ip", "service", "uptime"}, optional: []string{"servers"}}
	hypBasic    = fieldSet{required: []string{"id", "hypervisor_hostname"}, optional: []string{"status", "state", "servers"}}
	hypServices = fieldSet{required: []string{"host", "id", "disabled_reason"}}
)

func (tc *testCloud) withHypervisors() (*ServiceRegistry, *time.Time, []string) {
	tc.t.Helper()
	reg, now := tc.withRegistry()
	if err := reg.RegisterService(context.Background(), "c3", "nova-compute", ""); err != nil {
		tc.t.Fatal(err)
	}
	least := 90
	uuids := []string{newUUID(), newUUID(), newUUID(), newUUID()}
	reg.Hypervisors = nodeList{
		{HostInfo: virt.HostInfo{Hostname: "c1.example.org", HypervisorType: "QEMU", HypervisorVersion: 7002000, VCPUs: 8, MemoryMB: 16384, LocalGB: 100,
			CPUInfo: `{"arch": "x86_64", "model": "EPYC", "vendor": "AMD", "topology": {"cores": 4, "sockets": 1, "threads": 2}, "features": ["avx2"]}`},
			Host: "c1", UUID: uuids[0], HostIP: "192.0.2.1", VCPUsUsed: 3, MemoryMBUsed: 2048, LocalGBUsed: 10, RunningVMs: 2, DiskAvailableLeast: &least,
			Uptime: " 10:00:00 up 1 day,  2:03,  0 users,  load average: 0.10, 0.20, 0.30"},
		{HostInfo: virt.HostInfo{Hostname: "c2.example.org", HypervisorType: "QEMU", HypervisorVersion: 7002000, VCPUs: 4, MemoryMB: 8192, LocalGB: 50},
			Host: "c2", UUID: uuids[1], HostIP: "192.0.2.2"},
		{HostInfo: virt.HostInfo{Hostname: "c3.other.net", HypervisorType: "QEMU", VCPUs: 2, MemoryMB: 2048, LocalGB: 20}, Host: "c3", UUID: uuids[2], HostIP: "192.0.2.3"},
		// A node whose service was deleted is not shown.
		{HostInfo: virt.HostInfo{Hostname: "gone.example.org", HypervisorType: "QEMU"}, Host: "gone", UUID: uuids[3], HostIP: "192.0.2.9"},
	}
	return reg, now, uuids
}

func TestHypervisorsListAndDetailPerMicroversion(t *testing.T) {
	tc := newTestCloud(t)
	_, _, uuids := tc.withHypervisors()
	list := func(path, mv string) []map[string]any {
		r := tc.must(200, "GET", "/v2.1/os-hypervisors"+path, tc.admin, nil, "mv", mv)
		var out []map[string]any
		for _, h := range r.json["hypervisors"].([]any) {
			out = append(out, h.(map[string]any))
		}
		return out
	}
	for _, mv := range []string{"2.1", "2.52", "2.53"} {
		l := list("", mv)
		if len(l) != 3 {
			t.Fatalf("%s: %v", mv, l)
		}
		for _, h := range l {
			if p := (fieldSet{required: []string{"id", "hypervisor_hostname", "state", "status"}}).check(h); p != "" {
				t.Fatalf("%s list: %s", mv, p)
			}
		}
		if mv == "2.53" && l[0]["id"] != uuids[0] || mv != "2.53" && l[0]["id"] != 1.0 {
			t.Fatalf("%s ids: %v", mv, l[0]["id"])
		}
	}
	for _, c := range []struct {
		mv string
		fs fieldSet
	}{{"2.1", hypDetail21}, {"2.28", hypDetail21}, {"2.53", hypDetail253}, {"2.87", hypDetail253}, {"2.88", hypDetail288}} {
		for _, h := range list("/detail", c.mv) {
			if p := c.fs.check(h); p != "" {
				t.Fatalf("%s detail: %s", c.mv, p)
			}
			if p := hypServices.check(h["service"]); p != "" {
				t.Fatalf("%s service: %s", c.mv, p)
			}
		}
	}
	d := list("/detail", "2.27")[0]
	if _, ok := d["cpu_info"].(string); !ok || d["free_ram_mb"] != 14336.0 || d["free_disk_gb"] != 90.0 || d["disk_available_least"] != 90.0 || d["service"].(map[string]any)["id"] != 4.0 {
		t.Fatalf("2.27 detail: %v", d)
	}
	d = list("/detail", "2.28")[0]
	if ci, ok := d["cpu_info"].(map[string]any); !ok || ci["vendor"] != "AMD" {
		t.Fatalf("2.28 cpu_info: %v", d["cpu_info"])
	}
	if ci := list("/detail", "2.28")[1]["cpu_info"]; fmt.Sprint(ci) != "map[]" {
		t.Fatalf("empty cpu_info: %v", ci)
	}
	d = list("/detail", "2.88")[0]
	if d["uptime"] == nil || !strings.Contains(d["uptime"].(string), "load average") || list("/detail", "2.88")[1]["uptime"] != nil {
		t.Fatalf("2.88 uptime: %v", d)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors", tc.alice, nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/detail", tc.alice, nil), 403, "forbidden", "")
}

func TestHypervisorsPagingPatternAndServers(t *testing.T) {
	tc := newTestCloud(t)
	_, _, uuids := tc.withHypervisors()
	vm := newUUID()
	tc.insertInstance(vm, tc.projA, "c1", 1, 512, 1, false)
	// Paging from 2.33: by id, with a next link when the page is full.
	r := tc.must(200, "GET", "/v2.1/os-hypervisors?limit=2", tc.admin, nil, "mv", "2.33")
	if l := r.json["hypervisors"].([]any); len(l) != 2 {
		t.Fatalf("%s", r.raw)
	}
	links := r.json["hypervisors_links"].([]any)
	if href := links[0].(map[string]any)["href"].(string); !strings.HasSuffix(href, "/v2.1/os-hypervisors?limit=2&marker=2") {
		t.Fatalf("next %s", href)
	}
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/detail?limit=2&marker=2", tc.admin, nil, "mv", "2.33")
	if l := r.json["hypervisors"].([]any); len(l) != 1 || r.json["hypervisors_links"] != nil {
		t.Fatalf("page 2: %s", r.raw)
	}
	r = tc.must(200, "GET", "/v2.1/os-hypervisors?limit=1&marker="+uuids[0], tc.admin, nil, "mv", "2.53")
	if l := r.json["hypervisors"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != uuids[1] {
		t.Fatalf("uuid marker: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors?marker=77", tc.admin, nil, "mv", "2.33"), 400, "badRequest", "marker [77] not found")
	if r := tc.must(200, "GET", "/v2.1/os-hypervisors?limit=1", tc.admin, nil, "mv", "2.32"); len(r.json["hypervisors"].([]any)) != 3 {
		t.Fatalf("2.32 is not paged: %s", r.raw)
	}
	// Pattern and with_servers from 2.53.
	r = tc.must(200, "GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=example&with_servers=true", tc.admin, nil, "mv", "2.53")
	l := r.json["hypervisors"].([]any)
	if len(l) != 2 {
		t.Fatalf("pattern: %s", r.raw)
	}
	servers := l[0].(map[string]any)["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["uuid"] != vm || servers[0].(map[string]any)["name"] != "vm-"+vm[:8] {
		t.Fatalf("servers: %v", servers)
	}
	if _, ok := l[1].(map[string]any)["servers"]; ok {
		t.Fatalf("2.53 shows no empty servers list: %v", l[1])
	}
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/detail?hypervisor_hostname_pattern=c2&with_servers=1", tc.admin, nil, "mv", "2.75")
	if s, ok := r.json["hypervisors"].([]any)[0].(map[string]any)["servers"].([]any); !ok || len(s) != 0 {
		t.Fatalf("2.75 empty servers: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=zzz", tc.admin, nil, "mv", "2.53"), 404, "itemNotFound", "No hypervisor matching 'zzz' could be found.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=c&limit=1", tc.admin, nil, "mv", "2.53"), 400, "badRequest",
		"Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors?with_servers=maybe", tc.admin, nil, "mv", "2.53"), 400, "badRequest", "")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors?foo=1", tc.admin, nil, "mv", "2.53"), 400, "badRequest", "")

	// The search and servers routes before 2.53.
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/example/search", tc.admin, nil, "mv", "2.52")
	for _, h := range r.json["hypervisors"].([]any) {
		if p := hypBasic.check(h); p != "" || h.(map[string]any)["servers"] != nil {
			t.Fatalf("search: %s %v", p, h)
		}
	}
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/c1.example/servers", tc.admin, nil)
	if l := r.json["hypervisors"].([]any); len(l) != 1 || len(l[0].(map[string]any)["servers"].([]any)) != 1 {
		t.Fatalf("servers route: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/nomatch/search", tc.admin, nil), 404, "itemNotFound", "No hypervisor matching 'nomatch' could be found.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/example/search", tc.admin, nil, "mv", "2.53"), 404, "itemNotFound", "")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/example/search", tc.alice, nil), 403, "forbidden", "")
}

func TestHypervisorShowUptimeStatistics(t *testing.T) {
	tc := newTestCloud(t)
	_, now, uuids := tc.withHypervisors()
	r := tc.must(200, "GET", "/v2.1/os-hypervisors/1", tc.admin, nil)
	if p := hypDetail21.check(r.json["hypervisor"]); p != "" || str(r.json, "hypervisor", "hypervisor_hostname") != "c1.example.org" {
		t.Fatalf("show: %s %s", p, r.raw)
	}
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/"+uuids[1]+"?with_servers=true", tc.admin, nil, "mv", "2.53")
	if p := hypDetail253.check(r.json["hypervisor"]); p != "" || str(r.json, "hypervisor", "id") != uuids[1] {
		t.Fatalf("show 2.53: %s %s", p, r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/abc", tc.admin, nil), 404, "itemNotFound", "Hypervisor with ID 'abc' could not be found.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/4", tc.admin, nil), 404, "itemNotFound", "Hypervisor with ID '4' could not be found.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/1", tc.admin, nil, "mv", "2.53"), 400, "badRequest", "Invalid uuid 1")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/"+newUUID(), tc.admin, nil, "mv", "2.53"), 404, "itemNotFound", "")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/1", tc.bob, nil), 403, "forbidden", "")

	// Uptime (until 2.87).
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/1/uptime", tc.admin, nil)
	if p := (fieldSet{required: []string{"id", "hypervisor_hostname", "uptime"}, optional: []string{"status", "state"}}).check(r.json["hypervisor"]); p != "" {
		t.Fatalf("uptime: %s", p)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/2/uptime", tc.admin, nil), 501, "notImplemented", "The requested functionality is not supported.")
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/1/uptime", tc.admin, nil, "mv", "2.88"), 404, "itemNotFound", "")

	// Statistics (until 2.87): enabled services' nodes only.
	statsKeys := []string{"count", "current_workload", "disk_available_least", "free_disk_gb", "free_ram_mb", "local_gb", "local_gb_used",
		"memory_mb", "memory_mb_used", "running_vms", "vcpus", "vcpus_used"}
	tc.must(200, "PUT", "/v2.1/os-services/disable", tc.admin, map[string]any{"host": "c3", "binary": "nova-compute"})
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/statistics", tc.admin, nil)
	st := r.json["hypervisor_statistics"].(map[string]any)
	if p := (fieldSet{required: statsKeys}).check(st); p != "" {
		t.Fatal(p)
	}
	if st["count"] != 2.0 || st["vcpus"] != 12.0 || st["memory_mb_used"] != 2048.0 || st["free_disk_gb"] != 140.0 || st["running_vms"] != 2.0 {
		t.Fatalf("statistics %v", st)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/statistics", tc.admin, nil, "mv", "2.88"), 404, "itemNotFound", "")

	// A down compute service: state down, and its uptime cannot be read.
	*now = now.Add(5 * time.Minute)
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/1", tc.admin, nil)
	if str(r.json, "hypervisor", "state") != "down" {
		t.Fatalf("state: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-hypervisors/1/uptime", tc.admin, nil), 400, "badRequest", "Compute service of c1 is unavailable at this time.")
}

func TestLocalUptimeFormat(t *testing.T) {
	line, err := LocalUptime(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ \d\d:\d\d:\d\d up .*,  0 users,  load average: [0-9.]+, [0-9.]+, [0-9.]+$`).MatchString(line) {
		t.Fatalf("uptime line %q", line)
	}
	at := time.Date(2026, 1, 1, 8, 32, 11, 0, time.UTC)
	for _, c := range []struct {
		up   time.Duration
		want string
	}{
		{93*24*time.Hour + 18*time.Hour + 25*time.Minute, " 08:32:11 up 93 days, 18:25,  0 users,  load average: 0.20, 0.12, 0.14"},
		{24*time.Hour + 5*time.Minute, " 08:32:11 up 1 day, 5 min,  0 users,  load average: 0.20, 0.12, 0.14"},
		{3*time.Hour + 7*time.Minute, " 08:32:11 up  3:07,  0 users,  load average: 0.20, 0.12, 0.14"},
	} {
		if got := formatUptime(at, c.up, "0.20", "0.12", "0.14"); got != c.want {
			t.Fatalf("got  %q\nwant %q", got, c.want)
		}
	}
}
