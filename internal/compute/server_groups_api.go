package compute

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"kumo/internal/platform/httpapi"
)

// Server groups (nova/api/openstack/compute/server_groups.py). Until 2.64
// a group shows a one-item "policies" list and an empty "metadata"; from
// 2.64 "policy" and "rules". The rules' target is the group's project, so
// show and delete enforce them after loading it.
func init() {
	register(
		route{method: "GET", path: "/os-server-groups", query: serverGroupListQuery, handle: listServerGroups},
		route{method: "POST", path: "/os-server-groups", body: serverGroupCreateSchema, rule: "os_compute_api:os-server-groups:create", handle: createServerGroup},
		route{method: "GET", path: "/os-server-groups/{group_id}", handle: showServerGroup},
		route{method: "DELETE", path: "/os-server-groups/{group_id}", handle: deleteServerGroup},
	)
}

func serverGroupListQuery(mv Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: mv.AtLeast(2, 75), Properties: []Prop{
		{"all_projects", multi(&Schema{Type: Types("string")})},
		{"limit", multi(nonNegativeInt())},
		{"offset", multi(nonNegativeInt())},
	}}
}

func serverGroupCreateSchema(mv Microversion) *Schema {
	name := &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: "name"}
	policies := []any{"anti-affinity", "affinity"}
	if mv.AtLeast(2, 15) {
		policies = append(policies, "soft-anti-affinity", "soft-affinity")
	}
	props := []Prop{{"name", name}}
	required := []string{"name"}
	if mv.AtLeast(2, 64) {
		props = append(props,
			Prop{"policy", &Schema{Type: Types("string"), Enum: []any{"anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"}}},
			Prop{"rules", &Schema{Type: Types("object"), NoAdditional: true, Properties: []Prop{
				{"max_server_per_host", &Schema{Type: Types("integer", "string"), Pattern: "^[0-9]*$", Minimum: Num(1), MinLength: 1}},
			}}})
		required = append(required, "policy")
	} else {
		props = append(props, Prop{"policies", &Schema{Type: Types("array"), MinItems: 1, MaxItems: 1,
			Items: &Schema{Type: Types("string"), Enum: policies}}})
		required = append(required, "policies")
	}
	return &Schema{Type: Types("object"), Required: []string{"server_group"}, NoAdditional: true, Properties: []Prop{
		{"server_group", &Schema{Type: Types("object"), Properties: props, Required: required, NoAdditional: true}},
	}}
}

// serverGroupView is Nova's _format_server_group.
func (c *call) serverGroupView(g *ServerGroup) map[string]any {
	m := map[string]any{"id": g.UUID, "name": g.Name, "members": g.Members}
	if m["members"] == nil {
		m["members"] = []string{}
	}
	if c.mv.AtLeast(2, 64) {
		m["policy"] = g.Policy
		m["rules"] = g.Rules
	} else {
		m["policies"] = []string{g.Policy}
		m["metadata"] = map[string]any{}
	}
	if c.mv.AtLeast(2, 13) {
		m["project_id"] = g.ProjectID
		m["user_id"] = g.UserID
	}
	return m
}

func createServerGroup(c *call) error {
	in := c.obj("server_group")
	g := &ServerGroup{UUID: newUUID(), Name: in["name"].(string), ProjectID: c.project(), UserID: c.user(),
		Rules: map[string]any{}, CreatedAt: c.s.now()}
	if c.mv.AtLeast(2, 64) {
		g.Policy = in["policy"].(string)
		if rules, ok := in["rules"].(map[string]any); ok && len(rules) > 0 {
			if g.Policy != "anti-affinity" {
				return httpapi.BadRequest("Only anti-affinity policy supports rules.")
			}
			if v, ok := rules["max_server_per_host"]; ok {
				n, err := positiveInt(v)
				if err != nil {
					return httpapi.BadRequest("Invalid input for field/attribute max_server_per_host. Value: %v. %v", v, err)
				}
				g.Rules["max_server_per_host"] = n
			}
		}
	} else {
		g.Policy = in["policies"].([]any)[0].(string)
	}
	err := c.s.serverGroups().create(c.ctx, g, func(count int64) error {
		return c.s.enforceQuota(c.ctx, g.ProjectID, map[string]int64{resServerGroups: count}, map[string]int64{resServerGroups: 1})
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"server_group": c.serverGroupView(g)})
}

// positiveInt reads a validated positive_integer (a JSON number or a
// digit string).
func positiveInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Int64()
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, errors.New("not an integer")
}

// loadServerGroup loads {group_id} and checks rule against its project:
// 404 if it does not exist, then 403.
func (c *call) loadServerGroup(rule string) (*ServerGroup, error) {
	id := c.param("group_id")
	g, err := c.s.serverGroups().get(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Instance group %s could not be found.", id)
	}
	if err != nil {
		return nil, err
	}
	if err := c.enforce(rule, map[string]any{"project_id": g.ProjectID}); err != nil {
		return nil, err
	}
	return g, nil
}

func showServerGroup(c *call) error {
	g, err := c.loadServerGroup("os_compute_api:os-server-groups:show")
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"server_group": c.serverGroupView(g)})
}

func deleteServerGroup(c *call) error {
	g, err := c.loadServerGroup("os_compute_api:os-server-groups:delete")
	if err != nil {
		return err
	}
	if err := c.s.serverGroups().delete(c.ctx, g.UUID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Instance group %s could not be found.", g.UUID)
		}
		return err
	}
	return c.empty(http.StatusNoContent)
}

func listServerGroups(c *call) error {
	if err := c.enforce("os_compute_api:os-server-groups:index", map[string]any{"project_id": c.project()}); err != nil {
		return err
	}
	project := c.project()
	q := c.r.URL.Query()
	// As Nova: all_projects (any value) only counts for an admin; others
	// get their own groups, not a 403.
	if _, ok := q["all_projects"]; ok && c.admin {
		if err := c.enforce("os_compute_api:os-server-groups:index:all_projects", map[string]any{"project_id": project}); err != nil {
			return err
		}
		project = ""
	}
	offset, limit, err := limitedParams(q)
	if err != nil {
		return err
	}
	list, err := c.s.serverGroups().list(c.ctx, project, offset, limit)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, g := range list {
		out = append(out, c.serverGroupView(g))
	}
	return c.json(http.StatusOK, map[string]any{"server_groups": out})
}

// limitedParams reads Nova's common.limited offset and limit (limit 0 or
// absent is max_limit).
func limitedParams(q map[string][]string) (offset, limit int, err error) {
	limit = maxLimit
	if v, ok := q["offset"]; ok {
		n, e := strconv.Atoi(last(v))
		if e != nil {
			return 0, 0, httpapi.BadRequest("offset param must be an integer")
		}
		if n < 0 {
			return 0, 0, httpapi.BadRequest("offset param must be positive")
		}
		offset = n
	}
	if v, ok := q["limit"]; ok {
		n, e := strconv.Atoi(last(v))
		if e != nil {
			return 0, 0, httpapi.BadRequest("limit param must be an integer")
		}
		if n < 0 {
			return 0, 0, httpapi.BadRequest("limit param must be positive")
		}
		if n > 0 {
			limit = min(n, maxLimit)
		}
	}
	return offset, limit, nil
}
