package identity

import (
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// Role grants (a role for a user or group on a project, a domain or the
// system; OS-INHERIT grants reach the projects below their target instead)
// and the role assignment listing.
var assignmentRoutes = []route{
	{pattern: "GET /v3/projects/{project_id}/users/{user_id}/roles", action: "identity:list_grants", target: grantTarget(userOnProject), handle: listGrants},
	{pattern: "GET /v3/projects/{project_id}/users/{user_id}/roles/{role_id}", action: "identity:check_grant", target: grantTarget(userOnProject), handle: checkGrant},
	{pattern: "PUT /v3/projects/{project_id}/users/{user_id}/roles/{role_id}", action: "identity:create_grant", target: grantTarget(userOnProject), handle: createGrant},
	{pattern: "DELETE /v3/projects/{project_id}/users/{user_id}/roles/{role_id}", action: "identity:revoke_grant", target: revokeTarget(userOnProject), handle: revokeGrant},
	{pattern: "GET /v3/projects/{project_id}/groups/{group_id}/roles", action: "identity:list_grants", target: grantTarget(groupOnProject), handle: listGrants},
	{pattern: "GET /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", action: "identity:check_grant", target: grantTarget(groupOnProject), handle: checkGrant},
	{pattern: "PUT /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", action: "identity:create_grant", target: grantTarget(groupOnProject), handle: createGrant},
	{pattern: "DELETE /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", action: "identity:revoke_grant", target: revokeTarget(groupOnProject), handle: revokeGrant},

	{pattern: "GET /v3/domains/{domain_id}/users/{user_id}/roles", action: "identity:list_grants", target: grantTarget(userOnDomain), handle: listGrants},
	{pattern: "GET /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", action: "identity:check_grant", target: grantTarget(userOnDomain), handle: checkGrant},
	{pattern: "PUT /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", action: "identity:create_grant", target: grantTarget(userOnDomain), handle: createGrant},
	{pattern: "DELETE /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", action: "identity:revoke_grant", target: revokeTarget(userOnDomain), handle: revokeGrant},
	{pattern: "GET /v3/domains/{domain_id}/groups/{group_id}/roles", action: "identity:list_grants", target: grantTarget(groupOnDomain), handle: listGrants},
	{pattern: "GET /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", action: "identity:check_grant", target: grantTarget(groupOnDomain), handle: checkGrant},
	{pattern: "PUT /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", action: "identity:create_grant", target: grantTarget(groupOnDomain), handle: createGrant},
	{pattern: "DELETE /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", action: "identity:revoke_grant", target: revokeTarget(groupOnDomain), handle: revokeGrant},

	{pattern: "GET /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects", action: "identity:list_grants", target: grantTarget(userOnDomainTree), handle: listGrants},
	{pattern: "GET /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", action: "identity:check_grant", target: grantTarget(userOnDomainTree), handle: checkGrant},
	{pattern: "PUT /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", action: "identity:create_grant", target: grantTarget(userOnDomainTree), handle: createGrant},
	{pattern: "DELETE /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", action: "identity:revoke_grant", target: revokeTarget(userOnDomainTree), handle: revokeGrant},
	{pattern: "GET /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects", action: "identity:list_grants", target: grantTarget(groupOnDomainTree), handle: listGrants},
	{pattern: "GET /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", action: "identity:check_grant", target: grantTarget(groupOnDomainTree), handle: checkGrant},
	{pattern: "PUT /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", action: "identity:create_grant", target: grantTarget(groupOnDomainTree), handle: createGrant},
	{pattern: "DELETE /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", action: "identity:revoke_grant", target: revokeTarget(groupOnDomainTree), handle: revokeGrant},
	{pattern: "GET /v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", action: "identity:check_grant", target: grantTarget(userOnProjectTree), handle: checkGrant},
	{pattern: "PUT /v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", action: "identity:create_grant", target: grantTarget(userOnProjectTree), handle: createGrant},
	{pattern: "DELETE /v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", action: "identity:revoke_grant", target: revokeTarget(userOnProjectTree), handle: revokeGrant},
	{pattern: "GET /v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", action: "identity:check_grant", target: grantTarget(groupOnProjectTree), handle: checkGrant},
	{pattern: "PUT /v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", action: "identity:create_grant", target: grantTarget(groupOnProjectTree), handle: createGrant},
	{pattern: "DELETE /v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", action: "identity:revoke_grant", target: revokeTarget(groupOnProjectTree), handle: revokeGrant},

	{pattern: "GET /v3/system/users/{user_id}/roles", action: "identity:list_system_grants_for_user", target: grantTarget(userOnSystem), handle: listGrants},
	{pattern: "GET /v3/system/users/{user_id}/roles/{role_id}", action: "identity:check_system_grant_for_user", target: grantTarget(userOnSystem), handle: checkGrant},
	{pattern: "PUT /v3/system/users/{user_id}/roles/{role_id}", action: "identity:create_system_grant_for_user", target: grantTarget(userOnSystem), handle: createGrant},
	{pattern: "DELETE /v3/system/users/{user_id}/roles/{role_id}", action: "identity:revoke_system_grant_for_user", target: revokeTarget(userOnSystem), handle: revokeGrant},
	{pattern: "GET /v3/system/groups/{group_id}/roles", action: "identity:list_system_grants_for_group", target: grantTarget(groupOnSystem), handle: listGrants},
	{pattern: "GET /v3/system/groups/{group_id}/roles/{role_id}", action: "identity:check_system_grant_for_group", target: grantTarget(groupOnSystem), handle: checkGrant},
	{pattern: "PUT /v3/system/groups/{group_id}/roles/{role_id}", action: "identity:create_system_grant_for_group", target: grantTarget(groupOnSystem), handle: createGrant},
	{pattern: "DELETE /v3/system/groups/{group_id}/roles/{role_id}", action: "identity:revoke_system_grant_for_group", target: revokeTarget(groupOnSystem), handle: revokeGrant},

	{pattern: "GET /v3/role_assignments", action: "identity:list_role_assignments", target: roleAssignmentsTarget, actionFor: roleAssignmentsRule, handle: listRoleAssignmentsHandler},
}

// grantKind is what a grant route grants: its actor, what the role is on,
// and whether it is an OS-INHERIT grant.
type grantKind struct {
	assignment string // the stored assignment type
	group      bool   // the actor is a group (else a user)
	on         string // "project", "domain" or "system"
	inherited  bool
}

var (
	userOnProject      = grantKind{assignment: UserProject, on: "project"}
	groupOnProject     = grantKind{assignment: GroupProject, group: true, on: "project"}
	userOnDomain       = grantKind{assignment: UserDomain, on: "domain"}
	groupOnDomain      = grantKind{assignment: GroupDomain, group: true, on: "domain"}
	userOnProjectTree  = grantKind{assignment: UserProject, on: "project", inherited: true}
	groupOnProjectTree = grantKind{assignment: GroupProject, group: true, on: "project", inherited: true}
	userOnDomainTree   = grantKind{assignment: UserDomain, on: "domain", inherited: true}
	groupOnDomainTree  = grantKind{assignment: GroupDomain, group: true, on: "domain", inherited: true}
	userOnSystem       = grantKind{assignment: UserSystem, on: "system"}
	groupOnSystem      = grantKind{assignment: GroupSystem, group: true, on: "system"}
)

// grantRequest is what a grant route's target function loaded. missing is
// a failed lookup kept until after the policy check, where Keystone reports
// it (OS-INHERIT routes); the other routes fail before it, as Keystone's do.
type grantRequest struct {
	kind     grantKind
	role     *Role // nil on list routes
	actorID  string
	targetID string
	project  *Project // the project of a project grant
	missing  error
}

func (g *grantRequest) assignment() Assignment {
	return Assignment{Type: g.kind.assignment, ActorID: g.actorID, TargetID: g.targetID, RoleID: g.role.ID, Inherited: g.kind.inherited}
}

func grantTarget(kind grantKind) func(c *call) (map[string]any, error) {
	return func(c *call) (map[string]any, error) { return loadGrant(c, kind, false) }
}

// revokeTarget lets the actor be gone: a grant of a deleted user or group
// can still be revoked, as in Keystone.
func revokeTarget(kind grantKind) func(c *call) (map[string]any, error) {
	return func(c *call) (map[string]any, error) { return loadGrant(c, kind, true) }
}

func loadGrant(c *call, kind grantKind, actorMayBeGone bool) (map[string]any, error) {
	g := &grantRequest{kind: kind}
	c.loaded = g
	t := map[string]any{}
	// Keystone's OS-INHERIT routes look everything up leniently and let
	// the policy decide first; its other grant routes fail at once.
	lenient := kind.inherited
	fail := func(err error) error {
		if lenient {
			if g.missing == nil {
				g.missing = err
			}
			return nil
		}
		return err
	}
	if id := c.param("role_id"); id != "" {
		r, err := c.s.store.GetRole(c.ctx, id)
		switch {
		case errors.Is(err, errNotFound):
			if err := fail(httpapi.NotFound("Could not find role: %s.", id)); err != nil {
				return nil, err
			}
			t["role"] = map[string]any{}
		case err != nil:
			return nil, err
		default:
			g.role = r
			t["role"] = rolePolicyTarget(r)
		}
	}
	if kind.group {
		g.actorID = c.param("group_id")
		gr, err := c.s.store.GetGroup(c.ctx, g.actorID)
		switch {
		case errors.Is(err, errNotFound):
			if !actorMayBeGone {
				if err := fail(httpapi.NotFound("Could not find group: %s.", g.actorID)); err != nil {
					return nil, err
				}
			}
		case err != nil:
			return nil, err
		default:
			t["group"] = map[string]any{"id": gr.ID, "name": gr.Name, "domain_id": gr.DomainID}
		}
	} else {
		g.actorID = c.param("user_id")
		u, err := c.s.store.GetUser(c.ctx, g.actorID)
		switch {
		case errors.Is(err, errNotFound):
			if !actorMayBeGone {
				if err := fail(httpapi.NotFound("Could not find user: %s.", g.actorID)); err != nil {
					return nil, err
				}
			}
		case err != nil:
			return nil, err
		default:
			t["user"] = map[string]any{"id": u.ID, "name": u.Name, "domain_id": u.DomainID}
		}
	}
	switch kind.on {
	case "project":
		g.targetID = c.param("project_id")
		p, err := c.s.loadProject(c.ctx, g.targetID)
		if err != nil {
			if _, ok := httpapi.AsError(err); !ok {
				return nil, err
			}
			if err := fail(err); err != nil {
				return nil, err
			}
			break
		}
		g.project = p
		t["project"] = map[string]any{"id": p.ID, "domain_id": p.DomainID}
	case "domain":
		g.targetID = c.param("domain_id")
		d, err := c.s.loadDomain(c.ctx, g.targetID)
		if err != nil {
			if _, ok := httpapi.AsError(err); !ok {
				return nil, err
			}
			if err := fail(err); err != nil {
				return nil, err
			}
			break
		}
		t["domain"] = map[string]any{"id": d.ID, "name": d.Name}
	default:
		g.targetID = SystemTarget
	}
	return map[string]any{"target": t}, nil
}

func loadedGrant(c *call) (*grantRequest, error) {
	g := c.loaded.(*grantRequest)
	return g, g.missing
}

func createGrant(c *call) error {
	g, err := loadedGrant(c)
	if err != nil {
		return err
	}
	if g.role.DomainID != "" {
		switch {
		case g.kind.on == "system":
			return httpapi.BadRequest("Role %s is a domain-specific role. Unable to use a domain-specific role in a system assignment.", g.role.ID)
		case g.kind.on == "project" && g.project.DomainID != g.role.DomainID:
			return httpapi.Forbidden("Project %s must be in the same domain as the role %s being assigned.", g.project.ID, g.role.ID)
		}
	}
	if err := c.s.store.AddAssignment(c.ctx, g.assignment()); err != nil {
		return err
	}
	return c.noContent()
}

func assignmentNotFound(g *grantRequest) error {
	return httpapi.NotFound("Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.",
		g.role.ID, g.actorID, g.targetID)
}

func checkGrant(c *call) error {
	g, err := loadedGrant(c)
	if err != nil {
		return err
	}
	a := g.assignment()
	as, err := c.s.store.ListAssignments(c.ctx, AssignmentFilter{Types: []string{a.Type}, ActorIDs: []string{a.ActorID},
		TargetIDs: []string{a.TargetID}, RoleID: a.RoleID, Inherited: &a.Inherited})
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return assignmentNotFound(g)
	}
	return c.noContent()
}

