package compute

import (
	"context"
	"slices"
	"sync"
	"testing"
)

var (
	// tempest v2_1, v2_13 and v2_64 server_groups.py
	serverGroup21  = fieldSet{required: []string{"id", "name", "policies", "members", "metadata"}}
	serverGroup213 = fieldSet{required: []string{"id", "name", "policies", "members", "metadata", "project_id", "user_id"}}
	serverGroup264 = fieldSet{required: []string{"id", "name", "policy", "rules", "members", "project_id", "user_id"}}
)

func TestServerGroupsFieldSetsPerMicroversion(t *testing.T) {
	tc := newTestCloud(t)
	for _, c := range []struct {
		mv   string
		body map[string]any
		fs   fieldSet
	}{
		{"2.1", map[string]any{"name": "g1", "policies": []string{"affinity"}}, serverGroup21},
		{"2.15", map[string]any{"name": "g2", "policies": []string{"soft-anti-affinity"}}, serverGroup213},
		{"2.64", map[string]any{"name": "g3", "policy": "anti-affinity", "rules": map[string]any{"max_server_per_host": 3}}, serverGroup264},
	} {
		r := tc.must(200, "POST", "/v2.1/os-server-groups", tc.alice, map[string]any{"server_group": c.body}, "mv", c.mv)
		g := r.json["server_group"]
		if p := c.fs.check(g); p != "" {
			t.Fatalf("%s create: %s: %s", c.mv, p, r.raw)
		}
		id := str(r.json, "server_group", "id")
		r = tc.must(200, "GET", "/v2.1/os-server-groups/"+id, tc.alice, nil, "mv", c.mv)
		if p := c.fs.check(r.json["server_group"]); p != "" {
			t.Fatalf("%s show: %s", c.mv, p)
		}
		r = tc.must(200, "GET", "/v2.1/os-server-groups", tc.alice, nil, "mv", c.mv)
		for _, g := range r.json["server_groups"].([]any) {
			if p := c.fs.check(g); p != "" {
				t.Fatalf("%s list: %s", c.mv, p)
			}
		}
	}
	// The 2.64 group seen through 2.1 shows its policy as a list.
	r := tc.must(200, "GET", "/v2.1/os-server-groups", tc.alice, nil)
	var pols []string
	for _, g := range r.json["server_groups"].([]any) {
		pols = append(pols, g.(map[string]any)["policies"].([]any)[0].(string))
	}
	if !slices.Equal(pols, []string{"affinity", "soft-anti-affinity", "anti-affinity"}) {
		t.Fatalf("policies %v", pols)
	}
	r = tc.must(200, "GET", "/v2.1/os-server-groups", tc.alice, nil, "mv", "2.64")
	rules := r.json["server_groups"].([]any)[2].(map[string]any)["rules"].(map[string]any)
	if rules["max_server_per_host"] != float64(3) {
		t.Fatalf("rules %v", rules)
	}
}

func TestServerGroupsBadInput(t *testing.T) {
	tc := newTestCloud(t)
	post := func(mv string, body any) resp {
		return tc.req("POST", "/v2.1/os-server-groups", tc.alice, body, "mv", mv)
	}
	tc.fault(post("2.1", map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"soft-affinity"}}}), 400, "badRequest",
		"")
	tc.fault(post("2.64", map[string]any{"server_group": map[string]any{"name": "g", "policy": "affinity", "rules": map[string]any{"max_server_per_host": 2}}}), 400, "badRequest",
		"Only anti-affinity policy supports rules.")
	tc.fault(post("2.64", map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"affinity"}}}), 400, "badRequest", "")
	tc.fault(post("2.64", map[string]any{"server_group": map[string]any{"name": "g", "policy": "anti-affinity", "rules": map[string]any{"max_server_per_host": 0}}}), 400, "badRequest",
		"Invalid input for field/attribute max_server_per_host. Value: 0. 0 is less than the minimum of 1")
	tc.fault(post("2.1", map[string]any{"server_group": map[string]any{"name": "", "policies": []string{"affinity"}}}), 400, "badRequest", "")
	tc.fault(tc.req("GET", "/v2.1/os-server-groups?limit=-1", tc.alice, nil), 400, "badRequest", "")
	tc.fault(tc.req("GET", "/v2.1/os-server-groups?foo=1", tc.alice, nil, "mv", "2.75"), 400, "badRequest",
		"Additional properties are not allowed ('foo' was unexpected)")
	tc.must(200, "GET", "/v2.1/os-server-groups?foo=1", tc.alice, nil, "mv", "2.74")
	tc.fault(tc.req("GET", "/v2.1/os-server-groups/nope", tc.alice, nil), 404, "itemNotFound", "Instance group nope could not be found.")
}

