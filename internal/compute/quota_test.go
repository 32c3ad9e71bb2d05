package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// useKeystoneLimits makes the test cloud read its limits from its real
// identity service, with a compute service registered there and these
// registered defaults; project limits override them per project.
func (tc *testCloud) useKeystoneLimits(defaults map[string]int64) string {
	tc.t.Helper()
	svc := tc.idMust(201, "POST", "/v3/services", map[string]any{"service": map[string]any{"type": "compute", "name": "nova"}}, "service", "id")
	var items []map[string]any
	for name, n := range defaults {
		items = append(items, map[string]any{"service_id": svc, "resource_name": name, "default_limit": n})
	}
	tc.systemPost("/v3/registered_limits", map[string]any{"registered_limits": items})
	tc.svc.cfg.Limits = tc.id
	return svc
}

func (tc *testCloud) projectLimit(svc, project, resource string, n int64) {
	tc.t.Helper()
	tc.systemPost("/v3/limits", map[string]any{"limits": []map[string]any{
		{"service_id": svc, "project_id": project, "resource_name": resource, "resource_limit": n}}})
}

// systemPost creates identity resources that need a system-scoped admin
// token (limits), expecting 201.
func (tc *testCloud) systemPost(path string, body any) {
	tc.t.Helper()
	auth := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": "admin", "domain": map[string]any{"id": "default"}, "password": "pw"}}},
		"scope": map[string]any{"system": map[string]any{"all": true}}}}
	raw, _ := json.Marshal(auth)
	res, err := http.Post(tc.idsrv.URL+"/v3/auth/tokens", "application/json", bytes.NewReader(raw))
	if err != nil {
		tc.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		tc.t.Fatalf("system token: %d", res.StatusCode)
	}
	raw, _ = json.Marshal(body)
	req, _ := http.NewRequest("POST", tc.idsrv.URL+path, bytes.NewReader(raw))
	req.Header.Set("X-Auth-Token", res.Header.Get("X-Subject-Token"))
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		tc.t.Fatalf("identity POST %s: %d", path, res.StatusCode)
	}
}