// revokeGrant removes a grant. Tokens need no revocation event: validation
// recomputes roles, so the role is gone from them at once (and the token
// with it when it was the last role on its scope).
func revokeGrant(c *call) error {
	g, err := loadedGrant(c)
	if err != nil {
		return err
	}
	err = c.s.store.DeleteAssignment(c.ctx, g.assignment())
	if errors.Is(err, errNotFound) {
		return assignmentNotFound(g)
	}
	if err != nil {
		return err
	}
	return c.noContent()
}

func listGrants(c *call) error {
	g, err := loadedGrant(c)
	if err != nil {
		return err
	}
	inherited := g.kind.inherited
	as, err := c.s.store.ListAssignments(c.ctx, AssignmentFilter{Types: []string{g.kind.assignment}, ActorIDs: []string{g.actorID},
		TargetIDs: []string{g.targetID}, Inherited: &inherited})
	if err != nil {
		return err
	}
	roles, _, err := c.s.roleTable(c.ctx)
	if err != nil {
		return err
	}
	out := []any{}
	for _, a := range as {
		if r, ok := roles[a.RoleID]; ok {
			out = append(out, c.roleJSON(r))
		}
	}
	return c.json(http.StatusOK, map[string]any{"roles": out, "links": c.listLinks()})
}

