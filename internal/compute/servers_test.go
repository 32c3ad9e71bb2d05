package compute

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/virt/simulated"
)

// Tempest's server field sets (tempest/lib/api_schema/response/compute/
// v2_1/servers.py server_detail and the later versions' additions).
var (
	serverDetailOptional21 = []string{"fault", "progress", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6",
		"key_name", "security_groups", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
		"OS-EXT-AZ:availability_zone", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state",
		"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:hypervisor_hostname",
		"os-extended-volumes:volumes_attached", "config_drive"}
	serverRequired21 = []string{"id", "name", "status", "image", "flavor", "user_id", "tenant_id", "created",
		"updated", "metadata", "links", "addresses", "hostId"}
	// v2_3: the extended server attributes.
	serverOptional23 = append(slices.Clone(serverDetailOptional21), "OS-EXT-SRV-ATTR:reservation_id",
		"OS-EXT-SRV-ATTR:launch_index", "OS-EXT-SRV-ATTR:kernel_id", "OS-EXT-SRV-ATTR:ramdisk_id",
		"OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:root_device_name", "OS-EXT-SRV-ATTR:user_data")
	serverShow21  = fieldSet{required: serverRequired21, optional: serverDetailOptional21}
	serverShow23  = fieldSet{required: serverRequired21, optional: serverOptional23}
	serverShow219 = fieldSet{required: append(slices.Clone(serverRequired21), "locked", "description"),
		optional: append(slices.Clone(serverOptional23), "host_status")}
	serverShow226 = fieldSet{required: append(slices.Clone(serverShow219.required), "tags"), optional: serverShow219.optional}
	serverShow273 = fieldSet{required: append(slices.Clone(serverShow226.required), "trusted_image_certificates",
		"server_groups", "locked_reason"), optional: serverShow219.optional}
	// The list detail of 2.73 has no server_groups.
	serverDetail273 = fieldSet{required: append(slices.Clone(serverShow226.required), "trusted_image_certificates",
		"locked_reason"), optional: serverShow219.optional}
	// v2_1 common_show_server, the PUT answer before 2.75.
	serverUpdate21 = fieldSet{required: serverRequired21, optional: []string{"fault", "progress", "OS-DCF:diskConfig",
		"accessIPv4", "accessIPv6"}}
	serverCreate21 = fieldSet{required: []string{"id", "links", "adminPass"}, optional: []string{"security_groups", "OS-DCF:diskConfig"}}
	serverList21   = fieldSet{required: []string{"id", "links", "name"}}
	flavor247      = fieldSet{required: []string{"original_name", "disk", "ephemeral", "ram", "swap", "vcpus"},
		optional: []string{"extra_specs"}}
)

func checkFields(t *testing.T, what string, fs fieldSet, obj any) {
	t.Helper()
	if p := fs.check(obj); p != "" {
		t.Fatalf("%s: %s\n%v", what, p, obj)
	}
}

