package image

import (
	"errors"
	"net/http"
	"strings"

	"kumo/internal/platform/db"
	"kumo/internal/platform/httpapi"
)

// Metadata definitions (Glance's /v2/metadefs): namespaces holding
// objects, properties and tags, associated with resource types. Reads
// follow the namespace's visibility (public, or the owner's project);
// writes are admin-only by default policy.
const nsPath = "/v2/metadefs/namespaces/{namespace}"

var metadefRoutes = []route{
	{pattern: "GET /v2/metadefs/namespaces", action: "get_metadef_namespaces", handle: listNamespaces},
	{pattern: "POST /v2/metadefs/namespaces", action: "add_metadef_namespace", handle: createNamespace},
	{pattern: "GET " + nsPath, action: "get_metadef_namespace", target: loadNamespace, handle: showNamespace},
	{pattern: "PUT " + nsPath, action: "modify_metadef_namespace", target: loadNamespace, handle: updateNamespace},
	{pattern: "DELETE " + nsPath, action: "delete_metadef_namespace", target: loadNamespace, handle: deleteNamespace},

	{pattern: "GET " + nsPath + "/objects", action: "get_metadef_objects", target: loadNamespace, handle: listDocs("object")},
	{pattern: "POST " + nsPath + "/objects", action: "add_metadef_object", target: loadNamespace, handle: putDoc("object", false)},
	{pattern: "GET " + nsPath + "/objects/{name}", action: "get_metadef_object", target: loadNamespace, handle: showDoc("object")},
	{pattern: "PUT " + nsPath + "/objects/{name}", action: "modify_metadef_object", target: loadNamespace, handle: putDoc("object", true)},
	{pattern: "DELETE " + nsPath + "/objects/{name}", action: "delete_metadef_object", target: loadNamespace, handle: deleteDoc("object")},

	{pattern: "GET " + nsPath + "/properties", action: "get_metadef_properties", target: loadNamespace, handle: listDocs("property")},
	{pattern: "POST " + nsPath + "/properties", action: "add_metadef_property", target: loadNamespace, handle: putDoc("property", false)},
	{pattern: "GET " + nsPath + "/properties/{name}", action: "get_metadef_property", target: loadNamespace, handle: showDoc("property")},
	{pattern: "PUT " + nsPath + "/properties/{name}", action: "modify_metadef_property", target: loadNamespace, handle: putDoc("property", true)},
	{pattern: "DELETE " + nsPath + "/properties/{name}", action: "remove_metadef_property", target: loadNamespace, handle: deleteDoc("property")},

	{pattern: "GET " + nsPath + "/tags", action: "get_metadef_tags", target: loadNamespace, handle: listMetadefTags},
	{pattern: "POST " + nsPath + "/tags", action: "add_metadef_tags", target: loadNamespace, handle: createMetadefTags},
	{pattern: "DELETE " + nsPath + "/tags", action: "delete_metadef_tags", target: loadNamespace, handle: deleteMetadefTags},
	{pattern: "GET " + nsPath + "/tags/{name}", action: "get_metadef_tag", target: loadNamespace, handle: showMetadefTag},
	{pattern: "POST " + nsPath + "/tags/{name}", action: "add_metadef_tag", target: loadNamespace, handle: createMetadefTag},
	{pattern: "PUT " + nsPath + "/tags/{name}", action: "modify_metadef_tag", target: loadNamespace, handle: updateMetadefTag},
	{pattern: "DELETE " + nsPath + "/tags/{name}", action: "delete_metadef_tag", target: loadNamespace, handle: deleteMetadefTag},

	{pattern: "GET /v2/metadefs/resource_types", action: "list_metadef_resource_types", handle: listResourceTypes},
	{pattern: "GET " + nsPath + "/resource_types", action: "get_metadef_resource_type", target: loadNamespace, handle: listAssociations},
	{pattern: "POST " + nsPath + "/resource_types", action: "add_metadef_resource_type_association", target: loadNamespace, handle: addAssociation},
	{pattern: "DELETE " + nsPath + "/resource_types/{name}", action: "remove_metadef_resource_type_association", target: loadNamespace, handle: deleteAssociation},
}

