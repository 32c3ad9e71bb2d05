package image

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDiscoveryAuthAndErrors(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(300, "GET", "/", "", nil)
	vs := r.json["versions"].([]any)
	if len(vs) == 0 || vs[0].(map[string]any)["status"] != "CURRENT" || vs[0].(map[string]any)["id"] != "v2.15" {
		t.Fatalf("versions: %s", r.raw)
	}
	tc.must(200, "GET", "/versions", "", nil)
	r = tc.must(401, "GET", "/v2/images", "", nil)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Keystone uri=") {
		t.Fatalf("401 without WWW-Authenticate: %v", r.header)
	}
	tc.must(401, "GET", "/v2/images", "not-a-token", nil)
	// Glance's webob error bodies: JSON when asked for, text otherwise.
	r = tc.must(404, "GET", "/v2/images/00000000-0000-4000-8000-000000000000", tc.alice, nil)
	if r.json["code"] != "404 Not Found" || r.json["title"] != "Not Found" || r.json["message"] == "" {
		t.Fatalf("json error: %s", r.raw)
	}
	r = tc.must(404, "GET", "/v2/images/nope", tc.alice, nil, "Accept", "text/plain")
	if !strings.HasPrefix(string(r.raw), "404 Not Found\n\n") {
		t.Fatalf("text error: %q", r.raw)
	}
	tc.must(404, "GET", "/v2/nothing-here", tc.alice, nil)
	tc.must(405, "POST", "/v2/schemas/image", tc.alice, map[string]any{})
	for _, s := range []string{"image", "images", "member", "members"} {
		r := tc.must(200, "GET", "/v2/schemas/"+s, tc.alice, nil)
		if r.json["name"] != s {
			t.Fatalf("schema %s: %s", s, r.raw)
		}
	}
	props := tc.must(200, "GET", "/v2/schemas/image", tc.alice, nil).json["properties"].(map[string]any)
	for _, k := range []string{"id", "name", "status", "visibility", "os_hash_value", "os_hidden", "kernel_id", "locations"} {
		if _, ok := props[k]; !ok {
			t.Errorf("image schema lacks %s", k)
		}
	}
	r = tc.must(200, "GET", "/v2/info/import", tc.alice, nil)
	if !strings.Contains(string(r.raw), `"value":["glance-direct"]`) {
		t.Fatalf("info/import: %s", r.raw)
	}
	tc.must(404, "GET", "/v2/info/stores", tc.alice, nil)
}

func TestCreateValidationAndDefaults(t *testing.T) {
	tc := newTestCloud(t)
	r := tc.must(201, "POST", "/v2/images", tc.alice, map[string]any{"name": "cirros", "disk_format": "qcow2",
		"container_format": "bare", "tags": []string{"b", "a", "a"}, "os_distro": "cirros", "min_ram": 64})
	im := r.json
	if im["status"] != "queued" || im["visibility"] != "shared" || im["owner"] != tc.projA || im["protected"] != false ||
		im["os_hidden"] != false || im["size"] != nil || im["checksum"] != nil || im["os_distro"] != "cirros" ||
		im["min_ram"] != float64(64) || im["min_disk"] != float64(0) || im["self"] != "/v2/images/"+str(im, "id") ||
		im["file"] != "/v2/images/"+str(im, "id")+"/file" || im["schema"] != "/v2/schemas/image" {
		t.Fatalf("created image: %s", r.raw)
	}
	if !strings.HasSuffix(r.header.Get("Location"), "/v2/images/"+str(im, "id")) {
		t.Fatalf("Location: %q", r.header.Get("Location"))
	}
	if tags := im["tags"].([]any); len(tags) != 2 {
		t.Fatalf("tags: %v", tags)
	}
	id := "8a1d1a4c-3c5f-4a8e-9a5b-0d4c2f7e6b11"
	tc.must(201, "POST", "/v2/images", tc.alice, map[string]any{"id": id})
	tc.must(409, "POST", "/v2/images", tc.alice, map[string]any{"id": id})
	for _, c := range []struct {
		status int
		body   any
	}{
		{400, map[string]any{"disk_format": "floppy"}},
		{400, map[string]any{"container_format": "zip"}},
		{400, map[string]any{"name": 5}},
		{400, map[string]any{"id": "not-a-uuid"}},
		{400, map[string]any{"min_ram": -1}},
		{400, map[string]any{"min_disk": "1"}},
		{400, map[string]any{"protected": "yes"}},
		{400, map[string]any{"visibility": "everyone"}},
		{400, map[string]any{"custom": 5}},
		{400, map[string]any{"kernel_id": "nope"}},
		{400, map[string]any{strings.Repeat("k", 256): "v"}},
		{400, []any{}},
		{400, "{"},
		{403, map[string]any{"location": "http://x"}},
		{403, map[string]any{"deleted": "x"}},
		{403, map[string]any{"os_glance_importing_to_stores": "x"}},
		{403, map[string]any{"status": "active"}},
		{403, map[string]any{"size": 5}},
		{403, map[string]any{"checksum": "x"}},
		{403, map[string]any{"self": "x"}},
		{403, map[string]any{"visibility": "public"}},
		{403, map[string]any{"owner": tc.projB}},
	} {
		if r := tc.req("POST", "/v2/images", tc.alice, c.body); r.status != c.status {
			t.Errorf("create %v: %d, want %d: %s", c.body, r.status, c.status, r.raw)
		}
	}
	// An admin may create public images and images for another project.
	r = tc.must(201, "POST", "/v2/images", tc.admin, map[string]any{"visibility": "public", "owner": tc.projB})
	if r.json["owner"] != tc.projB || r.json["visibility"] != "public" {
		t.Fatalf("admin create: %s", r.raw)
	}
	// A reader of project A may not create images... unless the legacy
	// default ("rule:default" = anyone) lets it, as in Glance Zed.
	tc.must(201, "POST", "/v2/images", tc.rita, map[string]any{"name": "by-reader"})
}