// roleAssignmentsTarget builds Keystone's target: for include_subtree the
// project of scope.project.id, otherwise the caller's domain when its token
// is domain-scoped (the listing is then cut down to that domain).
func roleAssignmentsTarget(c *call) (map[string]any, error) {
	if queryTrue(c, "include_subtree") {
		id := c.query("scope.project.id")
		if id == "" {
			return nil, nil
		}
		p, err := c.s.loadProject(c.ctx, id)
		if err != nil {
			return nil, err
		}
		return map[string]any{"target": map[string]any{"project": map[string]any{"id": p.ID, "domain_id": p.DomainID}, "domain_id": p.DomainID}}, nil
	}
	if c.tok.DomainID != "" {
		return map[string]any{"target": map[string]any{"domain_id": c.tok.DomainID}}, nil
	}
	return nil, nil
}

func roleAssignmentsRule(c *call) string {
	if queryTrue(c, "include_subtree") {
		return "identity:list_role_assignments_for_tree"
	}
	return "identity:list_role_assignments"
}

func listRoleAssignmentsHandler(c *call) error {
	q := c.r.URL.Query()
	tree := queryTrue(c, "include_subtree")
	if tree && q.Get("scope.project.id") == "" {
		return httpapi.BadRequest("scope.project.id must be specified if include_subtree is also specified")
	}
	aq := assignmentQuery{
		RoleID: q.Get("role.id"), UserID: q.Get("user.id"), GroupID: q.Get("group.id"),
		DomainID: q.Get("scope.domain.id"), ProjectID: q.Get("scope.project.id"),
		System: !tree && q.Get("scope.system") == "all", Effective: queryTrue(c, "effective"), Subtree: tree,
	}
	if q.Has("scope.OS-INHERIT:inherited_to") {
		v := q.Get("scope.OS-INHERIT:inherited_to") == "projects"
		aq.Inherited = &v
	}
	system := !tree && q.Get("scope.system") != ""
	switch {
	case aq.DomainID != "" && aq.ProjectID != "":
		return httpapi.BadRequest("Specify a domain or project, not both")
	case system && aq.DomainID != "":
		return httpapi.BadRequest("Specify system or domain, not both")
	case system && aq.ProjectID != "":
		return httpapi.BadRequest("Specify system or project, not both")
	case aq.UserID != "" && aq.GroupID != "":
		return httpapi.BadRequest("Specify a user or group, not both")
	case aq.Effective && aq.GroupID != "":
		return httpapi.BadRequest("Combining effective and group filter will always result in an empty list.")
	case aq.Effective && aq.Inherited != nil && *aq.Inherited && aq.DomainID != "":
		return httpapi.BadRequest("Combining effective, domain and inherited filters will always result in an empty list.")
	}
	refs, err := c.s.listRoleAssignments(c.ctx, aq)
	if err != nil {
		return err
	}
	names := queryTrue(c, "include_names")
	out := []any{}
	for _, r := range refs {
		if !tree && c.tok.DomainID != "" && !c.inDomain(r, c.tok.DomainID) {
			continue
		}
		out = append(out, c.roleAssignmentJSON(r, names))
	}
	return c.json(http.StatusOK, map[string]any{"role_assignments": out, "links": c.listLinks()})
}

