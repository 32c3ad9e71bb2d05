package compute

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kumo/internal/compute/virt/simulated"
)

func TestServerMetadataCRUD(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "m", map[string]any{"metadata": map[string]any{"a": "1"}})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	base := "/v2.1/servers/" + id + "/metadata"
	r := sc.must(200, "POST", base, sc.alice, map[string]any{"metadata": map[string]any{"b": "2"}})
	if m := r.json["metadata"].(map[string]any); len(m) != 2 || m["a"] != "1" || m["b"] != "2" {
		t.Fatalf("merge %s", r.raw)
	}
	r = sc.must(200, "PUT", base, sc.alice, map[string]any{"metadata": map[string]any{"c": "3"}})
	if m := r.json["metadata"].(map[string]any); len(m) != 1 || m["c"] != "3" {
		t.Fatalf("replace %s", r.raw)
	}
	r = sc.must(200, "PUT", base+"/d", sc.alice, map[string]any{"meta": map[string]any{"d": "4"}})
	if str(r.json, "meta", "d") != "4" {
		t.Fatalf("put item %s", r.raw)
	}
	sc.fault(sc.req("PUT", base+"/e", sc.alice, map[string]any{"meta": map[string]any{"d": "4"}}), 400, "badRequest", "Request body and URI mismatch")
	if r := sc.req("PUT", base+"/d", sc.alice, map[string]any{"meta": map[string]any{"d": "4", "x": "y"}}); r.status != 400 {
		t.Fatalf("two items: %d", r.status)
	}
	r = sc.must(200, "GET", base+"/d", sc.alice, nil)
	if str(r.json, "meta", "d") != "4" {
		t.Fatalf("show item %s", r.raw)
	}
	sc.must(204, "DELETE", base+"/d", sc.alice, nil)
	sc.fault(sc.req("GET", base+"/d", sc.alice, nil), 404, "itemNotFound", "Metadata item was not found")
	sc.fault(sc.req("DELETE", base+"/d", sc.alice, nil), 404, "itemNotFound", "Metadata item was not found")
	long := strings.Repeat("x", 256)
	if r := sc.req("POST", base, sc.alice, map[string]any{"metadata": map[string]any{"k": long}}); r.status != 400 {
		t.Fatalf("long value: %d", r.status)
	}
	// Metadata of a server that is building is Nova's 409.
	for _, d := range sc.drivers {
		d.Delay(simulated.OpSpawn, 500*time.Millisecond)
	}
	b := sc.boot(sc.alice, "building", nil)
	r = sc.req("POST", "/v2.1/servers/"+b+"/metadata", sc.alice, map[string]any{"metadata": map[string]any{"a": "b"}})
	sc.fault(r, 409, "conflictingRequest", fmt.Sprintf("Cannot 'update metadata' instance %s while it is in vm_state building", b))
}

func TestServerMetadataQuota(t *testing.T) {
	sc := newSimCloud(t, 1, func(c *Config) {
		c.Limits = fixedLimits{"server_metadata_items": 2, "servers": 10, "class:VCPU": 100,
			"class:MEMORY_MB": 100000, "class:DISK_GB": 1000}
	})
	id := sc.boot(sc.alice, "q", map[string]any{"metadata": map[string]any{"a": "1", "b": "2"}})
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	r := sc.req("POST", "/v2.1/servers/"+id+"/metadata", sc.alice, map[string]any{"metadata": map[string]any{"c": "3"}})
	if r.status != 403 {
		t.Fatalf("over metadata quota: %d %s", r.status, r.raw)
	}
	r = sc.req("POST", "/v2.1/servers", sc.alice, map[string]any{"server": map[string]any{"name": "x", "imageRef": sc.imageID,
		"flavorRef": "1", "networks": "none", "metadata": map[string]any{"a": "1", "b": "2", "c": "3"}}}, "mv", "2.37")
	if r.status != 403 {
		t.Fatalf("create over metadata quota: %d %s", r.status, r.raw)
	}
}

func TestServerTags(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "t", map[string]any{"tags": []any{"a", "b"}}, "mv", "2.52")
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	base := "/v2.1/servers/" + id + "/tags"
	sc.fault(sc.req("GET", base, sc.alice, nil, "mv", "2.25"), 404, "itemNotFound", "")
	r := sc.must(200, "GET", base, sc.alice, nil, "mv", "2.26")
	if fmt.Sprint(r.json["tags"]) != "[a b]" {
		t.Fatalf("tags %s", r.raw)
	}
	r = sc.must(201, "PUT", base+"/c%20d", sc.alice, nil, "mv", "2.26")
	if !strings.HasSuffix(r.header.Get("Location"), "/servers/"+id+"/tags/c%20d") {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	sc.must(204, "PUT", base+"/c%20d", sc.alice, nil, "mv", "2.26")
	sc.must(204, "GET", base+"/c%20d", sc.alice, nil, "mv", "2.26")
	sc.fault(sc.req("GET", base+"/zz", sc.alice, nil, "mv", "2.26"), 404, "itemNotFound", fmt.Sprintf("Server %s has no tag 'zz'", id))
	sc.fault(sc.req("PUT", base+"/a,b", sc.alice, nil, "mv", "2.26"), 400, "badRequest",
		"Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: 'a,b' does not match '^[^,/]*$'")
	sc.must(204, "DELETE", base+"/a", sc.alice, nil, "mv", "2.26")
	sc.fault(sc.req("DELETE", base+"/a", sc.alice, nil, "mv", "2.26"), 404, "itemNotFound", fmt.Sprintf("Instance %s has no tag 'a'", id))
	many := make([]any, 51)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	if r := sc.req("PUT", base, sc.alice, map[string]any{"tags": many}, "mv", "2.26"); r.status != 400 {
		t.Fatalf("51 tags: %d %s", r.status, r.raw)
	}
	r = sc.must(200, "PUT", base, sc.alice, map[string]any{"tags": many[:50]}, "mv", "2.26")
	if len(r.json["tags"].([]any)) != 50 {
		t.Fatalf("50 tags %s", r.raw)
	}
	sc.fault(sc.req("PUT", base+"/one-more", sc.alice, nil, "mv", "2.26"), 400, "badRequest", "The number of tags exceeded the per-server limit 50")
	sc.must(204, "DELETE", base, sc.alice, nil, "mv", "2.26")
	r = sc.must(200, "GET", "/v2.1/servers/"+id, sc.alice, nil, "mv", "2.26")
	if l := r.json["server"].(map[string]any)["tags"].([]any); len(l) != 0 {
		t.Fatalf("tags after delete all %v", l)
	}
}