func TestPatch(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"name": "p", "foo": "bar"})
	op := func(o, path string, v ...any) map[string]any {
		m := map[string]any{"op": o, "path": path}
		if len(v) > 0 {
			m["value"] = v[0]
		}
		return m
	}
	r := tc.patch(200, id, tc.alice, op("replace", "/name", "renamed"), op("add", "/k", "v"), op("replace", "/foo", "baz"),
		op("add", "/disk_format", "raw"), op("replace", "/min_disk", 3), op("add", "/tags", []string{"x"}), op("replace", "/protected", true))
	if r.json["name"] != "renamed" || r.json["k"] != "v" || r.json["foo"] != "baz" || r.json["disk_format"] != "raw" ||
		r.json["min_disk"] != float64(3) || r.json["protected"] != true {
		t.Fatalf("patched: %s", r.raw)
	}
	r = tc.patch(200, id, tc.alice, op("remove", "/k"), op("replace", "/protected", false))
	if _, ok := r.json["k"]; ok {
		t.Fatalf("removed property still there: %s", r.raw)
	}
	// The change is persisted.
	if g := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil); g.json["foo"] != "baz" || g.json["name"] != "renamed" {
		t.Fatalf("after patch: %s", g.raw)
	}
	for _, c := range []struct {
		status int
		ops    []map[string]any
	}{
		{400, []map[string]any{op("replace", "/name/x", "v")}},
		{400, []map[string]any{op("replace", "name", "v")}},
		{400, []map[string]any{op("replace", "//name", "v")}},
		{400, []map[string]any{op("replace", "/name/", "v")}},
		{400, []map[string]any{op("replace", "/na~2me", "v")}},
		{400, []map[string]any{op("move", "/name", "v")}},
		{400, []map[string]any{{"path": "/name", "value": "v"}}},
		{400, []map[string]any{{"op": "replace", "value": "v"}}},
		{400, []map[string]any{op("replace", "/name")}},
		{400, []map[string]any{op("replace", "/disk_format", "floppy")}},
		{400, []map[string]any{op("add", "/custom", 5)}},
		{400, []map[string]any{op("replace", "/min_ram", -5)}},
		{403, []map[string]any{op("replace", "/status", "active")}},
		{403, []map[string]any{op("replace", "/id", "x")}},
		{403, []map[string]any{op("replace", "/checksum", "x")}},
		{403, []map[string]any{op("add", "/deleted", "x")}},
		{403, []map[string]any{op("add", "/os_glance_foo", "x")}},
		{403, []map[string]any{op("remove", "/name")}},
		{403, []map[string]any{op("replace", "/visibility", "public")}},
		{403, []map[string]any{op("replace", "/owner", tc.projB)}},
		{409, []map[string]any{op("replace", "/missing", "v")}},
		{409, []map[string]any{op("remove", "/missing")}},
	} {
		raw := mustJSON(c.ops)
		if r := tc.req("PATCH", "/v2/images/"+id, tc.alice, raw, "Content-Type", "application/openstack-images-v2.1-json-patch"); r.status != c.status {
			t.Errorf("patch %s: %d, want %d: %s", raw, r.status, c.status, r.raw)
		}
	}
	r = tc.req("PATCH", "/v2/images/"+id, tc.alice, `[]`, "Content-Type", "application/json")
	if r.status != 415 || !strings.Contains(r.header.Get("Accept-Patch"), "application/openstack-images-v2.1-json-patch") {
		t.Fatalf("wrong media type: %d %v", r.status, r.header)
	}
	tc.must(400, "PATCH", "/v2/images/"+id, tc.alice, `{"op": "add"}`, "Content-Type", "application/openstack-images-v2.1-json-patch")
	// Draft 4 (v2.0) patches: "add" of an existing property conflicts.
	tc.must(409, "PATCH", "/v2/images/"+id, tc.alice, `[{"add": "/foo", "value": "x"}]`, "Content-Type", "application/openstack-images-v2.0-json-patch")
	tc.must(200, "PATCH", "/v2/images/"+id, tc.alice, `[{"add": "/new", "value": "x"}]`, "Content-Type", "application/openstack-images-v2.0-json-patch")
	// Another project cannot see a private or shared image (404); it can
	// see a community image but not change it (403).
	tc.patch(404, id, tc.bob, op("replace", "/name", "x"))
	tc.patch(200, id, tc.alice, op("replace", "/visibility", "community"))
	tc.patch(403, id, tc.bob, op("replace", "/name", "x"))
	// Disk and container formats are frozen once the image has data.
	tc.patch(200, id, tc.alice, op("replace", "/container_format", "bare"))
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, block("data"))
	tc.patch(403, id, tc.alice, op("replace", "/disk_format", "qcow2"))
	// Admin may change the owner.
	r = tc.patch(200, id, tc.admin, op("replace", "/owner", tc.projB))
	if r.json["owner"] != tc.projB {
		t.Fatalf("owner: %s", r.raw)
	}
}