// loadNamespace finds a namespace the caller may see (404 otherwise).
func loadNamespace(c *call) error {
	name := c.param("namespace")
	n, err := c.s.store.GetNamespace(c.ctx, name)
	if errors.Is(err, errNotFound) || (err == nil && !c.admin && n.Visibility != "public" && (n.Owner == nil || *n.Owner != c.project())) {
		return httpapi.NotFound("Metadata definition namespace=%s was not found.", name)
	}
	if err != nil {
		return err
	}
	c.ns = n
	return nil
}

func (c *call) nsSelf() string { return "/v2/metadefs/namespaces/" + c.ns.Namespace }

func namespaceJSON(n *Namespace) map[string]any {
	out := map[string]any{"namespace": n.Namespace, "visibility": n.Visibility, "protected": n.Protected,
		"created_at": isotime(n.CreatedAt), "updated_at": isotime(n.UpdatedAt),
		"self": "/v2/metadefs/namespaces/" + n.Namespace, "schema": "/v2/schemas/metadefs/namespace"}
	for k, v := range map[string]*string{"display_name": n.DisplayName, "description": n.Description, "owner": n.Owner} {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func assocJSON(a *ResourceTypeAssoc) map[string]any {
	out := map[string]any{"name": a.Name, "created_at": isotime(a.CreatedAt), "updated_at": isotime(a.UpdatedAt)}
	if a.Prefix != nil {
		out["prefix"] = *a.Prefix
	}
	if a.PropertiesTarget != nil {
		out["properties_target"] = *a.PropertiesTarget
	}
	return out
}

// bodyObject decodes a JSON object body.
func (c *call) bodyObject() (map[string]any, error) {
	v, err := c.body()
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, httpapi.BadRequest("The request body must be a JSON object.")
	}
	return m, nil
}

func optStr(m map[string]any, k string) (*string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, httpapi.BadRequest("Invalid input for field '%s': %s is not of type 'string'", k, pyRepr(v))
	}
	return &s, nil
}

func metadefName(m map[string]any, k string, max int) (string, error) {
	s, err := optStr(m, k)
	if err != nil {
		return "", err
	}
	if s == nil || strings.TrimSpace(*s) == "" {
		return "", httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", k, k)
	}
	if len(*s) > max {
		return "", httpapi.BadRequest("Invalid input for field '%s': '%s' is too long", k, *s)
	}
	return *s, nil
}

// namespaceFromBody reads a namespace document onto n.
func (c *call) namespaceFromBody(m map[string]any, n *Namespace) error {
	var err error
	if n.Namespace, err = metadefName(m, "namespace", 80); err != nil {
		return err
	}
	if n.DisplayName, err = optStr(m, "display_name"); err != nil {
		return err
	}
	if n.Description, err = optStr(m, "description"); err != nil {
		return err
	}
	if v, ok := m["visibility"]; ok {
		s, _ := v.(string)
		if s != "public" && s != "private" {
			return httpapi.BadRequest("Invalid input for field 'visibility': %s is not one of ['public', 'private']", pyRepr(v))
		}
		n.Visibility = s
	}
	if v, ok := m["protected"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return httpapi.BadRequest("Invalid input for field 'protected': %s is not of type 'boolean'", pyRepr(v))
		}
		n.Protected = b
	}
	if v, ok := m["owner"]; ok {
		if n.Owner, err = optStr(map[string]any{"owner": v}, "owner"); err != nil {
			return err
		}
	}
	return nil
}

func listNamespaces(c *call) error {
	ns, err := c.s.store.ListNamespaces(c.ctx, c.admin, c.project())
	if err != nil {
		return err
	}
	out := []any{}
	for _, n := range ns {
		out = append(out, namespaceJSON(n))
	}
	return c.json(http.StatusOK, map[string]any{"namespaces": out, "first": "/v2/metadefs/namespaces", "schema": "/v2/schemas/metadefs/namespaces"})
}

