package identity

import (
	"context"
	"testing"
)

// TestProjectLimitsMatchesProjectLimit: the one-query batch gives, for every
// project, region and resource, what ProjectLimit gives one at a time
// (own limit over default, the region's registration over the
// region-less one, nothing registered = absent), and sees writes at once.
func TestProjectLimitsMatchesProjectLimit(t *testing.T) {
	tc := newTestCloud(t)
	sys := tc.systemToken()
	ctx := context.Background()
	compute := tc.newService("compute")
	image := tc.newService("image")
	tc.must(201, "POST", "/v3/registered_limits", sys, map[string]any{"registered_limits": []any{
		map[string]any{"service_id": compute, "resource_name": "cores", "default_limit": 10.0},
		map[string]any{"service_id": compute, "resource_name": "cores", "region_id": "RegionOne", "default_limit": 8.0},
		map[string]any{"service_id": compute, "resource_name": "instances", "default_limit": 4.0},
		map[string]any{"service_id": compute, "resource_name": "ram", "region_id": "RegionOne", "default_limit": 512.0},
		map[string]any{"service_id": image, "resource_name": "cores", "default_limit": 99.0},
	}})
	p2 := str(tc.must(201, "POST", "/v3/projects", tc.adminToken, map[string]any{"project": map[string]any{"name": "p2", "domain_id": "default"}}), "project", "id")
	tc.must(201, "POST", "/v3/limits", sys, map[string]any{"limits": []any{
		map[string]any{"project_id": p2, "service_id": compute, "resource_name": "cores", "resource_limit": 3.0},
		map[string]any{"project_id": p2, "service_id": compute, "resource_name": "cores", "region_id": "RegionOne", "resource_limit": 2.0},
		map[string]any{"project_id": tc.adminProj, "service_id": compute, "resource_name": "instances", "resource_limit": -1.0},
	}})
	resources := []string{"cores", "instances", "ram", "gpus"}
	check := func(stage string) {
		t.Helper()
		for _, project := range []string{tc.adminProj, p2} {
			for _, region := range []string{"", "RegionOne", "RegionTwo"} {
				got, err := tc.svc.ProjectLimits(ctx, project, "compute", region, resources)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range resources {
					want, ok, err := tc.svc.ProjectLimit(ctx, project, "compute", region, r)
					if err != nil {
						t.Fatal(err)
					}
					g, gok := got[r]
					if g != want || gok != ok {
						t.Errorf("%s: ProjectLimits(%s, %q)[%s] = %d, %v; ProjectLimit = %d, %v", stage, project, region, r, g, gok, want, ok)
					}
				}
			}
		}
	}
	check("initial")
	if got, _ := tc.svc.ProjectLimits(ctx, p2, "compute", "RegionOne", resources); got["cores"] != 2 || got["instances"] != 4 || got["ram"] != 512 {
		t.Fatalf("p2 in RegionOne: %v", got)
	}
	// A write is seen by the next read (nothing is cached).
	tc.must(201, "POST", "/v3/limits", sys, map[string]any{"limits": []any{
		map[string]any{"project_id": p2, "service_id": compute, "resource_name": "instances", "resource_limit": 7.0}}})
	if got, _ := tc.svc.ProjectLimits(ctx, p2, "compute", "", resources); got["instances"] != 7 {
		t.Fatalf("after a new limit: %v", got)
	}
	check("after write")
	if got, err := tc.svc.ProjectLimits(ctx, p2, "compute", "", nil); err != nil || len(got) != 0 {
		t.Fatalf("no resources: %v, %v", got, err)
	}
}
