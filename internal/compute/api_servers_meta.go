package compute

import (
	"errors"
	"net/http"
	"net/url"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

func init() {
	register(
		route{method: "GET", path: "/servers/{server_id}/metadata", handle: listServerMeta},
		route{method: "POST", path: "/servers/{server_id}/metadata", body: metaBodySchema("metadata"), handle: setServerMeta(false)},
		route{method: "PUT", path: "/servers/{server_id}/metadata", body: metaBodySchema("metadata"), handle: setServerMeta(true)},
		route{method: "GET", path: "/servers/{server_id}/metadata/{key}", handle: showServerMeta},
		route{method: "PUT", path: "/servers/{server_id}/metadata/{key}", body: metaBodySchema("meta"), handle: putServerMetaItem},
		route{method: "DELETE", path: "/servers/{server_id}/metadata/{key}", handle: deleteServerMeta},

		route{method: "GET", path: "/servers/{server_id}/tags", min: V(2, 26), handle: listServerTags},
		route{method: "PUT", path: "/servers/{server_id}/tags", min: V(2, 26), body: tagsBodySchema, handle: replaceServerTags},
		route{method: "DELETE", path: "/servers/{server_id}/tags", min: V(2, 26), handle: deleteServerTags},
		route{method: "GET", path: "/servers/{server_id}/tags/{tag}", min: V(2, 26), handle: showServerTag},
		route{method: "PUT", path: "/servers/{server_id}/tags/{tag}", min: V(2, 26), handle: putServerTag},
		route{method: "DELETE", path: "/servers/{server_id}/tags/{tag}", min: V(2, 26), handle: deleteServerTag},
	)
}

func metaBodySchema(key string) func(Microversion) *Schema {
	return func(Microversion) *Schema {
		m := metadataSchema()
		if key == "meta" {
			m.MinProperties, m.MaxProperties = 1, 1
		}
		return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{key}, Properties: []Prop{{key, m}}}
	}
}

// metaWritable is Nova's check_instance_state of the metadata calls
// (action is the name Nova's 409 shows).
func metaWritable(in *Instance, method string) error {
	switch in.VMState {
	case manager.VMActive, manager.VMPaused, manager.VMSuspended, manager.VMStopped:
	default:
		return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: method, UUID: in.UUID, Attr: "vm_state", State: in.VMState}).Error())
	}
	if in.TaskState != manager.TaskNone {
		return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: method, UUID: in.UUID, Attr: "task_state", State: in.TaskState}).Error())
	}
	return nil
}

func listServerMeta(c *call) error {
	in, err := c.loadServer("os_compute_api:server-metadata:index")
	if err != nil {
		return err
	}
	meta, err := c.s.instances().metadata(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"metadata": meta})
}

func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}

// writeMeta merges (or replaces) metadata after Nova's checks: the lock,
// the state, the metadata_items quota on the result.
func (c *call) writeMeta(in *Instance, meta map[string]string, replace bool) error {
	if err := c.checkLocked(in); err != nil {
		return err
	}
	if err := metaWritable(in, "update metadata"); err != nil {
		return err
	}
	st := c.s.instances()
	cur, err := st.metadata(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	n := len(meta)
	if !replace {
		for k := range cur {
			if _, ok := meta[k]; !ok {
				n++
			}
		}
	}
	if err := c.s.checkMetadataQuota(c.ctx, in.ProjectID, n); err != nil {
		return err
	}
	return st.setMetadata(c.ctx, in.UUID, meta, replace, -1)
}

func setServerMeta(replace bool) func(c *call) error {
	return func(c *call) error {
		rule := "os_compute_api:server-metadata:create"
		if replace {
			rule = "os_compute_api:server-metadata:update_all"
		}
		in, err := c.loadServer(rule)
		if err != nil {
			return err
		}
		if err := c.writeMeta(in, stringMap(c.obj("metadata")), replace); err != nil {
			return err
		}
		meta, err := c.s.instances().metadata(c.ctx, in.UUID)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, map[string]any{"metadata": meta})
	}
}

func showServerMeta(c *call) error {
	in, err := c.loadServer("os_compute_api:server-metadata:show")
	if err != nil {
		return err
	}
	meta, err := c.s.instances().metadata(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	key := c.param("key")
	v, ok := meta[key]
	if !ok {
		return httpapi.NotFound("Metadata item was not found")
	}
	return c.json(http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
}

func putServerMetaItem(c *call) error {
	in, err := c.loadServer("os_compute_api:server-metadata:update")
	if err != nil {
		return err
	}
	meta := stringMap(c.obj("meta"))
	key := c.param("key")
	if _, ok := meta[key]; !ok {
		return httpapi.BadRequest("Request body and URI mismatch")
	}
	if err := c.writeMeta(in, meta, false); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"meta": meta})
}