func createNamespace(c *call) error {
	m, err := c.bodyObject()
	if err != nil {
		return err
	}
	now := c.s.now()
	n := &Namespace{Visibility: "private", CreatedAt: now, UpdatedAt: now}
	if p := c.project(); p != "" {
		n.Owner = &p
	}
	if err := c.namespaceFromBody(m, n); err != nil {
		return err
	}
	var assocs []*ResourceTypeAssoc
	if list, ok := m["resource_type_associations"].([]any); ok {
		for _, it := range list {
			am, _ := it.(map[string]any)
			a, err := assocFromBody(am)
			a.CreatedAt, a.UpdatedAt = now, now
			if err != nil {
				return err
			}
			assocs = append(assocs, a)
		}
	}
	if err := c.s.store.CreateNamespace(c.ctx, n, assocs); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("Metadata definition namespace=%s already exists.", n.Namespace)
		}
		return err
	}
	out := namespaceJSON(n)
	if len(assocs) > 0 {
		list := []any{}
		for _, a := range assocs {
			list = append(list, assocJSON(a))
		}
		out["resource_type_associations"] = list
	}
	return c.json(http.StatusCreated, out)
}

func showNamespace(c *call) error {
	out := namespaceJSON(c.ns)
	assocs, err := c.s.store.Associations(c.ctx, c.ns.Namespace)
	if err != nil {
		return err
	}
	if len(assocs) > 0 {
		list := []any{}
		for _, a := range assocs {
			list = append(list, assocJSON(a))
		}
		out["resource_type_associations"] = list
	}
	for kind, key := range map[string]string{"property": "properties", "object": "objects"} {
		docs, err := c.s.store.ListDocs(c.ctx, kind, c.ns.Namespace, "")
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			continue
		}
		if kind == "property" {
			props := map[string]any{}
			for _, d := range docs {
				props[d.Name] = d.Doc
			}
			out[key] = props
		} else {
			list := []any{}
			for _, d := range docs {
				list = append(list, c.docJSON(kind, d))
			}
			out[key] = list
		}
	}
	tags, err := c.s.store.ListMetadefTags(c.ctx, c.ns.Namespace, "")
	if err != nil {
		return err
	}
	if len(tags) > 0 {
		list := []any{}
		for _, t := range tags {
			list = append(list, map[string]any{"name": t.Name})
		}
		out["tags"] = list
	}
	return c.json(http.StatusOK, out)
}

func updateNamespace(c *call) error {
	m, err := c.bodyObject()
	if err != nil {
		return err
	}
	old, n := c.ns.Namespace, *c.ns
	if err := c.namespaceFromBody(m, &n); err != nil {
		return err
	}
	n.UpdatedAt = c.s.now()
	if err := c.s.store.UpdateNamespace(c.ctx, old, &n); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("Metadata definition namespace=%s already exists.", n.Namespace)
		}
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Metadata definition namespace=%s was not found.", old)
		}
		return err
	}
	return c.json(http.StatusOK, namespaceJSON(&n))
}

func deleteNamespace(c *call) error {
	if c.ns.Protected {
		return httpapi.Forbidden("Namespace %s is protected and cannot be deleted.", c.ns.Namespace)
	}
	if err := c.s.store.DeleteNamespace(c.ctx, c.ns.Namespace); err != nil {
		return err
	}
	return c.noContent()
}

// docJSON renders an object (with self and schema) or a property.
func (c *call) docJSON(kind string, d *MetadefDoc) map[string]any {
	out := map[string]any{}
	for k, v := range d.Doc {
		out[k] = v
	}
	out["name"] = d.Name
	if kind == "object" {
		out["created_at"], out["updated_at"] = isotime(d.CreatedAt), isotime(d.UpdatedAt)
		out["self"] = c.nsSelf() + "/objects/" + d.Name
		out["schema"] = "v2/schemas/metadefs/object"
		if _, ok := out["required"]; !ok {
			out["required"] = []any{}
		}
		if _, ok := out["properties"]; !ok {
			out["properties"] = map[string]any{}
		}
	}
	return out
}

func listDocs(kind string) func(c *call) error {
	return func(c *call) error {
		docs, err := c.s.store.ListDocs(c.ctx, kind, c.ns.Namespace, "")
		if err != nil {
			return err
		}
		if kind == "property" {
			props := map[string]any{}
			for _, d := range docs {
				props[d.Name] = d.Doc
			}
			return c.json(http.StatusOK, map[string]any{"properties": props})
		}
		list := []any{}
		for _, d := range docs {
			list = append(list, c.docJSON(kind, d))
		}
		return c.json(http.StatusOK, map[string]any{"objects": list, "schema": "v2/schemas/metadefs/objects"})
	}
}

