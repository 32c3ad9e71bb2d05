package compute

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/virt/simulated"
)

func names(r resp) string {
	var out []string
	for _, it := range r.json["servers"].([]any) {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return strings.Join(out, ",")
}

func TestServerListFiltersSortingAndPaging(t *testing.T) {
	sc := newSimCloud(t, 2)
	var ids []string
	for i, n := range []string{"alpha", "beta", "gamma", "delta"} {
		extra := map[string]any{"tags": []any{fmt.Sprintf("t%d", i%2), "all"}}
		ids = append(ids, sc.boot(sc.alice, n, extra, "mv", "2.52"))
		time.Sleep(2 * time.Millisecond) // distinct created_at
	}
	for _, id := range ids {
		sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	}
	sc.action(202, sc.alice, ids[1], map[string]any{"os-stop": nil})
	sc.waitStatus(sc.alice, ids[1], "SHUTOFF", 10*time.Second)
	bobs := sc.boot(sc.bob, "alpha-b", nil)
	sc.waitStatus(sc.bob, bobs, "ACTIVE", 10*time.Second)

	get := func(q string, hdr ...string) string {
		t.Helper()
		return names(sc.must(200, "GET", "/v2.1/servers?"+q, sc.alice, nil, hdr...))
	}
	for _, c := range []struct{ q, mv, want string }{
		{"", "2.1", "delta,gamma,beta,alpha"}, // created_at desc
		{"sort_key=display_name&sort_dir=asc", "2.1", "alpha,beta,delta,gamma"},
		{"name=^.l", "2.1", "alpha"},
		{"name=a$", "2.1", "delta,gamma,beta,alpha"},
		{"status=SHUTOFF", "2.1", "beta"},
		{"status=active", "2.1", "delta,gamma,alpha"},
		{"status=NOPE", "2.1", ""},
		{"tags=t1,all", "2.26", "delta,beta"},
		{"tags-any=t0,zz", "2.26", "gamma,alpha"},
		{"not-tags=t1", "2.26", "gamma,alpha"},
		{"not-tags-any=t0,t1", "2.26", ""},
		{"flavor=1", "2.1", "delta,gamma,beta,alpha"},
		{"flavor=2", "2.1", ""},
		{"image=" + sc.imageID, "2.1", "delta,gamma,beta,alpha"},
		{"ip=10.0.0.1", "2.1", ""},
		{"host=sim-host-0000&name=alpha", "2.1", "alpha"}, // not an admin: host is ignored
		{"changes-since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), "2.1", ""},
		{"changes-before=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), "2.66", ""},
	} {
		if got := get(c.q, "mv", c.mv); got != c.want {
			t.Errorf("?%s at %s: %q, want %q", c.q, c.mv, got, c.want)
		}
	}
	// Paging: limit and marker, with a next link while a page is full.
	r := sc.must(200, "GET", "/v2.1/servers?limit=3&sort_key=display_name&sort_dir=asc", sc.alice, nil)
	if names(r) != "alpha,beta,delta" || r.json["servers_links"] == nil {
		t.Fatalf("page 1 %s", r.raw)
	}
	next := r.json["servers_links"].([]any)[0].(map[string]any)["href"].(string)
	if !strings.Contains(next, "marker="+ids[3]) || !strings.Contains(next, "limit=3") {
		t.Fatalf("next link %s", next)
	}
	r = sc.must(200, "GET", "/v2.1/servers?limit=3&sort_key=display_name&sort_dir=asc&marker="+ids[3], sc.alice, nil)
	if names(r) != "gamma" || r.json["servers_links"] != nil {
		t.Fatalf("page 2 %s", r.raw)
	}
	sc.fault(sc.req("GET", "/v2.1/servers?marker=nope", sc.alice, nil), 400, "badRequest", "marker [nope] not found")
	sc.fault(sc.req("GET", "/v2.1/servers?status=NOPE", sc.alice, nil, "mv", "2.38"), 400, "badRequest", "Invalid status value")
	sc.fault(sc.req("GET", "/v2.1/servers?status=DELETED", sc.alice, nil), 403, "forbidden", "Only administrators may list deleted instances")
	if r := sc.req("GET", "/v2.1/servers?all_tenants=maybe", sc.admin, nil); r.status != 400 {
		t.Fatalf("all_tenants=maybe: %d", r.status)
	}
	// A member's deleted filter is dropped, as Nova's remove_invalid_options.
	if got := get("deleted=true"); got != "delta,gamma,beta,alpha" {
		t.Fatalf("member deleted=true: %q", got)
	}
	if r := sc.req("GET", "/v2.1/servers?sort_key=bogus", sc.alice, nil); r.status != 400 {
		t.Fatalf("bad sort key: %d", r.status)
	}
	sc.fault(sc.req("GET", "/v2.1/servers?sort_key=host", sc.alice, nil), 403, "forbidden", "Only administrators can sort servers by host")
	if r := sc.req("GET", "/v2.1/servers?changes-since=yesterday", sc.alice, nil); r.status != 400 {
		t.Fatalf("bad changes-since: %d", r.status)
	}
	// Admin filters.
	r = sc.must(200, "GET", "/v2.1/servers?all_tenants=1&name=alpha&sort_key=display_name&sort_dir=asc", sc.admin, nil)
	if names(r) != "alpha,alpha-b" {
		t.Fatalf("admin all_tenants name filter %s", r.raw)
	}
	host := str(sc.must(200, "GET", "/v2.1/servers/"+ids[0], sc.admin, nil).json, "server", "OS-EXT-SRV-ATTR:host")
	r = sc.must(200, "GET", "/v2.1/servers/detail?all_tenants=1&host="+host, sc.admin, nil)
	for _, it := range r.json["servers"].([]any) {
		if it.(map[string]any)["OS-EXT-SRV-ATTR:host"] != host {
			t.Fatalf("host filter %s", r.raw)
		}
	}
	if len(r.json["servers"].([]any)) == 0 {
		t.Fatalf("host filter found nothing")
	}
}

func TestServerDeleteWhileBuilding(t *testing.T) {
	sc := newSimCloud(t, 1)
	for _, d := range sc.drivers {
		d.Delay(simulated.OpSpawn, 300*time.Millisecond)
	}
	id := sc.boot(sc.alice, "short-lived", nil)
	sc.must(204, "DELETE", "/v2.1/servers/"+id, sc.alice, nil)
	sc.waitGone(sc.alice, id, 10*time.Second)
	// Let a spawn that was running end, then nothing may be left.
	time.Sleep(400 * time.Millisecond)
	for _, m := range sc.mgrs {
		_ = m.Wait(sc.ctx(), id)
	}
	if _, ok := sc.drivers["sim-host-0000"].Spec(id); ok {
		t.Fatalf("driver still has %s", id)
	}
	u, err := sc.p.Usages(sc.ctx(), "51a7e000-0000-4000-8000-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	for rc, n := range u {
		if n != 0 {
			t.Fatalf("usage %s=%d after deleting a building server", rc, n)
		}
	}
}

// TestHundredServersOnTenHosts boots 100 servers with one request
// (min_count = max_count = 100) on 10 simulated hosts and waits for all
// of them to be ACTIVE; the time is reported, not asserted.
func TestHundredServersOnTenHosts(t *testing.T) {
	sc := newSimCloud(t, 10)
	start := time.Now()
	r := sc.must(202, "POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{
		"name": "many", "imageRef": sc.imageID, "flavorRef": "1", "networks": "none",
		"min_count": 100, "max_count": 100, "return_reservation_id": true}}, "mv", "2.37")
	resv := str(r.json, "reservation_id")
	if !strings.HasPrefix(resv, "r-") || len(r.json) != 1 {
		t.Fatalf("reservation answer %s", r.raw)
	}
	accepted := time.Since(start)
	deadline := time.Now().Add(60 * time.Second)
	var active int
	for time.Now().Before(deadline) {
		q := "/v2.1/servers?reservation_id=" + resv + "&status="
		if n := len(sc.must(200, "GET", q+"ERROR", sc.alice, nil).json["servers"].([]any)); n > 0 {
			t.Fatalf("%d servers failed", n)
		}
		if active = len(sc.must(200, "GET", q+"ACTIVE", sc.alice, nil).json["servers"].([]any)); active == 100 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if active != 100 {
		t.Fatalf("%d of 100 servers ACTIVE", active)
	}
	t.Logf("100 servers on 10 hosts: accepted in %v, all ACTIVE after %v", accepted, time.Since(start))
	perHost := map[string]int{}
	for name, d := range sc.drivers {
		ids, err := d.Instances(sc.ctx())
		if err != nil {
			t.Fatal(err)
		}
		perHost[name] = len(ids)
	}
	total := 0
	for _, n := range perHost {
		total += n
	}
	if total != 100 {
		t.Fatalf("drivers hold %d instances: %v", total, perHost)
	}
	t.Logf("instances per host: %v", perHost)
	t0 := time.Now()
	r = sc.must(200, "GET", "/v2.1/servers/detail?reservation_id="+resv, sc.alice, nil, "mv", "2.73")
	t.Logf("GET /servers/detail of 100 servers: %v", time.Since(t0))
	if l := r.json["servers"].([]any); len(l) != 100 {
		t.Fatalf("detail lists %d", len(l))
	} else {
		for _, it := range l {
			checkFields(t, "detail 2.73", serverDetail273, it)
		}
	}
	// Names are name-1 .. name-100, as Nova's multi-create.
	if names := names(sc.must(200, "GET", "/v2.1/servers?name=^many-100$", sc.alice, nil)); names != "many-100" {
		t.Fatalf("multi-create names: %q", names)
	}
}
