package image

import (
	"slices"
	"testing"
)

func TestMetadefs(t *testing.T) {
	tc := newTestCloud(t)
	for _, k := range []string{"namespace", "namespaces", "object", "objects", "property", "properties", "resource_type", "resource_types", "tag", "tags"} {
		tc.must(200, "GET", "/v2/schemas/metadefs/"+k, tc.alice, nil)
	}
	tc.must(404, "GET", "/v2/schemas/metadefs/nothing", tc.alice, nil)
	rts := tc.must(200, "GET", "/v2/metadefs/resource_types", tc.alice, nil).json["resource_types"].([]any)
	rt := rts[0].(map[string]any)["name"].(string)

	// Writes are admin-only by default.
	tc.must(403, "POST", "/v2/metadefs/namespaces", tc.alice, map[string]any{"namespace": "x"})
	r := tc.must(201, "POST", "/v2/metadefs/namespaces", tc.admin, map[string]any{"namespace": "ns1", "visibility": "public",
		"protected": true, "resource_type_associations": []any{map[string]any{"name": rt}}})
	if r.json["namespace"] != "ns1" || r.json["protected"] != true {
		t.Fatalf("namespace: %s", r.raw)
	}
	tc.must(409, "POST", "/v2/metadefs/namespaces", tc.admin, map[string]any{"namespace": "ns1"})
	tc.must(400, "POST", "/v2/metadefs/namespaces", tc.admin, map[string]any{"visibility": "public"})
	tc.must(201, "POST", "/v2/metadefs/namespaces", tc.admin, map[string]any{"namespace": "hidden"})
	var names []string
	for _, n := range tc.must(200, "GET", "/v2/metadefs/namespaces", tc.alice, nil).json["namespaces"].([]any) {
		names = append(names, n.(map[string]any)["namespace"].(string))
	}
	if !slices.Equal(names, []string{"ns1"}) {
		t.Fatalf("alice's namespaces: %v", names)
	}
	tc.must(404, "GET", "/v2/metadefs/namespaces/hidden", tc.alice, nil)
	tc.must(403, "DELETE", "/v2/metadefs/namespaces/ns1", tc.admin, nil) // protected
	tc.must(403, "DELETE", "/v2/metadefs/namespaces/ns1", tc.alice, nil)

	// Objects.
	tc.must(201, "POST", "/v2/metadefs/namespaces/ns1/objects", tc.admin, map[string]any{"name": "o1", "description": "d"})
	r = tc.must(200, "PUT", "/v2/metadefs/namespaces/ns1/objects/o1", tc.admin, map[string]any{"name": "o2"})
	if r.json["name"] != "o2" {
		t.Fatalf("object rename: %s", r.raw)
	}
	tc.must(404, "GET", "/v2/metadefs/namespaces/ns1/objects/o1", tc.alice, nil)
	tc.must(200, "GET", "/v2/metadefs/namespaces/ns1/objects/o2", tc.alice, nil)
	if objs := tc.must(200, "GET", "/v2/metadefs/namespaces/ns1/objects", tc.alice, nil).json["objects"].([]any); len(objs) != 1 {
		t.Fatalf("objects: %v", objs)
	}
	tc.must(204, "DELETE", "/v2/metadefs/namespaces/ns1/objects/o2", tc.admin, nil)

	// Properties.
	tc.must(400, "POST", "/v2/metadefs/namespaces/ns1/properties", tc.admin, map[string]any{"name": "p"})
	r = tc.must(201, "POST", "/v2/metadefs/namespaces/ns1/properties", tc.admin, map[string]any{"name": "hv", "title": "T", "type": "string", "enum": []string{"kvm"}})
	if r.json["title"] != "T" {
		t.Fatalf("property: %s", r.raw)
	}
	r = tc.must(200, "PUT", "/v2/metadefs/namespaces/ns1/properties/hv", tc.admin, map[string]any{"name": "hv", "title": "T2", "type": "string"})
	if r.json["title"] != "T2" {
		t.Fatalf("property update: %s", r.raw)
	}
	if p := tc.must(200, "GET", "/v2/metadefs/namespaces/ns1/properties", tc.alice, nil).json["properties"].(map[string]any); p["hv"] == nil {
		t.Fatalf("properties: %v", p)
	}
	tc.must(204, "DELETE", "/v2/metadefs/namespaces/ns1/properties/hv", tc.admin, nil)
	tc.must(404, "GET", "/v2/metadefs/namespaces/ns1/properties/hv", tc.admin, nil)

	// Tags.
	tc.must(201, "POST", "/v2/metadefs/namespaces/ns1/tags", tc.admin, map[string]any{"tags": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}}})
	tc.must(201, "POST", "/v2/metadefs/namespaces/ns1/tags/c", tc.admin, nil)
	tc.must(409, "POST", "/v2/metadefs/namespaces/ns1/tags/c", tc.admin, nil)
	r = tc.must(200, "PUT", "/v2/metadefs/namespaces/ns1/tags/c", tc.admin, map[string]any{"name": "d"})
	if r.json["name"] != "d" {
		t.Fatalf("tag rename: %s", r.raw)
	}
	if tags := tc.must(200, "GET", "/v2/metadefs/namespaces/ns1/tags", tc.alice, nil).json["tags"].([]any); len(tags) != 3 {
		t.Fatalf("tags: %v", tags)
	}
	tc.must(204, "DELETE", "/v2/metadefs/namespaces/ns1/tags/d", tc.admin, nil)
	tc.must(204, "DELETE", "/v2/metadefs/namespaces/ns1/tags", tc.admin, nil)
	if tags := tc.must(200, "GET", "/v2/metadefs/namespaces/ns1/tags", tc.alice, nil).json["tags"].([]any); len(tags) != 0 {
		t.Fatalf("tags after delete: %v", tags)
	}

	// Resource type associations.
	if as := tc.must(200, "GET", "/v2/metadefs/namespaces/ns1/resource_types", tc.alice, nil).json["resource_type_associations"].([]any); len(as) != 1 {
		t.Fatalf("associations: %v", as)
	}
	tc.must(409, "POST", "/v2/metadefs/namespaces/ns1/resource_types", tc.admin, map[string]any{"name": rt})
	tc.must(204, "DELETE", "/v2/metadefs/namespaces/ns1/resource_types/"+rt, tc.admin, nil)
	tc.must(404, "DELETE", "/v2/metadefs/namespaces/ns1/resource_types/"+rt, tc.admin, nil)

	// Unprotect, rename, delete.
	r = tc.must(200, "PUT", "/v2/metadefs/namespaces/ns1", tc.admin, map[string]any{"namespace": "ns2", "visibility": "private", "protected": false})
	if r.json["visibility"] != "private" || r.json["protected"] != false {
		t.Fatalf("namespace update: %s", r.raw)
	}
	tc.must(404, "GET", "/v2/metadefs/namespaces/ns2", tc.alice, nil)
	tc.must(204, "DELETE", "/v2/metadefs/namespaces/ns2", tc.admin, nil)
	tc.must(404, "GET", "/v2/metadefs/namespaces/ns2", tc.admin, nil)
}