func TestDeleteProtectedAndDeleted(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"protected": true, "disk_format": "raw", "container_format": "bare"})
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, block("hello"))
	tc.must(403, "DELETE", "/v2/images/"+id, tc.alice, nil)
	tc.must(404, "DELETE", "/v2/images/"+id, tc.bob, nil)
	tc.patch(200, id, tc.alice, map[string]any{"op": "replace", "path": "/protected", "value": false})
	tc.must(204, "DELETE", "/v2/images/"+id, tc.alice, nil)
	tc.must(404, "GET", "/v2/images/"+id, tc.alice, nil)
	tc.must(404, "DELETE", "/v2/images/"+id, tc.alice, nil)
	if _, err := osStat(tc.svc.dataPath(id)); err == nil {
		t.Fatal("data of a deleted image is still on disk")
	}
	// A deleted image's id cannot be reused (as Glance).
	tc.must(409, "POST", "/v2/images", tc.alice, map[string]any{"id": id})
	// A public image of someone else: visible, not deletable.
	pub := tc.create(tc.admin, map[string]any{"visibility": "public"})
	tc.must(403, "DELETE", "/v2/images/"+pub, tc.alice, nil)
	tc.must(204, "DELETE", "/v2/images/"+pub, tc.admin, nil)
}

func TestTags(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{})
	tc.must(204, "PUT", "/v2/images/"+id+"/tags/blue", tc.alice, nil)
	tc.must(204, "PUT", "/v2/images/"+id+"/tags/blue", tc.alice, nil)
	tc.must(204, "PUT", "/v2/images/"+id+"/tags/red", tc.alice, nil)
	r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil)
	if tags := r.json["tags"].([]any); len(tags) != 2 {
		t.Fatalf("tags: %s", r.raw)
	}
	tc.must(204, "DELETE", "/v2/images/"+id+"/tags/blue", tc.alice, nil)
	tc.must(404, "DELETE", "/v2/images/"+id+"/tags/blue", tc.alice, nil)
	tc.must(404, "PUT", "/v2/images/"+id+"/tags/x", tc.bob, nil)
	tc.must(404, "PUT", "/v2/images/00000000-0000-4000-8000-000000000000/tags/x", tc.alice, nil)
	tc.must(400, "PUT", "/v2/images/"+id+"/tags/"+strings.Repeat("t", 256), tc.alice, nil)
}

