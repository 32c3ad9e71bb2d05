package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/compute/manager"
)

// listChecker lists /servers/detail and /servers through the cached
// handlers and through refListServers (whole rows read from the database
// every time, maps and encoding/json), as a member and as an admin, and
// wants the same bytes.
type listChecker struct {
	t                   *testing.T
	tc                  *testCloud
	fast, ref           http.Handler
	fastBrief, refBrief http.Handler
}

func newListChecker(t *testing.T, tc *testCloud) *listChecker {
	return &listChecker{t: t, tc: tc, fast: tc.svc.dispatch(route{handle: listServers(true)}),
		ref:       tc.svc.dispatch(route{handle: refListServers(true)}),
		fastBrief: tc.svc.dispatch(route{handle: listServers(false)}),
		refBrief:  tc.svc.dispatch(route{handle: refListServers(false)})}
}

func (lc *listChecker) get(h http.Handler, path, tok, mv string) []byte {
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("X-Auth-Token", tok)
	r.Header.Set("OpenStack-API-Version", "compute "+mv)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		lc.t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// check lists twice per caller (the second from the cache) and wants
// both answers equal to the reference, and want in the admin's.
func (lc *listChecker) check(step, query, want string) {
	lc.t.Helper()
	for _, who := range []struct{ tok, mv, query string }{
		{lc.tc.alice, "2.73", ""}, {lc.tc.admin, "2.93", "all_tenants=1&"},
	} {
		path := "/v2.1/servers/detail?" + who.query + query
		ref := lc.get(lc.ref, path, who.tok, who.mv)
		for range 2 {
			if got := lc.get(lc.fast, path, who.tok, who.mv); !bytes.Equal(got, ref) {
				lc.t.Fatalf("%s: GET %s (mv %s):\ncached %s\nref    %s", step, path, who.mv,
					firstDiff(string(got), string(ref)), firstDiff(string(ref), string(got)))
			}
		}
		briefPath := "/v2.1/servers?" + who.query + query
		refBrief := lc.get(lc.refBrief, briefPath, who.tok, who.mv)
		if got := lc.get(lc.fastBrief, briefPath, who.tok, who.mv); !bytes.Equal(got, refBrief) {
			lc.t.Fatalf("%s: GET %s:\ncached %s\nref    %s", step, briefPath, got, refBrief)
		}
		if who.tok == lc.tc.admin && !strings.Contains(string(ref), want) {
			lc.t.Fatalf("%s: the list has no %s: %s", step, want, ref)
		}
	}
}

// cached says whether the list cache holds a version of server id.
func (tc *testCloud) cached(uuid string) bool {
	var id int64
	if err := tc.db.R.QueryRow(`SELECT id FROM instances WHERE uuid = ?`, uuid).Scan(&id); err != nil {
		tc.t.Fatal(err)
	}
	c := tc.svc.instances().listCache()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id] != nil
}

