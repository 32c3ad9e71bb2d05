package compute

import (
	"net/http"
	"slices"

	"kumo/internal/platform/httpapi"
)

// Quota sets and quota class sets (nova/api/openstack/compute/
// quota_sets.py, quota_classes.py) under the unified limits driver: the
// values come from Keystone, so an update is validated and then changes
// nothing (it answers with the current values), and a delete is a no-op
// 202, as Nova does. Limits are changed through Keystone's limits API.
func init() {
	register(
		route{method: "GET", path: "/os-quota-sets/{tenant_id}", query: quotaSetQuery, handle: showQuotaSet(false)},
		route{method: "GET", path: "/os-quota-sets/{tenant_id}/detail", query: quotaSetQuery, handle: showQuotaSet(true)},
		route{method: "GET", path: "/os-quota-sets/{tenant_id}/defaults", handle: quotaSetDefaults},
		route{method: "PUT", path: "/os-quota-sets/{tenant_id}", query: quotaSetQuery, body: quotaSetUpdateSchema, handle: updateQuotaSet},
		route{method: "DELETE", path: "/os-quota-sets/{tenant_id}", query: quotaSetQuery, handle: deleteQuotaSet},
		route{method: "GET", path: "/os-quota-class-sets/{class_id}", rule: "os_compute_api:os-quota-class-sets:show", handle: showQuotaClassSet},
		route{method: "PUT", path: "/os-quota-class-sets/{class_id}", body: quotaClassUpdateSchema, rule: "os_compute_api:os-quota-class-sets:update", handle: updateQuotaClassSet},
	)
}

func quotaSetQuery(mv Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: mv.AtLeast(2, 75), Properties: []Prop{
		{"user_id", multi(&Schema{Type: Types("string")})},
	}}
}

// quotaNames are the legacy quota names a microversion still shows.
// networksGone is the 2.36 cut (quota sets and limits), which quota class
// sets make at 2.50.
func quotaNames(mv Microversion, networksGone Microversion) []string {
	var out []string
	for _, q := range legacyQuotas {
		if mv.AtLeast(networksGone.Major, networksGone.Minor) && slices.Contains(networkQuotas, q.name) {
			continue
		}
		if mv.AtLeast(2, 57) && slices.Contains(injectedQuotas, q.name) {
			continue
		}
		out = append(out, q.name)
	}
	return out
}

// quotaUpdateProps is Nova's quota_resources (common_quota each) for the
// names a microversion accepts.
func quotaUpdateProps(names []string) []Prop {
	var props []Prop
	for _, n := range names {
		props = append(props, Prop{n, &Schema{Type: Types("integer", "string"), Pattern: "^-?[0-9]+$", Minimum: Num(-1), Maximum: Num(0x7FFFFFFF)}})
	}
	return props
}

func quotaSetUpdateSchema(mv Microversion) *Schema {
	names := quotaNames(mv, V(2, 36))
	props := quotaUpdateProps(names)
	if !mv.AtLeast(2, 36) {
		// Accepted by the schema, refused by the handler.
		props = append(props, Prop{"networks", props[0].Schema})
	}
	props = append(props, Prop{"force", booleanSchema()})
	return &Schema{Type: Types("object"), Required: []string{"quota_set"}, NoAdditional: true, Properties: []Prop{
		{"quota_set", &Schema{Type: Types("object"), Properties: props, NoAdditional: true}},
	}}
}

func quotaClassUpdateSchema(mv Microversion) *Schema {
	names := quotaNames(mv, V(2, 50))
	props := quotaUpdateProps(names)
	if !mv.AtLeast(2, 50) {
		props = append(props, Prop{"networks", props[0].Schema})
	}
	return &Schema{Type: Types("object"), Required: []string{"quota_class_set"}, NoAdditional: true, Properties: []Prop{
		{"quota_class_set", &Schema{Type: Types("object"), Properties: props, NoAdditional: true}},
	}}
}

// quotaSetBody is _format_quota_set: the shown names, with id when set;
// detail shows {limit, in_use, reserved} per name.
func quotaSetBody(key, id string, names []string, values map[string]quotaValue, detail bool) map[string]any {
	m := map[string]any{}
	if id != "" {
		m["id"] = id
	}
	for _, n := range names {
		v := values[n]
		if detail {
			m[n] = map[string]int64{"limit": v.Limit, "in_use": v.InUse, "reserved": 0}
		} else {
			m[n] = v.Limit
		}
	}
	return map[string]any{key: m}
}

// quotaTarget enforces rule on the {tenant_id} project and, as Nova's
// identity.verify_project_id, refuses a project Keystone does not know.
func (c *call) quotaTarget(rule string) (string, error) {
	id := c.param("tenant_id")
	if err := c.enforce(rule, map[string]any{"project_id": id}); err != nil {
		return "", err
	}
	if c.s.cfg.Projects != nil {
		ok, err := c.s.cfg.Projects.ProjectExists(c.ctx, id)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", httpapi.BadRequest("Project ID %s is not a valid project.", id)
		}
	}
	return id, nil
}

func showQuotaSet(detail bool) func(c *call) error {
	rule := "os_compute_api:os-quota-sets:show"
	if detail {
		rule = "os_compute_api:os-quota-sets:detail"
	}
	return func(c *call) error {
		id, err := c.quotaTarget(rule)
		if err != nil {
			return err
		}
		values, err := c.s.projectQuotas(c.ctx, id, detail)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, quotaSetBody("quota_set", id, quotaNames(c.mv, V(2, 36)), values, detail))
	}
}

func quotaSetDefaults(c *call) error {
	id, err := c.quotaTarget("os_compute_api:os-quota-sets:defaults")
	if err != nil {
		return err
	}
	values, err := c.s.defaultQuotas(c.ctx)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, quotaSetBody("quota_set", id, quotaNames(c.mv, V(2, 36)), values, false))
}

func updateQuotaSet(c *call) error {
	id, err := c.quotaTarget("os_compute_api:os-quota-sets:update")
	if err != nil {
		return err
	}
	if _, ok := c.obj("quota_set")["networks"]; ok {
		return httpapi.BadRequest("The networks quota has been removed")
	}
	values, err := c.s.projectQuotas(c.ctx, id, false)
	if err != nil {
		return err
	}
	// Nova leaves id out of the update answer.
	return c.json(http.StatusOK, quotaSetBody("quota_set", "", quotaNames(c.mv, V(2, 36)), values, false))
}

func deleteQuotaSet(c *call) error {
	if err := c.enforce("os_compute_api:os-quota-sets:delete", map[string]any{"project_id": c.param("tenant_id")}); err != nil {
		return err
	}
	return c.empty(http.StatusAccepted)
}

// classNames are the names a quota class set shows: before 2.50 the
// server group quotas are left out.
func classNames(mv Microversion) []string {
	names := quotaNames(mv, V(2, 50))
	if !mv.AtLeast(2, 50) {
		names = slices.DeleteFunc(names, func(n string) bool { return n == "server_groups" || n == "server_group_members" })
	}
	return names
}

func showQuotaClassSet(c *call) error {
	values, err := c.s.defaultQuotas(c.ctx)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, quotaSetBody("quota_class_set", c.param("class_id"), classNames(c.mv), values, false))
}

func updateQuotaClassSet(c *call) error {
	if n := len([]rune(c.param("class_id"))); n > 255 {
		return httpapi.BadRequest("Invalid input received: quota_class_name has more than 255 characters.")
	}
	values, err := c.s.defaultQuotas(c.ctx)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, quotaSetBody("quota_class_set", "", classNames(c.mv), values, false))
}