func TestDeactivateReactivate(t *testing.T) {
	tc := newTestCloud(t)
	id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare", "visibility": "community"})
	tc.must(403, "POST", "/v2/images/"+id+"/actions/deactivate", tc.alice, nil) // queued
	tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, block("bits"))
	tc.must(403, "POST", "/v2/images/"+id+"/actions/deactivate", tc.bob, nil) // not the owner
	tc.must(204, "POST", "/v2/images/"+id+"/actions/deactivate", tc.alice, nil)
	tc.must(204, "POST", "/v2/images/"+id+"/actions/deactivate", tc.alice, nil) // no-op
	if r := tc.must(200, "GET", "/v2/images/"+id, tc.alice, nil); r.json["status"] != "deactivated" {
		t.Fatalf("status: %s", r.raw)
	}
	tc.must(403, "GET", "/v2/images/"+id+"/file", tc.alice, nil)
	if r := tc.must(200, "GET", "/v2/images/"+id+"/file", tc.admin, nil); string(r.raw) != string(block("bits")) {
		t.Fatalf("admin download: %q", r.raw)
	}
	tc.must(204, "POST", "/v2/images/"+id+"/actions/reactivate", tc.alice, nil)
	tc.must(200, "GET", "/v2/images/"+id+"/file", tc.bob, nil)
	tc.must(404, "POST", "/v2/images/00000000-0000-4000-8000-000000000000/actions/reactivate", tc.alice, nil)
}