var (
	quotaAll = []string{"instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items", "key_pairs", "security_groups",
		"security_group_rules", "injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}
	quotaOpt = []string{"server_groups", "server_group_members"}
	// tempest v2_1, v2_36 and v2_57 quotas.py
	quotaSet21  = fieldSet{required: append(slices.Clone(quotaAll), "id"), optional: quotaOpt}
	quotaSet236 = fieldSet{required: without(quotaSet21.required, networkQuotas...), optional: quotaOpt}
	quotaSet257 = fieldSet{required: without(quotaSet236.required, injectedQuotas...), optional: quotaOpt}
	quotaUpd257 = fieldSet{required: without(quotaSet257.required, "id"), optional: quotaOpt}
	// tempest v2_1, v2_50 and v2_57 quota_classes.py
	quotaClass21  = fieldSet{required: quotaSet21.required}
	quotaClass250 = fieldSet{required: append(without(quotaSet21.required, networkQuotas...), quotaOpt...)}
	quotaClass257 = fieldSet{required: without(quotaClass250.required, injectedQuotas...)}
)

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func TestQuotaSetsFromKeystoneLimits(t *testing.T) {
	tc := newTestCloud(t)
	svc := tc.useKeystoneLimits(map[string]int64{resServers: 10, resVCPU: 20, resMemoryMB: 51200, resKeyPairs: 100,
		resServerGroups: 10, resServerGroupMembs: 10, resMetadataItems: 128})
	tc.projectLimit(svc, tc.projA, resServers, 3)
	tc.insertInstance(newUUID(), tc.projA, "h1", 2, 1024, 1, false)
	tc.insertInstance(newUUID(), tc.projA, "h1", 1, 512, 1, true) // shelved offloaded: a server, no resources
	gone := newUUID()
	tc.insertInstance(gone, tc.projA, "h1", 8, 8192, 1, false)
	tc.deleteInstance(gone)
	tc.must(200, "POST", "/v2.1/os-server-groups", tc.alice, map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"affinity"}}})

	for _, c := range []struct {
		mv string
		fs fieldSet
	}{{"2.1", quotaSet21}, {"2.35", quotaSet21}, {"2.36", quotaSet236}, {"2.57", quotaSet257}, {"2.93", quotaSet257}} {
		r := tc.must(200, "GET", "/v2.1/os-quota-sets/"+tc.projA, tc.alice, nil, "mv", c.mv)
		qs := r.json["quota_set"].(map[string]any)
		if p := c.fs.check(qs); p != "" {
			t.Fatalf("%s show: %s", c.mv, p)
		}
		// Project limit, registered defaults, unregistered (0), nova-network (-1).
		if qs["instances"] != 3.0 || qs["cores"] != 20.0 || qs["ram"] != 51200.0 || qs["server_groups"] != 10.0 || qs["id"] != tc.projA {
			t.Fatalf("%s show: %v", c.mv, qs)
		}
		if c.mv == "2.1" && (qs["injected_files"] != 0.0 || qs["fixed_ips"] != -1.0) {
			t.Fatalf("unregistered and network quotas: %v", qs)
		}
		r = tc.must(200, "GET", "/v2.1/os-quota-sets/"+tc.projA+"/detail", tc.alice, nil, "mv", c.mv)
		d := r.json["quota_set"].(map[string]any)
		if p := c.fs.check(d); p != "" {
			t.Fatalf("%s detail: %s", c.mv, p)
		}
		want := map[string][2]float64{"instances": {3, 2}, "cores": {20, 2}, "ram": {51200, 1024}, "server_groups": {10, 1}, "key_pairs": {100, 0}}
		for k, w := range want {
			v := d[k].(map[string]any)
			if v["limit"] != w[0] || v["in_use"] != w[1] || v["reserved"] != 0.0 || len(v) != 3 {
				t.Fatalf("%s detail %s: %v, want limit %v in_use %v", c.mv, k, v, w[0], w[1])
			}
		}
		r = tc.must(200, "GET", "/v2.1/os-quota-sets/"+tc.projA+"/defaults", tc.alice, nil, "mv", c.mv)
		def := r.json["quota_set"].(map[string]any)
		if p := c.fs.check(def); p != "" || def["instances"] != 10.0 {
			t.Fatalf("%s defaults: %s %v", c.mv, p, def)
		}
	}
	// Another project's quotas: only for the admin.
	tc.fault(tc.req("GET", "/v2.1/os-quota-sets/"+tc.projA, tc.bob, nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
	tc.fault(tc.req("GET", "/v2.1/os-quota-sets/"+tc.projA+"/detail", tc.bob, nil), 403, "forbidden", "")
	r := tc.must(200, "GET", "/v2.1/os-quota-sets/"+tc.projB, tc.admin, nil)
	if r.json["quota_set"].(map[string]any)["instances"] != 10.0 {
		t.Fatalf("project B: %s", r.raw)
	}
	tc.fault(tc.req("GET", "/v2.1/os-quota-sets/0123456789abcdef0123456789abcdef", tc.admin, nil), 400, "badRequest",
		"Project ID 0123456789abcdef0123456789abcdef is not a valid project.")
	tc.fault(tc.req("GET", "/v2.1/os-quota-sets/"+tc.projA+"?foo=1", tc.alice, nil, "mv", "2.75"), 400, "badRequest", "")
}

func TestQuotaSetUpdateAndDeleteUnderUnifiedLimits(t *testing.T) {
	tc := newTestCloud(t)
	tc.useKeystoneLimits(map[string]int64{resServers: 10, resVCPU: 20, resMemoryMB: 51200})
	path := "/v2.1/os-quota-sets/" + tc.projA
	// Non-admins may not; admins get 200 and the unchanged values.
	tc.fault(tc.req("PUT", path, tc.alice, map[string]any{"quota_set": map[string]any{"instances": 50}}), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
	r := tc.must(200, "PUT", path, tc.admin, map[string]any{"quota_set": map[string]any{"instances": 50, "force": "True"}}, "mv", "2.57")
	qs := r.json["quota_set"].(map[string]any)
	if p := quotaUpd257.check(qs); p != "" || qs["instances"] != 10.0 {
		t.Fatalf("update: %s %s", p, r.raw)
	}
	tc.fault(tc.req("PUT", path, tc.admin, map[string]any{"quota_set": map[string]any{"networks": 5}}), 400, "badRequest", "The networks quota has been removed")
	tc.fault(tc.req("PUT", path, tc.admin, map[string]any{"quota_set": map[string]any{"networks": 5}}, "mv", "2.36"), 400, "badRequest",
		"Invalid input for field/attribute quota_set. Value: {'networks': 5}. Additional properties are not allowed ('networks' was unexpected)")
	tc.fault(tc.req("PUT", path, tc.admin, map[string]any{"quota_set": map[string]any{"instances": -2}}), 400, "badRequest",
		"Invalid input for field/attribute instances. Value: -2. -2 is less than the minimum of -1")
	tc.fault(tc.req("PUT", path, tc.admin, map[string]any{"quota_set": map[string]any{"cores": "many"}}), 400, "badRequest", "")
	tc.fault(tc.req("PUT", path, tc.admin, map[string]any{"quota_set": map[string]any{"injected_files": 1}}, "mv", "2.57"), 400, "badRequest", "")
	tc.fault(tc.req("DELETE", path, tc.alice, nil), 403, "forbidden", "")
	tc.must(202, "DELETE", path, tc.admin, nil)
	r = tc.must(200, "GET", path, tc.alice, nil)
	if r.json["quota_set"].(map[string]any)["instances"] != 10.0 {
		t.Fatalf("after delete: %s", r.raw)
	}
}

func TestQuotaClassSets(t *testing.T) {
	tc := newTestCloud(t)
	tc.useKeystoneLimits(map[string]int64{resServers: 7, resServerGroups: 4})
	for _, c := range []struct {
		mv string
		fs fieldSet
	}{{"2.1", quotaClass21}, {"2.50", quotaClass250}, {"2.57", quotaClass257}} {
		r := tc.must(200, "GET", "/v2.1/os-quota-class-sets/default", tc.admin, nil, "mv", c.mv)
		qc := r.json["quota_class_set"].(map[string]any)
		if p := c.fs.check(qc); p != "" || qc["id"] != "default" || qc["instances"] != 7.0 {
			t.Fatalf("%s: %s %v", c.mv, p, qc)
		}
		upd := without(c.fs.required, "id")
		r = tc.must(200, "PUT", "/v2.1/os-quota-class-sets/default", tc.admin, map[string]any{"quota_class_set": map[string]any{"instances": 50}}, "mv", c.mv)
		if p := (fieldSet{required: upd}).check(r.json["quota_class_set"]); p != "" {
			t.Fatalf("%s update: %s", c.mv, p)
		}
	}
	tc.fault(tc.req("GET", "/v2.1/os-quota-class-sets/default", tc.alice, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed.")
	tc.fault(tc.req("PUT", "/v2.1/os-quota-class-sets/default", tc.admin, map[string]any{"quota_class_set": map[string]any{"injected_files": 1}}, "mv", "2.57"), 400, "badRequest", "")
	tc.must(200, "PUT", "/v2.1/os-quota-class-sets/default", tc.admin, map[string]any{"quota_class_set": map[string]any{"server_groups": 1, "networks": 1}}, "mv", "2.1")
}

func TestLimitsPerMicroversion(t *testing.T) {
	tc := newTestCloud(t)
	svc := tc.useKeystoneLimits(map[string]int64{resServers: 10, resVCPU: 20, resMemoryMB: 51200, resKeyPairs: 100, resMetadataItems: 128,
		resInjectedFiles: 5, resInjectedContent: 10240, resServerGroups: 10, resServerGroupMembs: 10})
	tc.projectLimit(svc, tc.projB, resVCPU, 4)
	tc.insertInstance(newUUID(), tc.projB, "h1", 2, 2048, 10, false)
	absolute21 := []string{"maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxSecurityGroupRules", "maxSecurityGroups", "maxServerMeta",
		"maxTotalCores", "maxTotalFloatingIps", "maxTotalInstances", "maxTotalKeypairs", "maxTotalRAMSize", "totalCoresUsed",
		"totalFloatingIpsUsed", "totalInstancesUsed", "totalRAMUsed", "totalSecurityGroupsUsed"}
	opt := []string{"maxServerGroupMembers", "maxServerGroups", "totalServerGroupsUsed"}
	abs236 := without(absolute21, "maxSecurityGroupRules", "maxSecurityGroups", "maxTotalFloatingIps", "totalFloatingIpsUsed", "totalSecurityGroupsUsed")
	abs239 := without(abs236, "maxImageMeta")
	abs257 := without(abs239, "maxPersonality", "maxPersonalitySize")
	for _, c := range []struct {
		mv  string
		req []string
	}{{"2.1", absolute21}, {"2.36", abs236}, {"2.39", abs239}, {"2.57", abs257}} {
		r := tc.must(200, "GET", "/v2.1/limits", tc.bob, nil, "mv", c.mv)
		l := r.json["limits"].(map[string]any)
		if rate, ok := l["rate"].([]any); !ok || len(rate) != 0 || len(l) != 2 {
			t.Fatalf("%s: %s", c.mv, r.raw)
		}
		abs := l["absolute"].(map[string]any)
		if p := (fieldSet{required: c.req, optional: opt}).check(abs); p != "" {
			t.Fatalf("%s: %s", c.mv, p)
		}
		if abs["maxTotalCores"] != 4.0 || abs["totalCoresUsed"] != 2.0 || abs["totalRAMUsed"] != 2048.0 || abs["totalInstancesUsed"] != 1.0 || abs["maxTotalInstances"] != 10.0 {
			t.Fatalf("%s: %v", c.mv, abs)
		}
	}
	// tenant_id is for admins.
	tc.fault(tc.req("GET", "/v2.1/limits?tenant_id="+tc.projB, tc.alice, nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:limits:other_project to be performed.")
	r := tc.must(200, "GET", "/v2.1/limits?tenant_id="+tc.projB, tc.admin, nil)
	if abs := r.json["limits"].(map[string]any)["absolute"].(map[string]any); abs["totalCoresUsed"] != 2.0 {
		t.Fatalf("admin for B: %v", abs)
	}
	r = tc.must(200, "GET", "/v2.1/limits", tc.alice, nil)
	if abs := r.json["limits"].(map[string]any)["absolute"].(map[string]any); abs["totalCoresUsed"] != 0.0 || abs["maxTotalCores"] != 20.0 {
		t.Fatalf("project A: %v", abs)
	}
	tc.fault(tc.req("GET", "/v2.1/limits?bogus=1", tc.alice, nil, "mv", "2.75"), 400, "badRequest", "")
}

func TestLimitsWithoutLimitReaderAreUnlimited(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(200, "GET", "/v2.1/limits", tc.alice, nil)
	if abs := r.json["limits"].(map[string]any)["absolute"].(map[string]any); abs["maxTotalInstances"] != -1.0 {
		t.Fatalf("%v", abs)
	}
	if err := tc.svc.checkInstanceQuota(context.Background(), tc.projA, tc.users["alice"], 1000, 64, 1<<20); err != nil {
		t.Fatal(err)
	}
}

func TestInstanceQuotaChecks(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	svc := tc.useKeystoneLimits(map[string]int64{resServers: 3, resVCPU: 8, resMemoryMB: 4096, resDiskGB: -1})
	tc.projectLimit(svc, tc.projB, resServers, 0)
	tc.insertInstance(newUUID(), tc.projA, "h1", 2, 1024, 1, false)
	tc.insertInstance(newUUID(), tc.projA, "h1", 2, 1024, 1, false)
	if err := tc.svc.checkInstanceQuota(ctx, tc.projA, "", 1, 4, 2048); err != nil {
		t.Fatal(err)
	}
	wantForbidden(t, tc.svc.checkInstanceQuota(ctx, tc.projA, "", 2, 1, 64),
		"Project "+tc.projA+" is over a limit for [Resource servers is over limit of 3 due to current usage 2 and delta 2]")
	// Several resources over: oslo.limit lists them by name.
	wantForbidden(t, tc.svc.checkInstanceQuota(ctx, tc.projA, "", 1, 5, 4096),
		"Project "+tc.projA+" is over a limit for [Resource class:MEMORY_MB is over limit of 4096 due to current usage 2048 and delta 4096, "+
			"Resource class:VCPU is over limit of 8 due to current usage 4 and delta 5]")
	wantForbidden(t, tc.svc.checkInstanceQuota(ctx, tc.projB, "", 1, 1, 64),
		"Project "+tc.projB+" is over a limit for [Resource servers is over limit of 0 due to current usage 0 and delta 1]")
	// min_count/max_count: the most that fit; DISK_GB -1 is unlimited.
	n, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 1, 5, InstanceResources{VCPUs: 1, MemoryMB: 512, DiskGB: 100})
	if err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
	_, err = tc.svc.instanceQuotaCount(ctx, tc.projA, 2, 5, InstanceResources{VCPUs: 1, MemoryMB: 512})
	wantForbidden(t, err, "Project "+tc.projA+" is over a limit for [Resource class:MEMORY_MB is over limit of 4096 due to current usage 2048 and delta 2560, "+
		"Resource class:VCPU is over limit of 8 due to current usage 4 and delta 5, Resource servers is over limit of 3 due to current usage 2 and delta 5]")

	// Metadata and injected files: the request's own size against the limit;
	// a resource with no registered limit allows nothing.
	wantForbidden(t, tc.svc.checkMetadataQuota(ctx, tc.projA, 1),
		"Project "+tc.projA+" is over a limit for [Resource server_metadata_items is over limit of 0 due to current usage 0 and delta 1]")
	if err := tc.svc.checkMetadataQuota(ctx, tc.projA, 0); err != nil {
		t.Fatal(err)
	}
	if err := tc.svc.checkInjectedFilesQuota(ctx, tc.projA, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestKeypairAndServerGroupQuotaChecks(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = fixedLimits{resKeyPairs: 1, resServerGroups: 1, resMetadataItems: 2} })
	ctx := context.Background()
	if err := tc.svc.checkKeypairQuota(ctx, tc.projA, tc.users["alice"]); err != nil {
		t.Fatal(err)
	}
	tc.must(201, "POST", "/v2.1/os-keypairs", tc.alice, map[string]any{"keypair": map[string]any{"name": "k"}}, "mv", "2.2")
	wantForbidden(t, tc.svc.checkKeypairQuota(ctx, tc.projA, tc.users["alice"]),
		"Project "+tc.projA+" is over a limit for [Resource server_key_pairs is over limit of 1 due to current usage 1 and delta 1]")
	if err := tc.svc.checkKeypairQuota(ctx, tc.projA, tc.users["carol"]); err != nil {
		t.Fatal("key pairs are counted per user:", err)
	}
	if err := tc.svc.checkServerGroupQuota(ctx, tc.projA); err != nil {
		t.Fatal(err)
	}
	tc.must(200, "POST", "/v2.1/os-server-groups", tc.alice, map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"affinity"}}})
	wantForbidden(t, tc.svc.checkServerGroupQuota(ctx, tc.projA),
		"Project "+tc.projA+" is over a limit for [Resource server_groups is over limit of 1 due to current usage 1 and delta 1]")
	if err := tc.svc.checkMetadataQuota(ctx, tc.projA, 2); err != nil {
		t.Fatal(err)
	}
	wantForbidden(t, tc.svc.checkMetadataQuota(ctx, tc.projA, 3),
		"Project "+tc.projA+" is over a limit for [Resource server_metadata_items is over limit of 2 due to current usage 0 and delta 3]")
}

// TestResizeQuotaCheck is the servers API's resize check: count 0 and the
// flavor's growth.
func TestResizeQuotaCheck(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = fixedLimits{resServers: 1, resVCPU: 4, resMemoryMB: 4096} })
	ctx := context.Background()
	tc.insertInstance(newUUID(), tc.projA, "h1", 2, 2048, 1, false)
	if _, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 0, 0, InstanceResources{VCPUs: 2, MemoryMB: 2048}); err != nil {
		t.Fatal("growing to the limit:", err)
	}
	_, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 0, 0, InstanceResources{VCPUs: 3})
	wantForbidden(t, err, "Project "+tc.projA+" is over a limit for [Resource class:VCPU is over limit of 4 due to current usage 2 and delta 3]")
	// A server at its servers limit may still resize (no new server).
	if _, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 0, 0, InstanceResources{}); err != nil {
		t.Fatal(err)
	}
}