func TestServerInstanceActions(t *testing.T) {
	sc := newSimCloud(t, 1)
	id := sc.boot(sc.alice, "ia", nil)
	sc.waitStatus(sc.alice, id, "ACTIVE", 10*time.Second)
	r := sc.action(202, sc.alice, id, map[string]any{"os-stop": nil})
	stopReq := r.header.Get("X-Compute-Request-Id")
	sc.waitStatus(sc.alice, id, "SHUTOFF", 10*time.Second)
	base := "/v2.1/servers/" + id + "/os-instance-actions"
	r = sc.must(200, "GET", base, sc.alice, nil)
	acts := r.json["instanceActions"].([]any)
	if len(acts) != 2 || acts[0].(map[string]any)["action"] != "stop" || acts[1].(map[string]any)["action"] != "create" {
		t.Fatalf("actions %s", r.raw)
	}
	actionFields := fieldSet{required: []string{"action", "request_id", "user_id", "project_id", "start_time", "message", "instance_uuid"}}
	checkFields(t, "action", actionFields, acts[0])
	if acts[0].(map[string]any)["request_id"] != stopReq {
		t.Fatalf("request id %v, header %s", acts[0], stopReq)
	}
	// Before 2.51 a member sees no events; from 2.51 events without
	// traceback; admins see the traceback (and from 2.62 the host).
	r = sc.must(200, "GET", base+"/"+stopReq, sc.alice, nil)
	if _, ok := r.json["instanceAction"].(map[string]any)["events"]; ok {
		t.Fatalf("2.1 member sees events: %s", r.raw)
	}
	eventFields := fieldSet{required: []string{"event", "start_time", "finish_time", "result"},
		optional: []string{"traceback", "host", "hostId", "details"}}
	r = sc.must(200, "GET", base+"/"+stopReq, sc.alice, nil, "mv", "2.51")
	evs := r.json["instanceAction"].(map[string]any)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["event"] != "compute_stop_instance" || evs[0].(map[string]any)["result"] != "Success" {
		t.Fatalf("events %s", r.raw)
	}
	checkFields(t, "event", eventFields, evs[0])
	if _, ok := evs[0].(map[string]any)["traceback"]; ok {
		t.Fatalf("member sees traceback: %s", r.raw)
	}
	r = sc.must(200, "GET", base+"/"+stopReq, sc.admin, nil, "mv", "2.62")
	ev := r.json["instanceAction"].(map[string]any)["events"].([]any)[0].(map[string]any)
	if _, ok := ev["traceback"]; !ok || ev["host"] != "sim-host-0000" || ev["hostId"] == "" {
		t.Fatalf("admin event %v", ev)
	}
	// 2.58: paging newest first, updated_at.
	r = sc.must(200, "GET", base+"?limit=1", sc.alice, nil, "mv", "2.58")
	acts = r.json["instanceActions"].([]any)
	if len(acts) != 1 || acts[0].(map[string]any)["updated_at"] == nil || r.json["links"] == nil {
		t.Fatalf("2.58 page %s", r.raw)
	}
	r = sc.must(200, "GET", base+"?limit=1&marker="+stopReq, sc.alice, nil, "mv", "2.58")
	if acts = r.json["instanceActions"].([]any); len(acts) != 1 || acts[0].(map[string]any)["action"] != "create" {
		t.Fatalf("2.58 second page %s", r.raw)
	}
	sc.fault(sc.req("GET", base+"/req-nope", sc.alice, nil), 404, "itemNotFound", "")
	sc.fault(sc.req("GET", base, sc.bob, nil), 404, "itemNotFound", "")
	// From 2.21 the actions of a deleted server remain visible.
	sc.must(204, "DELETE", "/v2.1/servers/"+id, sc.alice, nil)
	sc.waitGone(sc.alice, id, 10*time.Second)
	r = sc.must(200, "GET", base, sc.alice, nil, "mv", "2.21")
	if acts = r.json["instanceActions"].([]any); len(acts) != 3 || acts[0].(map[string]any)["action"] != "delete" {
		t.Fatalf("actions of a deleted server %s", r.raw)
	}
	sc.fault(sc.req("GET", base, sc.alice, nil, "mv", "2.20"), 404, "itemNotFound", "")
}
