package identity

import (
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

var groupRoutes = []route{
	{pattern: "POST /v3/groups", action: "identity:create_group", target: newGroupTarget, handle: createGroup},
	{pattern: "GET /v3/groups", action: "identity:list_groups", target: listGroupsTarget, handle: listGroups},
	{pattern: "GET /v3/groups/{group_id}", action: "identity:get_group", target: groupTarget, handle: getGroup},
	{pattern: "PATCH /v3/groups/{group_id}", action: "identity:update_group", target: groupTarget, handle: updateGroup},
	{pattern: "DELETE /v3/groups/{group_id}", action: "identity:delete_group", target: groupTarget, handle: deleteGroup},
	{pattern: "GET /v3/groups/{group_id}/users", action: "identity:list_users_in_group", target: groupTarget, handle: listGroupUsers},
	{pattern: "PUT /v3/groups/{group_id}/users/{user_id}", action: "identity:add_user_to_group", target: membershipTarget, handle: addGroupUser},
	{pattern: "GET /v3/groups/{group_id}/users/{user_id}", action: "identity:check_user_in_group", target: membershipTarget, handle: checkGroupUser},
	{pattern: "DELETE /v3/groups/{group_id}/users/{user_id}", action: "identity:remove_user_from_group", target: membershipTarget, handle: removeGroupUser},
}

// groupAttrs are the attributes of a group that are not extras.
var groupAttrs = []string{"id", "name", "domain_id", "description", "links"}

func groupPolicyTarget(g *Group) map[string]any {
	return map[string]any{"target": map[string]any{"group": map[string]any{"id": g.ID, "domain_id": g.DomainID}}}
}

// groupTarget loads the group of the path; a missing group leaves
// target.group out and the handler answers 404.
func groupTarget(c *call) (map[string]any, error) {
	g, err := c.s.store.GetGroup(c.ctx, c.param("group_id"))
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.loaded = g
	return groupPolicyTarget(g), nil
}

func (c *call) pathGroup() (*Group, error) {
	if g, ok := c.loaded.(*Group); ok && g != nil {
		return g, nil
	}
	return nil, httpapi.NotFound("Could not find group: %s.", c.param("group_id"))
}

func newGroupTarget(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	gm, err := object(body, "group")
	if err != nil {
		c.loaded = err
		return nil, nil
	}
	c.input = gm
	return map[string]any{"target": map[string]any{"group": gm}}, nil
}

func listGroupsTarget(c *call) (map[string]any, error) {
	if c.tok.DomainID != "" {
		return map[string]any{"target": map[string]any{"group": map[string]any{"domain_id": c.tok.DomainID}}}, nil
	}
	return nil, nil
}

// membership is what membershipTarget loads: either may be nil.
type membership struct {
	group *Group
	user  *User
}

func membershipTarget(c *call) (map[string]any, error) {
	var m membership
	t := map[string]any{}
	g, err := c.s.store.GetGroup(c.ctx, c.param("group_id"))
	switch {
	case err == nil:
		m.group = g
		t["group"] = map[string]any{"id": g.ID, "domain_id": g.DomainID}
	case !errors.Is(err, errNotFound):
		return nil, err
	}
	u, err := c.s.store.GetUser(c.ctx, c.param("user_id"))
	switch {
	case err == nil:
		m.user = u
		t["user"] = map[string]any{"id": u.ID, "domain_id": u.DomainID}
	case !errors.Is(err, errNotFound):
		return nil, err
	}
	c.loaded = m
	return map[string]any{"target": t}, nil
}

// pathMembership returns the group and user of the path, or the 404 of the
// first one missing (group first, as Keystone checks).
func (c *call) pathMembership() (*Group, *User, error) {
	m, _ := c.loaded.(membership)
	if m.group == nil {
		return nil, nil, httpapi.NotFound("Could not find group: %s.", c.param("group_id"))
	}
	if m.user == nil {
		return nil, nil, httpapi.NotFound("Could not find user: %s.", c.param("user_id"))
	}
	return m.group, m.user, nil
}

func (c *call) groupJSON(g *Group) map[string]any {
	out := map[string]any{"id": g.ID, "name": g.Name, "domain_id": g.DomainID, "description": g.Description,
		"links": c.self("groups/" + g.ID)}
	return mergeExtra(out, g.Extra)
}

func createGroup(c *call) error {
	if err, ok := c.loaded.(error); ok {
		return err
	}
	gm := c.input
	nm, _, err := identityName(gm, "name", true)
	if err != nil {
		return err
	}
	g := &Group{ID: newID(), Name: nm}
	if g.DomainID, _, err = identityID(gm, "domain_id"); err != nil {
		return err
	}
	if g.DomainID == "" {
		g.DomainID = c.callerDomain()
	}
	if g.Description, _, err = optString(gm, "description", 0, true); err != nil {
		return err
	}
	g.Extra = extras(gm, groupAttrs...)
	if err := c.s.requireDomain(c.ctx, g.DomainID); err != nil {
		return err
	}
	if err := c.s.store.CreateGroup(c.ctx, g); err != nil {
		return c.s.conflict(err, "group", "Duplicate entry found with name "+g.Name+" at domain ID "+g.DomainID)
	}
	return c.json(http.StatusCreated, map[string]any{"group": c.groupJSON(g)})
}

func listGroups(c *call) error {
	q := c.r.URL.Query()
	f := GroupFilter{DomainID: q.Get("domain_id"), Name: q.Get("name")}
	out := []any{}
	if tokDomain := c.tok.DomainID; tokDomain != "" {
		if f.DomainID != "" && f.DomainID != tokDomain {
			return c.json(http.StatusOK, map[string]any{"groups": out, "links": c.listLinks()})
		}
		f.DomainID = tokDomain
	}
	gs, err := c.s.store.ListGroups(c.ctx, f)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if hintsMatch(q, "name", g.Name) {
			out = append(out, c.groupJSON(g))
		}
	}
	return c.json(http.StatusOK, map[string]any{"groups": out, "links": c.listLinks()})
}