func TestServerBootsToActiveWithTempestFieldSets(t *testing.T) {
	sc := newSimCloud(t, 2)
	start := time.Now()
	r := sc.must(202, "POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{
		"name": "web one", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none",
		"metadata": map[string]any{"role": "web"}}}, "mv", "2.37")
	checkFields(t, "create", serverCreate21, r.json["server"])
	id := str(r.json, "server", "id")
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/v2.1/servers/"+id) {
		t.Fatalf("Location %q", loc)
	}
	srv := sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	t.Logf("one server ACTIVE after %v", time.Since(start))
	if srv["OS-EXT-STS:vm_state"] != "active" || srv["OS-EXT-STS:power_state"] != float64(1) ||
		srv["config_drive"] != "True" || srv["OS-SRV-USG:launched_at"] == nil || srv["hostId"] == "" {
		t.Fatalf("active server: %v", srv)
	}
	if _, ok := srv["OS-EXT-SRV-ATTR:host"]; ok {
		t.Fatalf("a member sees the host: %v", srv)
	}
	if srv["OS-EXT-SRV-ATTR:hostname"] != "web-one" {
		t.Fatalf("2.90 hostname: %v", srv["OS-EXT-SRV-ATTR:hostname"])
	}
	if m := srv["metadata"].(map[string]any); m["role"] != "web" {
		t.Fatalf("metadata %v", m)
	}
	for _, c := range []struct {
		mv string
		fs fieldSet
	}{{"2.1", serverShow21}, {"2.3", serverShow23}, {"2.19", serverShow219}, {"2.26", serverShow226},
		{"2.73", serverShow273}, {"2.93", serverShow273}} {
		for _, tok := range []string{sc.alice, sc.admin} {
			r := sc.must(200, "GET", "/v2.1/servers/"+id, tok, nil, "mv", c.mv)
			checkFields(t, "show "+c.mv, c.fs, r.json["server"])
		}
	}
	// Admins see where it runs; the flavor is embedded from 2.47.
	r = sc.must(200, "GET", "/v2.1/servers/"+id, sc.admin, nil, "mv", "2.47")
	host := str(r.json, "server", "OS-EXT-SRV-ATTR:host")
	if _, ok := sc.drivers[host]; !ok {
		t.Fatalf("host %q is not a simulated host", host)
	}
	if _, ok := sc.drivers[host].Spec(id); !ok {
		t.Fatalf("the driver of %s has no instance %s", host, id)
	}
	checkFields(t, "flavor 2.47", flavor247, r.json["server"].(map[string]any)["flavor"])
	if r.json["server"].(map[string]any)["flavor"].(map[string]any)["original_name"] != "m1.tiny" {
		t.Fatalf("flavor %v", r.json["server"].(map[string]any)["flavor"])
	}
	// Lists.
	r = sc.must(200, "GET", "/v2.1/servers", sc.alice, nil)
	if l := r.json["servers"].([]any); len(l) != 1 {
		t.Fatalf("list %v", r.json)
	} else {
		checkFields(t, "list", serverList21, l[0])
	}
	r = sc.must(200, "GET", "/v2.1/servers/detail", sc.alice, nil, "mv", "2.73")
	checkFields(t, "detail 2.73", serverDetail273, r.json["servers"].([]any)[0])
	// PUT answers the reduced view before 2.75.
	r = sc.must(200, "PUT", "/v2.1/servers/"+id, sc.alice, map[string]any{"server": map[string]any{"name": "web-1"}})
	checkFields(t, "update 2.1", serverUpdate21, r.json["server"])
	if str(r.json, "server", "name") != "web-1" {
		t.Fatalf("rename: %v", r.json)
	}
	r = sc.must(200, "PUT", "/v2.1/servers/"+id, sc.alice, map[string]any{"server": map[string]any{"description": "d"}}, "mv", "2.75")
	checkFields(t, "update 2.75", serverShow273, r.json["server"])
	// A server created before 2.19 has its name as description.
	r = sc.must(202, "POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{
		"name": "named", "imageRef": sc.imageID, "flavorRef": "1"}}, "mv", "2.18")
	r = sc.must(200, "GET", "/v2.1/servers/"+str(r.json, "server", "id"), sc.alice, nil, "mv", "2.19")
	if str(r.json, "server", "description") != "named" {
		t.Fatalf("description of a 2.18 create: %s", r.raw)
	}
	sc.must(200, "GET", "/v2.1/servers/"+id+"/ips", sc.alice, nil)
	sc.fault(sc.req("GET", "/v2.1/servers/"+id+"/ips/private", sc.alice, nil), 404, "itemNotFound", "Instance is not a member of specified network")
}