func (c *call) findDoc(kind, name string) (*MetadefDoc, error) {
	docs, err := c.s.store.ListDocs(c.ctx, kind, c.ns.Namespace, name)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, httpapi.NotFound("Could not find %s %s", kind, name)
	}
	return docs[0], nil
}

func showDoc(kind string) func(c *call) error {
	return func(c *call) error {
		d, err := c.findDoc(kind, c.param("name"))
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, c.docJSON(kind, d))
	}
}

// putDoc creates (POST) or replaces (PUT, possibly renaming) an object or
// property. A property needs a title and a type, as Glance's schema.
func putDoc(kind string, replace bool) func(c *call) error {
	return func(c *call) error {
		m, err := c.bodyObject()
		if err != nil {
			return err
		}
		name, err := metadefName(m, "name", 80)
		if err != nil {
			return err
		}
		if kind == "property" {
			for _, k := range []string{"title", "type"} {
				if _, ok := m[k].(string); !ok {
					return httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", k, k)
				}
			}
		}
		delete(m, "name")
		for _, k := range []string{"created_at", "updated_at", "self", "schema"} {
			delete(m, k)
		}
		now := c.s.now()
		d := &MetadefDoc{Name: name, Doc: m, CreatedAt: now, UpdatedAt: now}
		old := ""
		if replace {
			prev, err := c.findDoc(kind, c.param("name"))
			if err != nil {
				return err
			}
			old, d.CreatedAt = prev.Name, prev.CreatedAt
		}
		if err := c.s.store.PutDoc(c.ctx, kind, c.ns.Namespace, old, d); err != nil {
			if db.IsUniqueViolation(err) {
				return httpapi.Conflict("A metadata definition %s with name=%s already exists in namespace=%s.", kind, name, c.ns.Namespace)
			}
			return err
		}
		status := http.StatusCreated
		if replace {
			status = http.StatusOK
		}
		return c.json(status, c.docJSON(kind, d))
	}
}

func deleteDoc(kind string) func(c *call) error {
	return func(c *call) error {
		if err := c.s.store.DeleteDoc(c.ctx, kind, c.ns.Namespace, c.param("name")); err != nil {
			if errors.Is(err, errNotFound) {
				return httpapi.NotFound("Could not find %s %s", kind, c.param("name"))
			}
			return err
		}
		return c.noContent()
	}
}

func tagJSON(t *MetadefTag) map[string]any {
	return map[string]any{"name": t.Name, "created_at": isotime(t.CreatedAt), "updated_at": isotime(t.UpdatedAt)}
}

func listMetadefTags(c *call) error {
	tags, err := c.s.store.ListMetadefTags(c.ctx, c.ns.Namespace, "")
	if err != nil {
		return err
	}
	list := []any{}
	for _, t := range tags {
		list = append(list, tagJSON(t))
	}
	return c.json(http.StatusOK, map[string]any{"tags": list})
}

// createMetadefTags replaces the namespace's tags with the given ones, or
// appends them with X-Openstack-Append: True.
func createMetadefTags(c *call) error {
	m, err := c.bodyObject()
	if err != nil {
		return err
	}
	list, ok := m["tags"].([]any)
	if !ok {
		return httpapi.BadRequest("Invalid input for field 'tags': 'tags' is a required property")
	}
	now := c.s.now()
	var tags []*MetadefTag
	seen := map[string]bool{}
	for _, it := range list {
		tm, _ := it.(map[string]any)
		name, err := metadefName(tm, "name", 255)
		if err != nil {
			return err
		}
		if seen[name] {
			return httpapi.Conflict("Duplicate tag %s.", name)
		}
		seen[name] = true
		tags = append(tags, &MetadefTag{Name: name, CreatedAt: now, UpdatedAt: now})
	}
	appendTags := strings.EqualFold(c.r.Header.Get("X-Openstack-Append"), "true")
	if err := c.s.store.AddMetadefTags(c.ctx, c.ns.Namespace, tags, !appendTags); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("A metadata tag already exists in namespace=%s.", c.ns.Namespace)
		}
		return err
	}
	out := []any{}
	for _, t := range tags {
		out = append(out, map[string]any{"name": t.Name})
	}
	return c.json(http.StatusCreated, map[string]any{"tags": out})
}

