package compute

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"
)

// ConfirmResize moves the migration's allocation onto the instance in one
// step: a claim racing with it can never take the room the migration gave
// back before the instance grew into it, so the confirm never fails.
func TestConfirmResizeIsAtomic(t *testing.T) {
	sc := newSimCloud(t, 1)
	ctx := sc.ctx()
	const prov = "51a7e000-0000-4000-8000-000000000000"
	claims := sc.svc.PlacementClaims(sc.p)
	user := sc.users["alice"]
	for i := range 40 {
		inst, mig, filler, squat := newUUID(), newUUID(), newUUID(), newUUID()
		if err := sc.p.Claim(ctx, inst, sc.projA, user, prov, map[string]int64{"MEMORY_MB": 512}); err != nil {
			t.Fatal(err)
		}
		if err := sc.svc.instances().createMigration(ctx, mig, inst, "sim-host-0000", "1", "2"); err != nil {
			t.Fatal(err)
		}
		if err := claims.ClaimResize(ctx, inst, mig, sc.projA, user, map[string]int64{"MEMORY_MB": 2048}); err != nil {
			t.Fatal(err)
		}
		// 100 MB stay free; the squatter wants what the migration holds too.
		if err := sc.p.Claim(ctx, filler, sc.projA, user, prov, map[string]int64{"MEMORY_MB": 65024 - 512 - 2048 - 100}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		squatted := make(chan bool, 1)
		go func() {
			got := false
			for range 100000 {
				if sc.p.Claim(ctx, squat, sc.projA, user, prov, map[string]int64{"MEMORY_MB": 100 + 2048}) == nil {
					got = true
					break
				}
				select {
				case <-done:
					squatted <- got
					return
				default:
				}
			}
			squatted <- got
		}()
		err := claims.ConfirmResize(ctx, inst)
		close(done)
		if got := <-squatted; got || err != nil {
			t.Fatalf("round %d: confirm %v, racing claim succeeded %v", i, err, got)
		}
		a, err := sc.p.Allocations(ctx, inst)
		if err != nil || len(a.Allocations) != 1 || a.Allocations[0].Resources["MEMORY_MB"] != 2048 {
			t.Fatalf("instance allocations %+v %v", a, err)
		}
		if a, _ := sc.p.Allocations(ctx, mig); len(a.Allocations) != 0 {
			t.Fatalf("migration keeps %+v", a)
		}
		for _, c := range []string{inst, filler} {
			if err := sc.p.Release(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The server_group_members quota is checked before any instance is stored:
// a refused request leaves no server behind (Nova's _provision_instances).
func TestServerGroupMemberQuotaBeforeCreate(t *testing.T) {
	lim := fixedLimits{}
	for k, v := range DefaultLimits {
		lim[k] = v
	}
	lim[resServerGroupMembs] = 1
	sc := newSimCloud(t, 1, func(c *Config) { c.Limits = lim })
	r := sc.must(200, "POST", "/v2.1/os-server-groups", sc.alice, map[string]any{"server_group": map[string]any{
		"name": "g", "policies": []any{"affinity"}}})
	g := str(r.json, "server_group", "id")
	boot := func(extra map[string]any) resp {
		srv := map[string]any{"name": "m", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none"}
		for k, v := range extra {
			srv[k] = v
		}
		return sc.req("POST", "/v2.1/servers", sc.alice, map[string]any{"server": srv,
			"os:scheduler_hints": map[string]any{"group": g}}, "mv", "2.37")
	}
	if r := boot(nil); r.status != 202 {
		t.Fatalf("first member: %d %s", r.status, r.raw)
	}
	sc.fault(boot(nil), 403, "forbidden", "Quota exceeded, too many servers in group")
	sc.fault(boot(map[string]any{"min_count": 2, "max_count": 2}), 403, "forbidden", "Quota exceeded, too many servers in group")
	r = sc.must(200, "GET", "/v2.1/servers", sc.alice, nil)
	if l := r.json["servers"].([]any); len(l) != 1 {
		t.Fatalf("servers after refused creates: %s", r.raw)
	}
}

// Concurrent boots into a hard anti-affinity group over two hosts: the
// group's scheduling is serialised, so no two members share a host (the
// ones that find no host go to ERROR).
func TestGroupSchedulingIsSerialised(t *testing.T) {
	sc := newSimCloud(t, 2)
	r := sc.must(200, "POST", "/v2.1/os-server-groups", sc.alice, map[string]any{"server_group": map[string]any{
		"name": "apart", "policies": []any{"anti-affinity"}}})
	g := str(r.json, "server_group", "id")
	const n = 6
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		raw, _ := json.Marshal(map[string]any{"server": map[string]any{"name": "a", "imageRef": sc.imageID,
			"flavorRef": "1", "networks": "none"}, "os:scheduler_hints": map[string]any{"group": g}})
		req, _ := http.NewRequest("POST", sc.srv.URL+"/v2.1/servers", bytes.NewReader(raw))
		req.Header.Set("X-Auth-Token", sc.alice)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-OpenStack-Nova-API-Version", "2.37")
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				ids <- ""
				return
			}
			defer res.Body.Close()
			var out struct{ Server struct{ ID string } }
			_ = json.NewDecoder(res.Body).Decode(&out)
			ids <- out.Server.ID
		}()
	}
	wg.Wait()
	close(ids)
	hosts := map[string]string{}
	active := 0
	for id := range ids {
		if id == "" {
			t.Fatal("a create failed")
		}
		var st string
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			s := sc.must(200, "GET", "/v2.1/servers/"+id, sc.admin, nil).json["server"].(map[string]any)
			st = s["status"].(string)
			if st == "ACTIVE" || st == "ERROR" {
				if st == "ACTIVE" {
					active++
					h := s["OS-EXT-SRV-ATTR:host"].(string)
					if other, ok := hosts[h]; ok {
						t.Fatalf("members %s and %s both on %s", other, id, h)
					}
					hosts[h] = id
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if st != "ACTIVE" && st != "ERROR" {
			t.Fatalf("server %s still %s", id, st)
		}
	}
	if active != 2 {
		t.Fatalf("%d members active, want one per host (2)", active)
	}
}