func TestServerBuildStateSequence(t *testing.T) {
	sc := newSimCloud(t, 1)
	for _, d := range sc.drivers {
		d.Delay(simulated.OpSpawn, 300*time.Millisecond)
	}
	id := sc.boot(sc.alice, "slow", nil)
	var seen []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := sc.must(200, "GET", "/v2.1/servers/"+id, sc.alice, nil)
		s := str(r.json, "server", "status") + "/" + str(r.json, "server", "OS-EXT-STS:task_state")
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		if s == "ACTIVE/" {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Scheduling may be over before the first GET; spawning lasts 300 ms.
	want := []string{"BUILD/spawning", "ACTIVE/"}
	if !isSubsequence(want, seen) || seen[0][:5] != "BUILD" {
		t.Fatalf("states seen %v, want a BUILD sequence ending with %v", seen, want)
	}
	for _, s := range seen {
		if !strings.HasPrefix(s, "BUILD/") && s != "ACTIVE/" {
			t.Fatalf("unexpected state %s in %v", s, seen)
		}
	}
}

func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestServerCreateValidationInNovaOrder(t *testing.T) {
	sc := newSimCloud(t, 1)
	queued := sc.images.add("", true, "queued", 0, 0, nil)
	big := sc.images.add("", true, "active", 5, 0, []byte("x"))
	private := sc.images.add(sc.projB, false, "active", 0, 0, []byte("x"))
	base := func(kv ...any) map[string]any {
		s := map[string]any{"name": "s", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(s, kv[i].(string))
				continue
			}
			s[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"server": s}
	}
	cases := []struct {
		name string
		body map[string]any
		mv   string
		msg  string
	}{
		{"networks required from 2.37", base("networks", nil), "2.37", "Invalid input for field/attribute server. Value: "},
		{"flavor", base("flavorRef", "999"), "2.37", "Flavor 999 could not be found."},
		{"image missing", base("imageRef", newUUID()), "2.37", "Can not find requested image"},
		{"image of another project", base("imageRef", private), "2.37", "Can not find requested image"},
		{"image not active", base("imageRef", queued), "2.37", "Image " + queued + " is not active."},
		{"flavor too small", base("imageRef", big), "2.37", "Flavor's disk is too small for requested image. Flavor disk is 1073741824 bytes, image is 5368709120 bytes."},
		{"key pair", base("key_name", "nokey"), "2.37", "Invalid key_name provided."},
		{"auto network", base("networks", "auto"), "2.37", "Unable to automatically allocate a network for project " + sc.projA},
		{"network uuid", base("networks", []any{map[string]any{"uuid": "3cb9bc59-5699-4588-a4b1-b87f96708bc6"}}), "2.37",
			"Network 3cb9bc59-5699-4588-a4b1-b87f96708bc6 could not be found."},
		{"security group", base("security_groups", []any{map[string]any{"name": "web"}}), "2.37", "Security group web not found."},
		{"user data", base("user_data", "not base64!"), "2.37", "Invalid input for field/attribute user_data. Value: not base64!. 'not base64!' is not a 'base64'"},
		{"min > max", base("min_count", 3, "max_count", 2), "2.37", "min_count must be <= max_count"},
		{"volume boot", base("imageRef", "", "block_device_mapping_v2", []any{map[string]any{"source_type": "volume",
			"destination_type": "volume", "uuid": "v1", "boot_index": 0}}), "2.37", "Block Device Mapping is Invalid: failed to get volume v1."},
		{"zone", base("availability_zone", "elsewhere"), "2.37", "The requested availability zone is not available"},
		{"tag with slash", base("tags", []any{"a/b"}), "2.52", ""},
		{"description before 2.19", base("description", "x", "networks", nil), "2.18", "Additional properties are not allowed ('description' was unexpected)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sc.req("POST", "/v2.1/servers", sc.alice, c.body, "mv", c.mv)
			if r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if m := str(r.json, "badRequest", "message"); !strings.Contains(m, c.msg) {
				t.Fatalf("message %q, want %q", m, c.msg)
			}
		})
	}
	// Nothing was stored by the refused requests.
	r := sc.must(200, "GET", "/v2.1/servers", sc.alice, nil)
	if n := len(r.json["servers"].([]any)); n != 0 {
		t.Fatalf("%d servers after refused creates", n)
	}
}

func TestServerNoValidHostGoesToError(t *testing.T) {
	sc := newSimCloud(t, 1)
	// m1.xlarge is 16 GiB: 5 of them do not fit in 64 GiB.
	r := sc.must(202, "POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{
		"name": "big", "imageRef": sc.imageID, "flavorRef": "5", "networks": "none", "min_count": 5}}, "mv", "2.37")
	_ = r
	list := sc.must(200, "GET", "/v2.1/servers/detail", sc.alice, nil).json["servers"].([]any)
	if len(list) != 5 {
		t.Fatalf("%d servers", len(list))
	}
	for _, it := range list {
		id := it.(map[string]any)["id"].(string)
		srv := sc.waitStatus(sc.alice, id, "ERROR", 10*time.Second)
		// The fault is written just after the state, as in Nova.
		for i := 0; i < 200 && srv["fault"] == nil; i++ {
			time.Sleep(5 * time.Millisecond)
			srv = sc.must(200, "GET", "/v2.1/servers/"+id, sc.alice, nil).json["server"].(map[string]any)
		}
		f, _ := srv["fault"].(map[string]any)
		if f["code"] != float64(500) || f["message"] != "No valid host was found. There are not enough hosts available." {
			t.Fatalf("fault %v", srv["fault"])
		}
		if _, ok := f["details"]; ok {
			t.Fatalf("a member sees a 500 fault's details: %v", f)
		}
	}
	// Nothing stays claimed.
	u, err := sc.p.Usages(sc.ctx(), "51a7e000-0000-4000-8000-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	for rc, n := range u {
		if n != 0 {
			t.Fatalf("usage %s=%d after no valid host", rc, n)
		}
	}
}

func TestServerForcedHostAndConfigDrive(t *testing.T) {
	sc := newSimCloud(t, 3)
	r := sc.req("POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{"name": "f", "imageRef": sc.imageID,
		"flavorRef": "1", "networks": "none", "availability_zone": "nova:sim-host-0002"}}, "mv", "2.37")
	sc.fault(r, 403, "forbidden", "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.")
	id := sc.boot(sc.admin, "f", map[string]any{"availability_zone": "nova:sim-host-0002",
		"user_data": "I2Nsb3VkLWNvbmZpZw=="})
	srv := sc.waitStatus(sc.admin, id, "ACTIVE", 10*time.Second)
	if srv["OS-EXT-SRV-ATTR:host"] != "sim-host-0002" || srv["OS-EXT-AZ:availability_zone"] != "nova" ||
		srv["OS-EXT-SRV-ATTR:user_data"] != "I2Nsb3VkLWNvbmZpZw==" {
		t.Fatalf("forced host: %v", srv)
	}
	spec, ok := sc.drivers["sim-host-0002"].Spec(id)
	if !ok || !spec.HasConfig {
		t.Fatalf("driver spec %+v: want a config drive", spec)
	}
}