func deleteMetadefTags(c *call) error {
	if err := c.s.store.DeleteMetadefTags(c.ctx, c.ns.Namespace, ""); err != nil {
		return err
	}
	return c.noContent()
}

func (c *call) findTag(name string) (*MetadefTag, error) {
	tags, err := c.s.store.ListMetadefTags(c.ctx, c.ns.Namespace, name)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, httpapi.NotFound("Could not find metadata tag %s", name)
	}
	return tags[0], nil
}

func showMetadefTag(c *call) error {
	t, err := c.findTag(c.param("name"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, tagJSON(t))
}

func createMetadefTag(c *call) error {
	now := c.s.now()
	t := &MetadefTag{Name: c.param("name"), CreatedAt: now, UpdatedAt: now}
	if len(t.Name) > 255 {
		return httpapi.BadRequest("Invalid input for field 'name': is too long")
	}
	if err := c.s.store.AddMetadefTags(c.ctx, c.ns.Namespace, []*MetadefTag{t}, false); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("A metadata tag with name=%s already exists in namespace=%s.", t.Name, c.ns.Namespace)
		}
		return err
	}
	return c.json(http.StatusCreated, tagJSON(t))
}

func updateMetadefTag(c *call) error {
	m, err := c.bodyObject()
	if err != nil {
		return err
	}
	name, err := metadefName(m, "name", 255)
	if err != nil {
		return err
	}
	t, err := c.findTag(c.param("name"))
	if err != nil {
		return err
	}
	now := c.s.now()
	if err := c.s.store.RenameMetadefTag(c.ctx, c.ns.Namespace, t.Name, name, now); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("A metadata tag with name=%s already exists in namespace=%s.", name, c.ns.Namespace)
		}
		return err
	}
	t.Name, t.UpdatedAt = name, now
	return c.json(http.StatusOK, tagJSON(t))
}

func deleteMetadefTag(c *call) error {
	if err := c.s.store.DeleteMetadefTags(c.ctx, c.ns.Namespace, c.param("name")); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find metadata tag %s", c.param("name"))
		}
		return err
	}
	return c.noContent()
}

func listResourceTypes(c *call) error {
	rts, err := c.s.store.ResourceTypes(c.ctx)
	if err != nil {
		return err
	}
	list := []any{}
	for _, a := range rts {
		list = append(list, map[string]any{"name": a.Name, "created_at": isotime(a.CreatedAt), "updated_at": isotime(a.UpdatedAt)})
	}
	return c.json(http.StatusOK, map[string]any{"resource_types": list})
}

func listAssociations(c *call) error {
	as, err := c.s.store.Associations(c.ctx, c.ns.Namespace)
	if err != nil {
		return err
	}
	list := []any{}
	for _, a := range as {
		list = append(list, assocJSON(a))
	}
	return c.json(http.StatusOK, map[string]any{"resource_type_associations": list})
}

func assocFromBody(m map[string]any) (*ResourceTypeAssoc, error) {
	name, err := metadefName(m, "name", 80)
	if err != nil {
		return nil, err
	}
	a := &ResourceTypeAssoc{Name: name}
	if a.Prefix, err = optStr(m, "prefix"); err != nil {
		return nil, err
	}
	if a.PropertiesTarget, err = optStr(m, "properties_target"); err != nil {
		return nil, err
	}
	return a, nil
}

func addAssociation(c *call) error {
	m, err := c.bodyObject()
	if err != nil {
		return err
	}
	a, err := assocFromBody(m)
	if err != nil {
		return err
	}
	a.CreatedAt = c.s.now()
	a.UpdatedAt = a.CreatedAt
	if err := c.s.store.AddAssociation(c.ctx, c.ns.Namespace, a); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("The metadata definition resource-type association of resource-type=%s to namespace=%s, already exists.", a.Name, c.ns.Namespace)
		}
		return err
	}
	return c.json(http.StatusCreated, assocJSON(a))
}

func deleteAssociation(c *call) error {
	if err := c.s.store.DeleteAssociation(c.ctx, c.ns.Namespace, c.param("name")); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("The metadata definition resource-type association of resource-type=%s to namespace=%s, was not found.", c.param("name"), c.ns.Namespace)
		}
		return err
	}
	return c.noContent()
}