// TestServerListCacheSeesEveryWrite makes each kind of write to a listed
// server (every store path: rename, description, lock, metadata set,
// replace and delete, tags add, replace and delete, power and state
// updates, resize and its confirm, faults, reset state, delete, host
// status, and a write in plain SQL that no store method makes) after the
// server's view was cached, and wants the next list to show it, byte for
// byte as the uncached reference.
func TestServerListCacheSeesEveryWrite(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "c1", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	other := sc.boot(sc.alice, "c2", nil)
	sc.waitStatus(sc.alice, other, "ACTIVE", 10*time.Second)
	lc := newListChecker(t, sc.testCloud)
	lc.check("booted", "", `"name":"c1"`)

	decoded := 0
	listPageHook = func(d int) { decoded += d }
	defer func() { listPageHook = nil }()
	lc.get(lc.fast, "/v2.1/servers/detail", sc.alice, "2.73")
	if decoded != 0 {
		t.Fatalf("a list of cached servers decoded %d rows", decoded)
	}

	srv := "/v2.1/servers/" + id
	steps := []struct {
		name, query, want string
		write             func()
	}{
		{"rename", "", `"name":"renamed"`, func() {
			sc.must(200, "PUT", srv, sc.alice, map[string]any{"server": map[string]any{"name": "renamed"}})
		}},
		{"description", "", `"description":"d \"1\""`, func() {
			sc.must(200, "PUT", srv, sc.alice, map[string]any{"server": map[string]any{"description": `d "1"`}}, "mv", "2.19")
		}},
		{"lock", "", `"locked_reason":"why"`, func() {
			sc.action(202, sc.alice, id, map[string]any{"lock": map[string]any{"locked_reason": "why"}}, "mv", "2.73")
		}},
		{"unlock", "", `"locked":false`, func() { sc.action(202, sc.alice, id, map[string]any{"unlock": nil}) }},
		{"metadata set", "", `"metadata":{"a":"1","b":"2"}`, func() {
			sc.must(200, "POST", srv+"/metadata", sc.alice, map[string]any{"metadata": map[string]any{"a": "1", "b": "2"}})
		}},
		{"metadata item", "", `"metadata":{"a":"1","b":"3"}`, func() {
			sc.must(200, "PUT", srv+"/metadata/b", sc.alice, map[string]any{"meta": map[string]any{"b": "3"}})
		}},
		{"metadata delete", "", `"metadata":{"a":"1"}`, func() { sc.must(204, "DELETE", srv+"/metadata/b", sc.alice, nil) }},
		{"metadata replace", "", `"metadata":{"c":"4"}`, func() {
			sc.must(200, "PUT", srv+"/metadata", sc.alice, map[string]any{"metadata": map[string]any{"c": "4"}})
		}},
		{"tag add", "", `"tags":["t1"]`, func() { sc.must(201, "PUT", srv+"/tags/t1", sc.alice, nil, "mv", "2.26") }},
		{"tags replace", "", `"tags":["t2","t3"]`, func() {
			sc.must(200, "PUT", srv+"/tags", sc.alice, map[string]any{"tags": []string{"t3", "t2"}}, "mv", "2.26")
		}},
		{"tag delete", "", `"tags":["t3"]`, func() { sc.must(204, "DELETE", srv+"/tags/t2", sc.alice, nil, "mv", "2.26") }},
		{"tags delete", "", `"tags":[]`, func() { sc.must(204, "DELETE", srv+"/tags", sc.alice, nil, "mv", "2.26") }},
		{"stop", "", `"status":"SHUTOFF"`, func() {
			sc.action(202, sc.alice, id, map[string]any{"os-stop": nil})
			sc.waitStatus(sc.alice, id, "SHUTOFF", 10*time.Second)
		}},
		{"start", "", `"OS-EXT-STS:power_state":1`, func() {
			sc.action(202, sc.alice, id, map[string]any{"os-start": nil})
			sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
		}},
		{"resize", "", `"status":"VERIFY_RESIZE"`, func() {
			sc.action(202, sc.alice, id, map[string]any{"resize": map[string]any{"flavorRef": "2"}})
			sc.waitStatus(sc.alice, id, "VERIFY_RESIZE", 10*time.Second)
		}},
		{"confirm resize", "", `"original_name":"m1.small"`, func() {
			sc.action(204, sc.alice, id, map[string]any{"confirmResize": nil})
			sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
		}},
		{"reset to error", "", `"status":"ERROR"`, func() {
			sc.action(202, sc.admin, id, map[string]any{"os-resetState": map[string]any{"state": "error"}})
		}},
		{"fault", "", `"message":"disk on fire"`, func() {
			if err := sc.svc.instances().AddFault(context.Background(), id, manager.Fault{Code: 500,
				Message: "disk on fire", Details: "Traceback: x"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"store update", "", `"OS-EXT-STS:task_state":"rebooting"`, func() {
			task := "rebooting"
			if err := sc.svc.instances().Update(context.Background(), id, manager.Update{TaskState: &task}); err != nil {
				t.Fatal(err)
			}
		}},
		{"host gone", "", `"host_status":"UNKNOWN"`, func() {
			sc.svc.UseCompute(Deps{Hosts: map[string]ComputeHost{}, Scheduler: sc.sched, Images: sc.images})
		}},
		{"host back", "", `"host_status":"UP"`, func() {
			hosts := map[string]ComputeHost{}
			for h, m := range sc.mgrs {
				hosts[h] = ComputeHost{Manager: m, Driver: sc.drivers[h]}
			}
			sc.svc.UseCompute(Deps{Hosts: hosts, Scheduler: sc.sched, Claims: sc.svc.PlacementClaims(sc.p), Images: sc.images})
		}},
		{"plain SQL", "", `"name":"by-sql"`, func() {
			if _, err := sc.db.W.Exec(`UPDATE instances SET display_name = 'by-sql' WHERE uuid = ?`, id); err != nil {
				t.Fatal(err)
			}
		}},
		{"soft-deleted in SQL", "deleted=True&", `"status":"SOFT_DELETED"`, func() {
			if _, err := sc.db.W.Exec(`UPDATE instances SET vm_state = 'soft-delete', deleted = 1 WHERE uuid = ?`, other); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete", "deleted=True&", `"status":"DELETED"`, func() {
			sc.must(204, "DELETE", srv, sc.admin, nil)
			sc.waitGone(sc.alice, id, 10*time.Second)
		}},
	}
	prev := ""
	for _, s := range steps {
		// The previous list cached the server: the write must replace it.
		if s.query != prev {
			lc.check(s.name+" (before)", s.query, "")
			prev = s.query
		}
		if !sc.cached(id) {
			t.Fatalf("%s: server not cached before the write", s.name)
		}
		s.write()
		lc.check(s.name, s.query, s.want)
	}
}

// TestServerListCacheNeverStale renames servers in a loop while lists run
// concurrently: every list must show each server with a name at least as
// new as the last rename committed before the list began.
func TestServerListCacheNeverStale(t *testing.T) {
	tc := newTestCloud(t)
	tc.seedServers(tc.projA, 40)
	var uuids []string
	rows, err := tc.db.R.Query(`SELECT uuid FROM instances WHERE deleted = 0 ORDER BY id LIMIT 8`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		_ = rows.Scan(&u)
		uuids = append(uuids, u)
	}
	rows.Close()
	if len(uuids) != 8 {
		t.Fatalf("%d live servers", len(uuids))
	}
	h := tc.svc.Handler()
	st := tc.svc.instances()
	var committed [8]atomic.Int64
	deadline := time.Now().Add(3 * time.Second)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		defer close(stop)
		for k := int64(1); k <= 400 && time.Now().Before(deadline); k++ {
			i := int(k) % len(uuids)
			if err := st.setFields(context.Background(), uuids[i], map[string]any{"display_name": fmt.Sprintf("n-%d", k)}); err != nil {
				t.Error(err)
				return
			}
			committed[i].Store(k)
		}
	}()
	lists := atomic.Int64{}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 2000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var floor [8]int64
				for i := range floor {
					floor[i] = committed[i].Load()
				}
				r := httptest.NewRequest("GET", "/v2.1/servers/detail", nil)
				r.Header.Set("X-Auth-Token", tc.alice)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				var body struct {
					Servers []struct{ ID, Name string } `json:"servers"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 200 {
					t.Errorf("list: %d %v", w.Code, err)
					return
				}
				for _, s := range body.Servers {
					for i, u := range uuids {
						var k int64
						if s.ID == u && strings.HasPrefix(s.Name, "n-") {
							fmt.Sscanf(s.Name, "n-%d", &k)
						}
						if s.ID == u && k < floor[i] {
							t.Errorf("server %d listed as %q after n-%d was committed", i, s.Name, floor[i])
							return
						}
					}
				}
				lists.Add(1)
			}
		}()
	}
	wg.Wait()
	if lists.Load() < 20 {
		t.Fatalf("only %d lists ran", lists.Load())
	}
	t.Logf("%d lists during the renames", lists.Load())
}