func TestSharingAndVisibility(t *testing.T) {
	tc := newTestCloud(t)
	private := tc.create(tc.alice, map[string]any{"name": "private", "visibility": "private"})
	shared := tc.create(tc.alice, map[string]any{"name": "shared"})
	community := tc.create(tc.alice, map[string]any{"name": "community", "visibility": "community"})
	public := tc.create(tc.admin, map[string]any{"name": "public", "visibility": "public"})

	// bob (project B) sees public images; community ones only when asked.
	tc.must(404, "GET", "/v2/images/"+private, tc.bob, nil)
	tc.must(404, "GET", "/v2/images/"+shared, tc.bob, nil)
	tc.must(200, "GET", "/v2/images/"+community, tc.bob, nil)
	if got := ids(tc.must(200, "GET", "/v2/images", tc.bob, nil)); !slices.Equal(got, []string{public}) {
		t.Fatalf("bob's default list: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v2/images?visibility=community", tc.bob, nil)); !slices.Equal(got, []string{community}) {
		t.Fatalf("bob's community list: %v", got)
	}
	// alice sees her own (including community) and public images.
	if got := ids(tc.must(200, "GET", "/v2/images?sort=name:asc", tc.alice, nil)); !slices.Equal(got, []string{community, private, public, shared}) {
		t.Fatalf("alice's list: %v", got)
	}

	// Members: only shared images have them, only the owner adds them.
	tc.must(403, "POST", "/v2/images/"+private+"/members", tc.alice, map[string]any{"member": tc.projB})
	tc.must(400, "POST", "/v2/images/"+shared+"/members", tc.alice, map[string]any{})
	tc.must(400, "POST", "/v2/images/"+shared+"/members", tc.alice, map[string]any{"member": ""})
	r := tc.must(200, "POST", "/v2/images/"+shared+"/members", tc.alice, map[string]any{"member": tc.projB})
	if r.json["status"] != "pending" || r.json["member_id"] != tc.projB || r.json["image_id"] != shared {
		t.Fatalf("member: %s", r.raw)
	}
	tc.must(409, "POST", "/v2/images/"+shared+"/members", tc.alice, map[string]any{"member": tc.projB})
	// bob may now see the image, but it is not in his default list until
	// he accepts it.
	tc.must(200, "GET", "/v2/images/"+shared, tc.bob, nil)
	if got := ids(tc.must(200, "GET", "/v2/images?visibility=shared", tc.bob, nil)); len(got) != 0 {
		t.Fatalf("pending share listed: %v", got)
	}
	if got := ids(tc.must(200, "GET", "/v2/images?member_status=pending&visibility=shared", tc.bob, nil)); !slices.Equal(got, []string{shared}) {
		t.Fatalf("pending list: %v", got)
	}
	tc.must(403, "POST", "/v2/images/"+shared+"/members", tc.bob, map[string]any{"member": tc.projA})
	tc.must(403, "PUT", "/v2/images/"+shared+"/members/"+tc.projB, tc.alice, map[string]any{"status": "accepted"})
	tc.must(400, "PUT", "/v2/images/"+shared+"/members/"+tc.projB, tc.bob, map[string]any{"status": "maybe"})
	tc.must(400, "PUT", "/v2/images/"+shared+"/members/"+tc.projB, tc.bob, map[string]any{})
	r = tc.must(200, "PUT", "/v2/images/"+shared+"/members/"+tc.projB, tc.bob, map[string]any{"status": "accepted"})
	if r.json["status"] != "accepted" {
		t.Fatalf("accept: %s", r.raw)
	}
	if got := ids(tc.must(200, "GET", "/v2/images", tc.bob, nil)); !slices.Contains(got, shared) {
		t.Fatalf("accepted share not listed: %v", got)
	}
	// Download rules follow visibility: bob may download the shared image.
	tc.must(204, "GET", "/v2/images/"+shared+"/file", tc.bob, nil)
	if r := tc.must(200, "GET", "/v2/images/"+shared+"/members", tc.admin, nil); len(r.json["members"].([]any)) != 1 {
		t.Fatalf("admin's member list: %s", r.raw)
	}
	r = tc.must(200, "GET", "/v2/images/"+shared+"/members", tc.alice, nil)
	if len(r.json["members"].([]any)) != 1 || r.json["schema"] != "/v2/schemas/members" {
		t.Fatalf("members: %s", r.raw)
	}
	tc.must(200, "GET", "/v2/images/"+shared+"/members/"+tc.projB, tc.bob, nil)
	tc.must(404, "GET", "/v2/images/"+shared+"/members/"+tc.projA, tc.bob, nil)
	tc.must(403, "DELETE", "/v2/images/"+shared+"/members/"+tc.projB, tc.bob, nil)
	tc.must(204, "DELETE", "/v2/images/"+shared+"/members/"+tc.projB, tc.alice, nil)
	tc.must(404, "GET", "/v2/images/"+shared, tc.bob, nil)
	tc.must(404, "DELETE", "/v2/images/"+shared+"/members/"+tc.projB, tc.alice, nil)
	// Admin sees everything (except others' community images by default).
	if got := ids(tc.must(200, "GET", "/v2/images?visibility=all", tc.admin, nil)); len(got) != 4 {
		t.Fatalf("admin all: %v", got)
	}
}