// inDomain reports whether an assignment is on domain or one of its projects.
func (c *call) inDomain(r assignmentRef, domain string) bool {
	if r.DomainID != "" {
		return r.DomainID == domain
	}
	if r.ProjectID != "" {
		p, err := c.s.project(c.ctx, r.ProjectID)
		return err == nil && p.DomainID == domain
	}
	return false
}

// roleAssignmentJSON renders an assignment as Keystone does, with its
// links.assignment naming the grant it comes from (through the group, the
// inheriting domain or project, the prior role).
func (c *call) roleAssignmentJSON(r assignmentRef, names bool) map[string]any {
	out := map[string]any{}
	links := map[string]any{}
	inherited := r.Inherited
	var link string
	switch {
	case r.ProjectID != "":
		project := map[string]any{"id": r.ProjectID}
		if names {
			p := c.nameOfProject(r.ProjectID)
			project["name"] = p.Name
			project["domain"] = map[string]any{"id": p.DomainID, "name": c.nameOfProject(p.DomainID).Name}
		}
		out["scope"] = map[string]any{"project": project}
		switch {
		case r.Via.DomainID != "":
			inherited, link = true, "/domains/"+r.Via.DomainID
		case r.Via.ProjectID != "":
			inherited, link = true, "/projects/"+r.Via.ProjectID
		default:
			link = "/projects/" + r.ProjectID
		}
	case r.DomainID != "":
		domain := map[string]any{"id": r.DomainID}
		if names {
			domain["name"] = c.nameOfProject(r.DomainID).Name
		}
		out["scope"] = map[string]any{"domain": domain}
		link = "/domains/" + r.DomainID
	default:
		out["scope"] = map[string]any{"system": map[string]any{"all": true}}
		link = "/system"
	}
	switch {
	case r.UserID != "":
		user := map[string]any{"id": r.UserID}
		if names {
			name, domainID, domainName := "", "", ""
			if u, err := c.s.user(c.ctx, r.UserID); err == nil {
				name, domainID, domainName = u.Name, u.DomainID, c.nameOfProject(u.DomainID).Name
			}
			user["name"] = name
			user["domain"] = map[string]any{"id": domainID, "name": domainName}
		}
		out["user"] = user
		if r.Via.GroupID != "" {
			links["membership"] = c.base() + "/v3/groups/" + r.Via.GroupID + "/users/" + r.UserID
			link += "/groups/" + r.Via.GroupID
		} else {
			link += "/users/" + r.UserID
		}
	default:
		group := map[string]any{"id": r.GroupID}
		if names {
			name, domainID, domainName := "", "", ""
			if g, err := c.s.store.GetGroup(c.ctx, r.GroupID); err == nil {
				name, domainID, domainName = g.Name, g.DomainID, c.nameOfProject(g.DomainID).Name
			}
			group["name"] = name
			group["domain"] = map[string]any{"id": domainID, "name": domainName}
		}
		out["group"] = group
		link += "/groups/" + r.GroupID
	}
	role := map[string]any{"id": r.RoleID}
	if names {
		if roles, _, err := c.s.roleTable(c.ctx); err == nil {
			if rr, ok := roles[r.RoleID]; ok {
				role["name"] = rr.Name
				if rr.DomainID != "" {
					role["domain"] = map[string]any{"id": rr.DomainID, "name": c.nameOfProject(rr.DomainID).Name}
				}
			}
		}
	}
	out["role"] = role
	if r.Via.RoleID != "" {
		// Keystone's link names the prior role, and its prior_role link
		// reads "/prior_role/{role}/implies/{prior}"; kept as it is.
		link += "/roles/" + r.Via.RoleID
		links["prior_role"] = c.base() + "/v3/prior_role/" + r.RoleID + "/implies/" + r.Via.RoleID
	} else {
		link += "/roles/" + r.RoleID
	}
	if inherited {
		out["scope"].(map[string]any)["OS-INHERIT:inherited_to"] = "projects"
		link = "/OS-INHERIT" + link + "/inherited_to_projects"
	}
	links["assignment"] = c.base() + "/v3" + link
	out["links"] = links
	return out
}

// nameOfProject returns a project or domain for naming, or an empty one.
func (c *call) nameOfProject(id string) *Project {
	if id == "" {
		return &Project{}
	}
	p, err := c.s.project(c.ctx, id)
	if err != nil {
		return &Project{ID: id}
	}
	return p
}
