package image

import (
	"embed"
	"encoding/json"
	"net/http"
	"strings"

	"kumo/internal/platform/httpapi"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// Schemas are Glance Zed's, with the default disk and container formats
// and the custom properties of Glance's etc/schema-image.json.
var (
	imageSchema   = mustSchema("schemas/image.json")
	memberSchema  = mustSchema("schemas/member.json")
	imagesSchema  = collectionSchema("images", imageSchema, true)
	membersSchema = collectionSchema("members", memberSchema, false)
	// metadefSchemas are the metadata-definition schemas by URL name
	// (namespace, namespaces, object, ..., tags).
	metadefSchemas = mustSchema("schemas/metadefs.json")
)

func mustSchema(name string) map[string]any {
	b, err := schemaFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

// collectionSchema is Glance's CollectionSchema: raw (with first/next
// links) for images, minimal for members.
func collectionSchema(name string, item map[string]any, raw bool) map[string]any {
	props := map[string]any{name: map[string]any{"type": "array", "items": item}, "schema": map[string]any{"type": "string"}}
	links := []any{map[string]any{"rel": "describedby", "href": "{schema}"}}
	if raw {
		props["first"] = map[string]any{"type": "string"}
		props["next"] = map[string]any{"type": "string"}
		links = []any{map[string]any{"rel": "first", "href": "{first}"}, map[string]any{"rel": "next", "href": "{next}"}, links[0]}
	}
	return map[string]any{"name": name, "properties": props, "links": links}
}

var discoveryRoutes = []route{
	{pattern: "GET /{$}", public: true, handle: versions(http.StatusMultipleChoices)},
	{pattern: "GET /versions", public: true, handle: versions(http.StatusOK)},
	{pattern: "GET /v2", public: true, handle: versions(http.StatusOK)},
	{pattern: "GET /v2/{$}", public: true, handle: versions(http.StatusOK)},
}

var schemaRoutes = []route{
	{pattern: "GET /v2/schemas/image", handle: schema(imageSchema)},
	{pattern: "GET /v2/schemas/images", handle: schema(imagesSchema)},
	{pattern: "GET /v2/schemas/member", handle: schema(memberSchema)},
	{pattern: "GET /v2/schemas/members", handle: schema(membersSchema)},
	{pattern: "GET /v2/schemas/metadefs/{kind}", handle: func(c *call) error {
		doc, ok := metadefSchemas[c.param("kind")].(map[string]any)
		if !ok {
			return httpapi.NotFound("The resource could not be found.")
		}
		return c.json(http.StatusOK, doc)
	}},
}

func schema(doc map[string]any) func(c *call) error {
	return func(c *call) error { return c.json(http.StatusOK, doc) }
}

// versionList is what Glance Zed advertises without an image cache or
// multiple stores: 2.15 is current (2.16, the cache API, and 2.10-2.13,
// multi-store, are not offered).
var versionList = []struct{ id, status string }{
	{"v2.15", "CURRENT"}, {"v2.9", "SUPPORTED"}, {"v2.7", "SUPPORTED"}, {"v2.6", "SUPPORTED"}, {"v2.5", "SUPPORTED"},
	{"v2.4", "SUPPORTED"}, {"v2.3", "SUPPORTED"}, {"v2.2", "SUPPORTED"}, {"v2.1", "SUPPORTED"}, {"v2.0", "SUPPORTED"},
}

// multiStoreVersions is Glance Zed's list with enabled_backends: the
// multi-store versions (2.8, 2.10-2.13) too.
var multiStoreVersions = []struct{ id, status string }{
	{"v2.15", "CURRENT"}, {"v2.13", "SUPPORTED"}, {"v2.12", "SUPPORTED"}, {"v2.11", "SUPPORTED"}, {"v2.10", "SUPPORTED"},
	{"v2.9", "SUPPORTED"}, {"v2.8", "SUPPORTED"}, {"v2.7", "SUPPORTED"}, {"v2.6", "SUPPORTED"}, {"v2.5", "SUPPORTED"},
	{"v2.4", "SUPPORTED"}, {"v2.3", "SUPPORTED"}, {"v2.2", "SUPPORTED"}, {"v2.1", "SUPPORTED"}, {"v2.0", "SUPPORTED"},
}

func versions(status int) func(c *call) error {
	return func(c *call) error {
		href := strings.TrimSuffix(c.base(), "/") + "/v2/"
		list := versionList
		if c.s.stores.multi {
			list = multiStoreVersions
		}
		out := make([]any, 0, len(list))
		for _, v := range list {
			out = append(out, map[string]any{"id": v.id, "status": v.status,
				"links": []any{map[string]any{"rel": "self", "href": href}}})
		}
		return c.json(status, map[string]any{"versions": out})
	}
}