// The resize API checks the disk growth too: root, ephemeral and swap
// (rounded up to GB) of the new flavor over the old one.
func TestResizeQuotaChecksDiskGrowth(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) {
		c.Limits = fixedLimits{resServers: 1, resVCPU: 10, resMemoryMB: 10240, resDiskGB: 5}
	})
	ctx := context.Background()
	tc.insertInstance(newUUID(), tc.projA, "h1", 1, 512, 1, false)
	old := instFlavor{VCPUs: 1, MemoryMB: 512, RootGB: 1}
	g := resizeGrowth(old, &Flavor{VCPUs: 1, MemoryMB: 256, RootGB: 3, EphemeralGB: 1, Swap: 1})
	if g != (InstanceResources{VCPUs: 0, MemoryMB: 0, DiskGB: 4}) {
		t.Fatalf("growth %+v", g)
	}
	if _, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 0, 0, g); err != nil {
		t.Fatal("growing to the disk limit:", err)
	}
	_, err := tc.svc.instanceQuotaCount(ctx, tc.projA, 0, 0, resizeGrowth(old, &Flavor{VCPUs: 1, MemoryMB: 512, RootGB: 6}))
	wantForbidden(t, err, "Project "+tc.projA+" is over a limit for [Resource class:DISK_GB is over limit of 5 due to current usage 1 and delta 5]")
}