func TestServerGroupsIsolationAndAdmin(t *testing.T) {
	tc := newTestCloud(t)
	create := func(tok, name string) string {
		r := tc.must(200, "POST", "/v2.1/os-server-groups", tok, map[string]any{"server_group": map[string]any{"name": name, "policies": []string{"affinity"}}})
		return str(r.json, "server_group", "id")
	}
	a := create(tc.alice, "a")
	b := create(tc.bob, "b")
	// bob cannot see or delete alice's group.
	tc.fault(tc.req("GET", "/v2.1/os-server-groups/"+a, tc.bob, nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-server-groups:show to be performed.")
	tc.fault(tc.req("DELETE", "/v2.1/os-server-groups/"+a, tc.bob, nil), 403, "forbidden", "")
	// A reader of A sees it (Nova's legacy defaults, enforce_new_defaults
	// False, let any role of the project write too).
	tc.must(200, "GET", "/v2.1/os-server-groups/"+a, tc.rita, nil)
	names := func(tok, q string) []string {
		r := tc.must(200, "GET", "/v2.1/os-server-groups"+q, tok, nil)
		var out []string
		for _, g := range r.json["server_groups"].([]any) {
			out = append(out, g.(map[string]any)["name"].(string))
		}
		return out
	}
	if n := names(tc.bob, "?all_projects=True"); !slices.Equal(n, []string{"b"}) {
		t.Fatalf("bob all_projects sees %v", n)
	}
	if n := names(tc.admin, "?all_projects=True"); !slices.Equal(n, []string{"a", "b"}) {
		t.Fatalf("admin all_projects sees %v", n)
	}
	if n := names(tc.admin, ""); len(n) != 0 {
		t.Fatalf("admin's own groups %v", n)
	}
	if n := names(tc.admin, "?all_projects=1&limit=1&offset=1"); !slices.Equal(n, []string{"b"}) {
		t.Fatalf("limit/offset %v", n)
	}
	// The admin may show and delete any group.
	tc.must(200, "GET", "/v2.1/os-server-groups/"+b, tc.admin, nil)
	tc.must(204, "DELETE", "/v2.1/os-server-groups/"+b, tc.admin, nil)
	tc.fault(tc.req("GET", "/v2.1/os-server-groups/"+b, tc.bob, nil), 404, "itemNotFound", "")
	tc.must(204, "DELETE", "/v2.1/os-server-groups/"+a, tc.carol, nil)
}

// TestServerGroupMembersForScheduling drives the hooks the servers API
// uses: members join (and their hosts show once scheduled), deleted
// instances drop out, and the member quota is enforced.
func TestServerGroupMembersForScheduling(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = fixedLimits{resServerGroupMembs: 2, resServerGroups: 10} })
	ctx := context.Background()
	r := tc.must(200, "POST", "/v2.1/os-server-groups", tc.alice, map[string]any{"server_group": map[string]any{"name": "g", "policy": "anti-affinity", "rules": map[string]any{"max_server_per_host": "2"}}}, "mv", "2.64")
	gid := str(r.json, "server_group", "id")
	if _, err := tc.svc.serverGroupForSchedule(ctx, gid, tc.projB); err != errNotFound {
		t.Fatalf("other project's group: %v", err)
	}
	i1, i2, i3 := newUUID(), newUUID(), newUUID()
	tc.insertInstance(i1, tc.projA, "host1", 1, 512, 1, false)
	for _, u := range []string{i1, i2, i1} {
		if err := tc.svc.addServerGroupMember(ctx, gid, u); err != nil {
			t.Fatal(err)
		}
	}
	err := tc.svc.addServerGroupMember(ctx, gid, i3)
	wantForbidden(t, err, "Project "+tc.projA+" is over a limit for [Resource server_group_members is over limit of 2 due to current usage 2 and delta 1]")
	g, err := tc.svc.serverGroupForSchedule(ctx, gid, tc.projA)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Members, []string{i1, i2}) || g.Hosts[i1] != "host1" || g.MaxServerPerHost() != 2 {
		t.Fatalf("group %+v", g)
	}
	sg := g.SchedulerGroup()
	if sg.Policy != "anti-affinity" || !slices.Equal(sg.MemberHosts, []string{"host1"}) || sg.MaxServerPerHost != 2 {
		t.Fatalf("scheduler group %+v", sg)
	}
	// A deleted member no longer counts: i3 fits now.
	tc.deleteInstance(i1)
	if err := tc.svc.addServerGroupMember(ctx, gid, i3); err != nil {
		t.Fatal(err)
	}
	r = tc.must(200, "GET", "/v2.1/os-server-groups/"+gid, tc.alice, nil)
	if m := r.json["server_group"].(map[string]any)["members"].([]any); len(m) != 2 || m[0] != i2 || m[1] != i3 {
		t.Fatalf("members %v", m)
	}
	if in, _ := tc.svc.serverGroupOf(ctx, i3); in != gid {
		t.Fatalf("group of i3: %q", in)
	}
}