func getGroup(c *call) error {
	g, err := c.pathGroup()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"group": c.groupJSON(g)})
}

func updateGroup(c *call) error {
	g, err := c.pathGroup()
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	gm, err := object(body, "group")
	if err != nil {
		return err
	}
	if len(gm) == 0 {
		return invalid("group", "{} does not have enough properties")
	}
	if v, ok := gm["id"]; ok && v != nil && v != g.ID {
		return httpapi.BadRequest("Cannot change ID")
	}
	if v, ok, err := identityID(gm, "domain_id"); err != nil {
		return err
	} else if ok && v != g.DomainID {
		return httpapi.BadRequest("Cannot change Domain ID")
	}
	if v, ok, err := identityName(gm, "name", false); err != nil {
		return err
	} else if ok {
		g.Name = v
	}
	if v, ok, err := optString(gm, "description", 0, true); err != nil {
		return err
	} else if ok {
		g.Description = v
	}
	if g.Extra == nil {
		g.Extra = map[string]any{}
	}
	for k, v := range extras(gm, groupAttrs...) {
		g.Extra[k] = v
	}
	if err := c.s.store.UpdateGroup(c.ctx, g); err != nil {
		return c.s.conflict(err, "group", "Duplicate entry found with name "+g.Name)
	}
	return c.json(http.StatusOK, map[string]any{"group": c.groupJSON(g)})
}

// deleteGroup removes the group with its memberships and grants. As
// Keystone, the members' tokens are revoked when the group held roles.
func deleteGroup(c *call) error {
	g, err := c.pathGroup()
	if err != nil {
		return err
	}
	hadRoles, err := c.s.store.GroupHasAssignments(c.ctx, g.ID)
	if err != nil {
		return err
	}
	members, err := c.s.store.ListUsers(c.ctx, UserFilter{GroupID: g.ID})
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteGroup(c.ctx, g.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find group: %s.", g.ID)
		}
		return err
	}
	if hadRoles {
		for _, u := range members {
			if err := c.s.Revoke(c.ctx, RevocationEvent{UserID: u.ID}); err != nil {
				return err
			}
		}
	}
	return c.noContent()
}

func listGroupUsers(c *call) error {
	g, err := c.pathGroup()
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	f := UserFilter{GroupID: g.ID, DomainID: q.Get("domain_id"), Name: q.Get("name")}
	if q.Has("enabled") {
		b := attrAsBoolean(q.Get("enabled"))
		f.Enabled = &b
	}
	keep, err := userListFilter(q)
	if err != nil {
		return err
	}
	us, err := c.s.store.ListUsers(c.ctx, f)
	if err != nil {
		return err
	}
	out := []any{}
	for _, u := range us {
		if keep(u) && (c.tok.DomainID == "" || u.DomainID == c.tok.DomainID) {
			out = append(out, c.userJSON(u))
		}
	}
	return c.json(http.StatusOK, map[string]any{"users": out, "links": c.listLinks()})
}

func addGroupUser(c *call) error {
	g, u, err := c.pathMembership()
	if err != nil {
		return err
	}
	if err := c.s.store.AddUserToGroup(c.ctx, u.ID, g.ID); err != nil {
		return err
	}
	return c.noContent()
}

func checkGroupUser(c *call) error {
	g, u, err := c.pathMembership()
	if err != nil {
		return err
	}
	in, err := c.s.store.IsUserInGroup(c.ctx, u.ID, g.ID)
	if err != nil {
		return err
	}
	if !in {
		return httpapi.NotFound("User '%s' not found in group '%s'", u.ID, g.ID)
	}
	return c.noContent()
}

// removeGroupUser ends a membership and, as Keystone, revokes the user's
// tokens: they may carry roles that came through the group.
func removeGroupUser(c *call) error {
	g, u, err := c.pathMembership()
	if err != nil {
		return err
	}
	if err := c.s.store.RemoveUserFromGroup(c.ctx, u.ID, g.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("User '%s' not found in group '%s'", u.ID, g.ID)
		}
		return err
	}
	if err := c.s.Revoke(c.ctx, RevocationEvent{UserID: u.ID}); err != nil {
		return err
	}
	return c.noContent()
}