func deleteServerMeta(c *call) error {
	in, err := c.loadServer("os_compute_api:server-metadata:delete")
	if err != nil {
		return err
	}
	meta, err := c.s.instances().metadata(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	if _, ok := meta[c.param("key")]; !ok {
		return httpapi.NotFound("Metadata item was not found")
	}
	if err := c.checkLocked(in); err != nil {
		return err
	}
	if err := metaWritable(in, "delete metadata"); err != nil {
		return err
	}
	if err := c.s.instances().deleteMetadata(c.ctx, in.UUID, c.param("key")); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Metadata item was not found")
		}
		return err
	}
	return c.empty(http.StatusNoContent)
}

func tagsBodySchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"tags"}, Properties: []Prop{
		{"tags", &Schema{Type: Types("array"), Items: tagSchema()}},
	}}
}

// tagWritable is Nova's _check_instance_in_valid_state of the tag calls.
func tagWritable(in *Instance, action string) error {
	switch in.VMState {
	case manager.VMActive, manager.VMPaused, manager.VMSuspended, manager.VMStopped:
		return nil
	}
	return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: action, UUID: in.UUID, Attr: "vm_state", State: in.VMState}).Error())
}

func (c *call) tagTarget(rule, action string, write bool) (*Instance, error) {
	in, err := c.loadServer(rule)
	if err != nil {
		return nil, err
	}
	if write {
		if err := tagWritable(in, action); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func listServerTags(c *call) error {
	in, err := c.tagTarget("os_compute_api:os-server-tags:index", "", false)
	if err != nil {
		return err
	}
	tags, err := c.s.instances().tags(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"tags": tags})
}

func tooManyTags() error {
	return httpapi.BadRequest("The number of tags exceeded the per-server limit %d", maxTags)
}

func replaceServerTags(c *call) error {
	in, err := c.tagTarget("os_compute_api:os-server-tags:update_all", "update tags", true)
	if err != nil {
		return err
	}
	var tags []string
	for _, t := range listOf(c.body.(map[string]any)["tags"]) {
		tags = append(tags, t.(string))
	}
	if len(tags) > maxTags {
		return tooManyTags()
	}
	if err := c.s.instances().setTags(c.ctx, in.UUID, tags, true); err != nil {
		if errors.Is(err, errTooManyTags) {
			return tooManyTags()
		}
		return err
	}
	out, err := c.s.instances().tags(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"tags": out})
}

func deleteServerTags(c *call) error {
	in, err := c.tagTarget("os_compute_api:os-server-tags:delete_all", "delete tags", true)
	if err != nil {
		return err
	}
	if err := c.s.instances().deleteTags(c.ctx, in.UUID, ""); err != nil {
		return err
	}
	return c.empty(http.StatusNoContent)
}

func tagNotFound(uuid, tag string) error {
	return httpapi.NotFound("Instance %s has no tag '%s'", uuid, tag)
}

func serverTagNotFound(uuid, tag string) error {
	return httpapi.NotFound("Server %s has no tag '%s'", uuid, tag)
}

func showServerTag(c *call) error {
	in, err := c.tagTarget("os_compute_api:os-server-tags:show", "", false)
	if err != nil {
		return err
	}
	tags, err := c.s.instances().tags(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	if !contains(tags, c.param("tag")) {
		return serverTagNotFound(in.UUID, c.param("tag"))
	}
	return c.empty(http.StatusNoContent)
}

func putServerTag(c *call) error {
	in, err := c.tagTarget("os_compute_api:os-server-tags:update", "update tag", true)
	if err != nil {
		return err
	}
	tag := c.param("tag")
	if e := tagSchema().check(tag, nil); e != nil {
		return httpapi.BadRequest("Tag '%s' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: %s", tag, e.msg)
	}
	tags, err := c.s.instances().tags(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	// Nova counts before it looks for the tag.
	if len(tags) >= maxTags {
		return tooManyTags()
	}
	if contains(tags, tag) {
		return c.empty(http.StatusNoContent)
	}
	if err := c.s.instances().setTags(c.ctx, in.UUID, []string{tag}, false); err != nil {
		if errors.Is(err, errTooManyTags) {
			return tooManyTags()
		}
		return err
	}
	loc := c.links("servers", in.UUID)[0]["href"] + "/tags/" + url.PathEscape(tag)
	c.w.Header().Set("Location", loc)
	return c.empty(http.StatusCreated)
}

func deleteServerTag(c *call) error {
	in, err := c.tagTarget("os_compute_api:os-server-tags:delete", "delete tag", true)
	if err != nil {
		return err
	}
	if err := c.s.instances().deleteTags(c.ctx, in.UUID, c.param("tag")); err != nil {
		if errors.Is(err, errNotFound) {
			return tagNotFound(in.UUID, c.param("tag"))
		}
		return err
	}
	return c.empty(http.StatusNoContent)
}