func TestServerGroupQuota(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = fixedLimits{resServerGroups: 1} })
	body := map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"affinity"}}}
	tc.must(200, "POST", "/v2.1/os-server-groups", tc.alice, body)
	tc.fault(tc.req("POST", "/v2.1/os-server-groups", tc.carol, body), 403, "forbidden",
		"Project "+tc.projA+" is over a limit for [Resource server_groups is over limit of 1 due to current usage 1 and delta 1]")
	tc.must(200, "POST", "/v2.1/os-server-groups", tc.bob, body)
}

// TestServerGroupQuotaConcurrent: racing creates and member additions
// cannot pass the limits, as the count and the insert share a transaction.
func TestServerGroupQuotaConcurrent(t *testing.T) {
	tc := newTestCloud(t, func(c *Config) { c.Limits = fixedLimits{resServerGroups: 3, resServerGroupMembs: 4} })
	body := map[string]any{"server_group": map[string]any{"name": "g", "policies": []string{"anti-affinity"}}}
	const n = 10
	codes := make(chan int, n)
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := tc.req("POST", "/v2.1/os-server-groups", tc.alice, body)
			codes <- r.status
			if r.status == 200 {
				ids <- str(r.json, "server_group", "id")
			}
		}()
	}
	wg.Wait()
	close(codes)
	close(ids)
	created := 0
	for c := range codes {
		switch c {
		case 200:
			created++
		case 403:
		default:
			t.Fatalf("status %d", c)
		}
	}
	if created != 3 {
		t.Fatalf("%d groups created, limit 3", created)
	}
	gid := <-ids
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- tc.svc.addServerGroupMember(context.Background(), gid, newUUID())
		}()
	}
	wg.Wait()
	close(errs)
	added := 0
	for err := range errs {
		if err == nil {
			added++
		}
	}
	g, err := tc.svc.serverGroupForSchedule(context.Background(), gid, "")
	if err != nil || added != 4 || len(g.Members) != 4 {
		t.Fatalf("added %d, members %v, %v", added, g, err)
	}
}