func TestServerGroupHintKeepsServersApart(t *testing.T) {
	sc := newSimCloud(t, 2)
	r := sc.must(200, "POST", "/v2.1/os-server-groups", sc.alice, map[string]any{"server_group": map[string]any{
		"name": "apart", "policies": []any{"anti-affinity"}}})
	g := str(r.json, "server_group", "id")
	hint := map[string]any{"group": g}
	boot := func() string {
		r := sc.must(202, "POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{"name": "g",
			"imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}, "os:scheduler_hints": hint}, "mv", "2.37")
		return str(r.json, "server", "id")
	}
	a := boot()
	sc.waitStatus(sc.alice, a, "ACTIVE", 10*time.Second)
	b := sc.boot(sc.alice, "x", nil)
	_ = b
	c := boot()
	sc.waitStatus(sc.alice, c, "ACTIVE", 10*time.Second)
	ha := str(sc.must(200, "GET", "/v2.1/servers/"+a, sc.admin, nil).json, "server", "OS-EXT-SRV-ATTR:host")
	hc := str(sc.must(200, "GET", "/v2.1/servers/"+c, sc.admin, nil).json, "server", "OS-EXT-SRV-ATTR:host")
	if ha == hc {
		t.Fatalf("anti-affinity members on one host %s", ha)
	}
	// A third member has no host left.
	d := boot()
	sc.waitStatus(sc.alice, d, "ERROR", 10*time.Second)
	r = sc.must(200, "GET", "/v2.1/servers/"+a, sc.alice, nil, "mv", "2.71")
	if l := r.json["server"].(map[string]any)["server_groups"].([]any); len(l) != 1 || l[0] != g {
		t.Fatalf("2.71 server_groups %v", l)
	}
	r = sc.req("POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{"name": "g",
		"imageRef": sc.imageID, "flavorRef": "1", "networks": "none"},
		"os:scheduler_hints": map[string]any{"group": newUUID()}}, "mv", "2.37")
	if r.status != 400 {
		t.Fatalf("unknown group: %d %s", r.status, r.raw)
	}
}

func TestServerRequestedDestinationAndLegacyV2(t *testing.T) {
	sc := newSimCloud(t, 2)
	body := func(extra map[string]any) map[string]any {
		s := map[string]any{"name": "d", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}
		for k, v := range extra {
			s[k] = v
		}
		return map[string]any{"server": s}
	}
	r := sc.req("POST", "/v2.1/servers", sc.alice, body(map[string]any{"host": "sim-host-0001"}), "mv", "2.74")
	sc.fault(r, 403, "forbidden", "Policy doesn't allow compute:servers:create:requested_destination to be performed.")
	r = sc.req("POST", "/v2.1/servers", sc.admin, body(map[string]any{"host": "nowhere"}), "mv", "2.74")
	sc.fault(r, 400, "badRequest", "Compute host nowhere could not be found.")
	r = sc.req("POST", "/v2.1/servers", sc.admin, body(map[string]any{"host": "sim-host-0001"}), "mv", "2.73")
	if r.status != 400 {
		t.Fatalf("host before 2.74: %d", r.status)
	}
	r = sc.must(202, "POST", "/v2.1/servers", sc.admin, body(map[string]any{"host": "sim-host-0001"}), "mv", "2.74")
	srv := sc.waitStatus(sc.admin, str(r.json, "server", "id"), "ACTIVE", 10*time.Second)
	if srv["OS-EXT-SRV-ATTR:host"] != "sim-host-0001" {
		t.Fatalf("requested host: %v", srv["OS-EXT-SRV-ATTR:host"])
	}
	// The legacy /v2 API with the project in the URL: v2.1 behaviour, no
	// networks needed.
	r = sc.must(202, "POST", "/v2/"+sc.projA+"/servers", sc.alice, map[string]any{"server": map[string]any{
		"name": "legacy", "imageRef": sc.imageID, "flavorRef": "1"}})
	id := str(r.json, "server", "id")
	if href := str(r.json["server"].(map[string]any)["links"].([]any)[0].(map[string]any), "href"); !strings.Contains(href, "/v2/"+sc.projA+"/servers/"+id) {
		t.Fatalf("legacy self link %s", href)
	}
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
}