func TestListFiltersSortingPaging(t *testing.T) {
	tc := newTestCloud(t)
	var all []string
	for i, spec := range []map[string]any{
		{"name": "a", "disk_format": "raw", "container_format": "bare", "tags": []string{"x", "y"}, "color": "red"},
		{"name": "b", "disk_format": "qcow2", "container_format": "docker", "tags": []string{"x"}},
		{"name": "c", "disk_format": "raw", "container_format": "ovf", "os_hidden": true},
		{"name": "d", "disk_format": "iso", "container_format": "bare", "color": "blue"},
		{"name": "e"},
	} {
		id := tc.create(tc.alice, spec)
		all = append(all, id)
		if i < 3 {
			tc.must(204, "PUT", "/v2/images/"+id+"/file", tc.alice, block(strings.Repeat("z", 500*i+100)))
		}
		time.Sleep(1100 * time.Millisecond / 10)
	}
	a, b, c, d, e := all[0], all[1], all[2], all[3], all[4]
	for _, q := range []struct {
		query string
		want  []string
	}{
		{"", []string{e, d, b, a}},
		{"?sort=name:asc", []string{a, b, d, e}},
		{"?sort_key=name&sort_dir=asc", []string{a, b, d, e}},
		{"?sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc", []string{e, d, b, a}},
		{"?name=b", []string{b}},
		{"?name=in:a,d&sort=name:asc", []string{a, d}},
		{"?id=in:" + a + "," + e + "&sort=name:asc", []string{a, e}},
		{"?status=queued&sort=name:asc", []string{d, e}},
		{"?disk_format=raw", []string{a}},
		{"?container_format=bare&sort=name:asc", []string{a, d}},
		{"?tag=x&sort=name:asc", []string{a, b}},
		{"?tag=x&tag=y", []string{a}},
		{"?color=blue", []string{d}},
		{"?size_min=1000&sort=name:asc", []string{b}},
		{"?size_max=600", []string{a}},
		{"?os_hidden=true", []string{c}},
		{"?owner=" + tc.projA + "&sort=name:asc", []string{a, b, d, e}},
		{"?created_at=gte:2000-01-01T00:00:00Z&sort=name:asc", []string{a, b, d, e}},
		{"?created_at=lt:2000-01-01T00:00:00Z", nil},
		{"?updated_at=neq:2000-01-01T00:00:00Z&sort=name:asc", []string{a, b, d, e}},
		{"?visibility=shared&sort=name:asc", []string{a, b, d, e}},
		{"?visibility=private", nil},
	} {
		r := tc.must(200, "GET", "/v2/images"+q.query, tc.alice, nil)
		if got := ids(r); !slices.Equal(got, q.want) {
			t.Errorf("list %s: got %v, want %v", q.query, got, q.want)
		}
	}
	// Paging: limit, next link with marker, first, schema.
	r := tc.must(200, "GET", "/v2/images?limit=2&sort=name:asc", tc.alice, nil)
	if got := ids(r); !slices.Equal(got, []string{a, b}) || r.json["schema"] != "/v2/schemas/images" || !strings.HasPrefix(str(r.json, "first"), "/v2/images?") {
		t.Fatalf("page 1: %s", r.raw)
	}
	next := str(r.json, "next")
	if !strings.Contains(next, "marker="+b) {
		t.Fatalf("next: %q", next)
	}
	r = tc.must(200, "GET", next, tc.alice, nil)
	if got := ids(r); !slices.Equal(got, []string{d, e}) {
		t.Fatalf("page 2: %v", got)
	}
	r = tc.must(200, "GET", str(r.json, "next"), tc.alice, nil)
	if got := ids(r); len(got) != 0 || r.json["next"] != nil {
		t.Fatalf("page 3: %s", r.raw)
	}
	for _, bad := range []string{"?limit=x", "?limit=-1", "?sort=bogus:asc", "?sort=name:up", "?sort=name&sort_key=id",
		"?sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc", "?visibility=everyone", "?member_status=x",
		"?os_hidden=maybe", "?size_min=big", "?created_at=gte:yesterday", "?name=like:a", "?marker=00000000-0000-4000-8000-000000000000",
		"?changes-since=2000-01-01T00:00:00Z"} {
		tc.must(400, "GET", "/v2/images"+bad, tc.alice, nil)
	}
}

func mustJSON(v any) string {
	b, _ := jsonMarshal(v)
	return string(b)
}

var _ = http.StatusOK

func TestPolicyOverrideFile(t *testing.T) {
	path := t.TempDir() + "/policy.yaml"
	if err := osWriteFile(path, "\"get_images\": \"role:admin\"\n\"publicize_image\": \"role:member\"\n"); err != nil {
		t.Fatal(err)
	}
	tc := newTestCloud(t, func(c *Config) { c.PolicyFile = path })
	tc.must(403, "GET", "/v2/images", tc.alice, nil)
	tc.must(200, "GET", "/v2/images", tc.admin, nil)
	tc.must(201, "POST", "/v2/images", tc.alice, map[string]any{"visibility": "public"})
}

func TestPerImageLimits(t *testing.T) {
	tc := newTestCloud(t)
	props := map[string]any{}
	for i := 0; i < maxImageProperties+1; i++ {
		props["p"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	tc.must(413, "POST", "/v2/images", tc.alice, props)
	var tags []string
	for i := 0; i < maxImageTags; i++ {
		tags = append(tags, "t"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	id := tc.create(tc.alice, map[string]any{"tags": tags})
	tc.must(413, "PUT", "/v2/images/"+id+"/tags/one-too-many", tc.alice, nil)
	tc.must(204, "PUT", "/v2/images/"+id+"/tags/"+tags[0], tc.alice, nil) // already there
	tc.patch(413, id, tc.alice, map[string]any{"op": "replace", "path": "/tags", "value": append(tags, "more")})
}
