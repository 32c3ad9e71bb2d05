package identity

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"kumo/internal/platform/httpapi"
)

// maxProjectDepth is Keystone's default [DEFAULT] max_project_tree_depth.
const maxProjectDepth = 5

var projectRoutes = []route{
	{pattern: "POST /v3/projects", action: "identity:create_project", target: newProjectTarget, handle: createProject},
	{pattern: "GET /v3/projects", action: "identity:list_projects", target: listProjectsTarget, handle: listProjects},
	{pattern: "GET /v3/projects/{project_id}", action: "identity:get_project", target: projectTarget, handle: getProject},
	{pattern: "PATCH /v3/projects/{project_id}", action: "identity:update_project", target: projectTarget, handle: updateProject},
	{pattern: "DELETE /v3/projects/{project_id}", action: "identity:delete_project", target: projectTarget, handle: deleteProject},
	{pattern: "GET /v3/projects/{project_id}/tags", action: "identity:list_project_tags", target: projectTarget, handle: listProjectTags},
	{pattern: "PUT /v3/projects/{project_id}/tags", action: "identity:update_project_tags", target: projectTarget, handle: replaceProjectTags},
	{pattern: "DELETE /v3/projects/{project_id}/tags", action: "identity:delete_project_tags", target: projectTarget, handle: deleteProjectTags},
	{pattern: "GET /v3/projects/{project_id}/tags/{value}", action: "identity:get_project_tag", target: projectTarget, handle: getProjectTag},
	{pattern: "PUT /v3/projects/{project_id}/tags/{value}", action: "identity:create_project_tag", target: projectTarget, handle: addProjectTag},
	{pattern: "DELETE /v3/projects/{project_id}/tags/{value}", action: "identity:delete_project_tag", target: projectTarget, handle: deleteProjectTag},
}

// loadProject returns a project or Keystone's 404. A domain is a project
// too: Keystone shows it here with is_domain true.
func (s *Service) loadProject(ctx context.Context, id string) (*Project, error) {
	p, err := s.store.GetProject(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find project: %s.", id)
	}
	return p, err
}

func projectTarget(c *call) (map[string]any, error) {
	p, err := c.s.loadProject(c.ctx, c.param("project_id"))
	if err != nil {
		return nil, err
	}
	c.loaded = p
	return map[string]any{"target": map[string]any{"project": map[string]any{"id": p.ID, "domain_id": p.DomainID}}}, nil
}

func newProjectTarget(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	pm, err := object(body, "project")
	if err != nil {
		return nil, err
	}
	c.input = pm
	domainID, _, err := optID(pm, "domain_id", true)
	if err != nil {
		return nil, err
	}
	if domainID == "" {
		if parent, _ := pm["parent_id"].(string); parent != "" {
			if p, err := c.s.store.GetProject(c.ctx, parent); err == nil {
				domainID = p.DomainID
				if p.IsDomain {
					domainID = p.ID
				}
			}
		}
	}
	if domainID == "" {
		domainID = c.callerDomain()
	}
	pm["domain_id"] = domainID
	return map[string]any{"target": map[string]any{"project": map[string]any{"domain_id": domainID}}}, nil
}

// callerDomain is the domain a new resource lands in when the request names
// none: the token's domain scope, else its project's domain, else default.
func (c *call) callerDomain() string {
	switch {
	case c.tok.DomainID != "":
		return c.tok.DomainID
	case c.tok.ProjectDomainID != "":
		return c.tok.ProjectDomainID
	}
	return DefaultDomainID
}

// listProjectsTarget is Keystone's: the domain_id filter at the top level
// and, for a domain-scoped token, the token's domain as target.domain_id
// (the handler then lists that domain's projects only).
func listProjectsTarget(c *call) (map[string]any, error) {
	t := map[string]any{"domain_id": c.query("domain_id")}
	if c.tok.DomainID != "" {
		t["target"] = map[string]any{"domain_id": c.tok.DomainID}
	}
	return t, nil
}

func (c *call) projectJSON(p *Project) map[string]any {
	var parent any
	if p.ParentID != "" {
		parent = p.ParentID
	}
	out := map[string]any{
		"id": p.ID, "name": p.Name, "domain_id": p.DomainID, "description": p.Description, "enabled": p.Enabled,
		"parent_id": parent, "is_domain": p.IsDomain, "tags": nonNil(p.Tags), "options": p.Options,
		"links": c.self("projects/" + p.ID),
	}
	if p.IsDomain {
		out["domain_id"] = nil
	}
	return mergeExtra(out, p.Extra)
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func createProject(c *call) error {
	pm := c.input
	nm, _, err := name(pm, "name", true)
	if err != nil {
		return err
	}
	p := &Project{ID: newID(), Name: nm, DomainID: pm["domain_id"].(string), Enabled: true, Options: map[string]any{}}
	if p.Description, _, err = optString(pm, "description", 0, true); err != nil {
		return err
	}
	if v, ok, err := optBool(pm, "enabled"); err != nil {
		return err
	} else if ok {
		p.Enabled = v
	}
	if p.IsDomain, _, err = optBool(pm, "is_domain"); err != nil {
		return err
	}
	if p.ParentID, _, err = optID(pm, "parent_id", true); err != nil {
		return err
	}
	if p.Tags, _, err = tagList(pm, "tags"); err != nil {
		return err
	}
	if opts, ok, err := optObject(pm, "options"); err != nil {
		return err
	} else if ok {
		p.Options = opts
	}
	p.Extra = extras(pm, "id", "name", "domain_id", "description", "enabled", "is_domain", "parent_id", "tags", "options", "links")
	if p.IsDomain {
		// A project that is a domain is created as a domain.
		p.DomainID, p.ParentID = "", ""
		if err := c.s.createDomain(c.ctx, p); err != nil {
			return err
		}
		return c.json(http.StatusCreated, map[string]any{"project": c.projectJSON(p)})
	}
	if err := c.s.createProject(c.ctx, p); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"project": c.projectJSON(p)})
}

// createProject checks the domain and hierarchy rules and stores p.
func (s *Service) createProject(ctx context.Context, p *Project) error {
	d, err := s.store.GetProject(ctx, p.DomainID)
	if err != nil || !d.IsDomain {
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		return httpapi.NotFound("Could not find domain: %s.", p.DomainID)
	}
	if p.ParentID == "" {
		p.ParentID = d.ID
	} else if p.ParentID != d.ID {
		parent, err := s.store.GetProject(ctx, p.ParentID)
		if err != nil {
			if errors.Is(err, errNotFound) {
				return httpapi.NotFound("Could not find project: %s.", p.ParentID)
			}
			return err
		}
		if parent.DomainID != p.DomainID {
			return httpapi.BadRequest("Cannot create project, the parent (%s) is in a different domain.", parent.ID)
		}
		if !parent.Enabled && p.Enabled {
			return httpapi.BadRequest("Cannot create project, since its parent (%s) has enabled set to false.", parent.ID)
		}
		up, err := s.ancestors(ctx, parent.ID)
		if err != nil {
			return err
		}
		// up ends with the domain; the new project sits one below parent.
		if len(up)+1 >= maxProjectDepth+1 {
			return httpapi.Forbidden("Max hierarchy depth reached for %s branch.", parent.ID)
		}
	}
	if err := s.store.CreateProject(ctx, p); err != nil {
		return s.conflict(err, "project", "it is not permitted to have two projects with the same name in the same domain : "+p.Name)
	}
	return nil
}

// conflict maps a unique-constraint violation to Keystone's 409.
func (s *Service) conflict(err error, kind, detail string) error {
	if isUnique(err) {
		return httpapi.Conflict("Conflict occurred attempting to store %s - %s.", kind, detail)
	}
	return err
}

func listProjects(c *call) error {
	q := c.r.URL.Query()
	f := ProjectFilter{DomainID: q.Get("domain_id"), Name: q.Get("name"), Enabled: filterBool(q.Get("enabled"))}
	if q.Has("parent_id") {
		v := q.Get("parent_id")
		f.ParentID = &v
	}
	if v := q.Get("is_domain"); v != "" {
		f.Domains = *filterBool(v)
	}
	f.Tags, f.TagsAny, f.NotTags, f.NotTagsAny = splitTags(q.Get("tags")), splitTags(q.Get("tags-any")), splitTags(q.Get("not-tags")), splitTags(q.Get("not-tags-any"))
	ps, err := c.s.store.ListProjects(c.ctx, f)
	if err != nil {
		return err
	}
	out := []any{}
	for _, p := range ps {
		// A domain-scoped caller sees its own domain's projects only, as
		// Keystone filters them.
		if tokDomain := c.tok.DomainID; tokDomain != "" && p.DomainID != tokDomain {
			continue
		}
		out = append(out, c.projectJSON(p))
	}
	return c.json(http.StatusOK, map[string]any{"projects": out, "links": c.listLinks()})
}

func splitTags(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, t := range splitComma(v) {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

func getProject(c *call) error {
	p := c.loaded.(*Project)
	out := c.projectJSON(p)
	q := c.r.URL.Query()
	if queryTrue(c, "parents_as_list") || queryTrue(c, "parents_as_ids") {
		if q.Has("parents_as_list") && q.Has("parents_as_ids") {
			return httpapi.BadRequest("Cannot use parents_as_list and parents_as_ids query params at the same time.")
		}
		up, err := c.s.ancestors(c.ctx, p.ID)
		if err != nil {
			return err
		}
		if n := len(up); n > 0 {
			up = up[:n-1] // the domain is not a parent project here
		}
		if queryTrue(c, "parents_as_ids") {
			out["parents"] = nestIDs(up)
		} else {
			list := []any{}
			for _, id := range up {
				if pp, err := c.s.store.GetProject(c.ctx, id); err == nil && c.allowed("identity:get_project", projectPolicyTarget(pp)) {
					list = append(list, map[string]any{"project": c.projectJSON(pp)})
				}
			}
			out["parents"] = list
		}
	}
	if queryTrue(c, "subtree_as_list") || queryTrue(c, "subtree_as_ids") {
		if q.Has("subtree_as_list") && q.Has("subtree_as_ids") {
			return httpapi.BadRequest("Cannot use subtree_as_list and subtree_as_ids query params at the same time.")
		}
		if queryTrue(c, "subtree_as_ids") {
			tree, err := c.s.subtreeIDs(c.ctx, p.ID)
			if err != nil {
				return err
			}
			out["subtree"] = tree
		} else {
			ids, err := c.s.descendants(c.ctx, p.ID)
			if err != nil {
				return err
			}
			list := []any{}
			for _, id := range ids {
				if pp, err := c.s.store.GetProject(c.ctx, id); err == nil && c.allowed("identity:get_project", projectPolicyTarget(pp)) {
					list = append(list, map[string]any{"project": c.projectJSON(pp)})
				}
			}
			out["subtree"] = list
		}
	}
	return c.json(http.StatusOK, map[string]any{"project": out})
}

func projectPolicyTarget(p *Project) map[string]any {
	return map[string]any{"target": map[string]any{"project": map[string]any{"id": p.ID, "domain_id": p.DomainID}}}
}

// nestIDs turns [parent, grandparent, ...] into Keystone's nested form
// {"parent": {"grandparent": null}}.
func nestIDs(up []string) any {
	var out any
	for i := len(up) - 1; i >= 0; i-- {
		out = map[string]any{up[i]: out}
	}
	if out == nil {
		return nil
	}
	return out
}

// descendants returns every project below id, breadth first.
func (s *Service) descendants(ctx context.Context, id string) ([]string, error) {
	var out []string
	queue := []string{id}
	for len(queue) > 0 {
		kids, err := s.store.ChildProjectIDs(ctx, queue[0])
		if err != nil {
			return nil, err
		}
		queue = append(queue[1:], kids...)
		out = append(out, kids...)
	}
	return out, nil
}

// subtreeIDs returns Keystone's nested {"child": {"grandchild": null}}.
func (s *Service) subtreeIDs(ctx context.Context, id string) (any, error) {
	kids, err := s.store.ChildProjectIDs(ctx, id)
	if err != nil || len(kids) == 0 {
		return nil, err
	}
	out := map[string]any{}
	for _, k := range kids {
		if out[k], err = s.subtreeIDs(ctx, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func updateProject(c *call) error {
	p := c.loaded.(*Project)
	body, err := c.body()
	if err != nil {
		return err
	}
	pm, err := object(body, "project")
	if err != nil {
		return err
	}
	wasEnabled := p.Enabled
	if err := c.s.applyProjectPatch(c.ctx, p, pm); err != nil {
		return err
	}
	if err := c.s.store.UpdateProject(c.ctx, p); err != nil {
		return c.s.conflict(err, "project", "it is not permitted to have two projects with the same name in the same domain : "+p.Name)
	}
	if wasEnabled && !p.Enabled {
		// As Keystone: tokens of a disabled project stay revoked even if
		// the project is enabled again.
		if err := c.s.Revoke(c.ctx, RevocationEvent{ProjectID: p.ID}); err != nil {
			return err
		}
	}
	return c.json(http.StatusOK, map[string]any{"project": c.projectJSON(p)})
}

// applyProjectPatch applies a PATCH body to a project or domain.
func (s *Service) applyProjectPatch(ctx context.Context, p *Project, pm map[string]any) error {
	if v, ok := pm["id"]; ok && v != p.ID {
		return httpapi.BadRequest("Invalid input for field 'id': the id cannot be changed.")
	}
	if v, ok, err := optID(pm, "domain_id", true); err != nil {
		return err
	} else if ok && v != p.DomainID && !p.IsDomain {
		return httpapi.BadRequest("Cannot change Domain ID.")
	}
	if v, ok, err := optID(pm, "parent_id", true); err != nil {
		return err
	} else if ok && v != p.ParentID {
		return httpapi.Forbidden("Update of `parent_id` is not allowed.")
	}
	if v, ok, err := optBool(pm, "is_domain"); err != nil {
		return err
	} else if ok && v != p.IsDomain {
		return httpapi.BadRequest("Update of `is_domain` is not allowed.")
	}
	if v, ok, err := name(pm, "name", false); err != nil {
		return err
	} else if ok {
		p.Name = v
	}
	if v, ok, err := optString(pm, "description", 0, true); err != nil {
		return err
	} else if ok {
		p.Description = v
	}
	if v, ok, err := optBool(pm, "enabled"); err != nil {
		return err
	} else if ok {
		if v && !p.Enabled && !p.IsDomain && p.ParentID != "" && p.ParentID != p.DomainID {
			if parent, err := s.store.GetProject(ctx, p.ParentID); err == nil && !parent.Enabled {
				return httpapi.Forbidden("Cannot enable project %s since it has disabled parents.", p.ID)
			}
		}
		if !v && p.Enabled && !p.IsDomain {
			kids, err := s.store.ChildProjectIDs(ctx, p.ID)
			if err != nil {
				return err
			}
			for _, k := range kids {
				if kp, err := s.store.GetProject(ctx, k); err == nil && kp.Enabled {
					return httpapi.Forbidden("Cannot disable project %s since its subtree contains enabled projects.", p.ID)
				}
			}
		}
		p.Enabled = v
	}
	if v, ok, err := tagList(pm, "tags"); err != nil {
		return err
	} else if ok {
		p.Tags = v
	}
	if v, ok, err := optObject(pm, "options"); err != nil {
		return err
	} else if ok {
		for k, val := range v {
			if val == nil {
				delete(p.Options, k)
			} else {
				p.Options[k] = val
			}
		}
	}
	for k, v := range extras(pm, "id", "name", "domain_id", "description", "enabled", "is_domain", "parent_id", "tags", "options", "links") {
		p.Extra[k] = v
	}
	return nil
}

func deleteProject(c *call) error {
	p := c.loaded.(*Project)
	if p.IsDomain {
		if err := c.s.deleteDomain(c.ctx, p); err != nil {
			return err
		}
		return c.noContent()
	}
	kids, err := c.s.store.ChildProjectIDs(c.ctx, p.ID)
	if err != nil {
		return err
	}
	if len(kids) > 0 {
		return httpapi.Forbidden("Cannot delete the project %s since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.", p.ID)
	}
	if err := c.s.store.DeleteProject(c.ctx, p.ID); err != nil {
		return err
	}
	if err := c.s.Revoke(c.ctx, RevocationEvent{ProjectID: p.ID}); err != nil {
		return err
	}
	if err := c.s.deleteTrustsOfProject(c.ctx, p.ID); err != nil {
		return err
	}
	return c.noContent()
}

func listProjectTags(c *call) error {
	return c.json(http.StatusOK, map[string]any{"tags": nonNil(c.loaded.(*Project).Tags)})
}

func replaceProjectTags(c *call) error {
	p := c.loaded.(*Project)
	body, err := c.body()
	if err != nil {
		return err
	}
	tags, ok, err := tagList(body, "tags")
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.BadRequest("Invalid input for field 'tags': 'tags' is a required property")
	}
	p.Tags = tags
	if err := c.s.store.UpdateProject(c.ctx, p); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"tags": p.Tags, "links": c.self("projects/" + p.ID + "/tags")})
}

func deleteProjectTags(c *call) error {
	p := c.loaded.(*Project)
	p.Tags = nil
	if err := c.s.store.UpdateProject(c.ctx, p); err != nil {
		return err
	}
	return c.noContent()
}

func getProjectTag(c *call) error {
	if !slices.Contains(c.loaded.(*Project).Tags, c.param("value")) {
		return httpapi.NotFound("Tag %s not found for project %s.", c.param("value"), c.param("project_id"))
	}
	return c.noContent()
}

func addProjectTag(c *call) error {
	p := c.loaded.(*Project)
	tag := c.param("value")
	if err := checkTag(tag); err != nil {
		return err
	}
	if !slices.Contains(p.Tags, tag) {
		if len(p.Tags) >= 80 {
			return httpapi.BadRequest("Invalid input for field 'tags': a project has at most 80 tags.")
		}
		p.Tags = append(p.Tags, tag)
		if err := c.s.store.UpdateProject(c.ctx, p); err != nil {
			return err
		}
	}
	c.w.Header().Set("Location", c.base()+"/v3/projects/"+p.ID+"/tags/"+tag)
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

func deleteProjectTag(c *call) error {
	p := c.loaded.(*Project)
	tag := c.param("value")
	i := slices.Index(p.Tags, tag)
	if i < 0 {
		return httpapi.NotFound("Tag %s not found for project %s.", tag, p.ID)
	}
	p.Tags = slices.Delete(p.Tags, i, i+1)
	if err := c.s.store.UpdateProject(c.ctx, p); err != nil {
		return err
	}
	return c.noContent()
}

// ProjectsOfUser returns every project where userID has an effective role:
// directly, through a group, or inherited from a domain or a parent project.
func (s *Service) ProjectsOfUser(ctx context.Context, userID string) ([]*Project, error) {
	groups, err := s.store.GroupIDsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	as, err := s.store.ListAssignments(ctx, AssignmentFilter{ActorIDs: append([]string{userID}, groups...),
		Types: []string{UserProject, GroupProject, UserDomain, GroupDomain}})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, a := range as {
		switch {
		case !a.Inherited && (a.Type == UserProject || a.Type == GroupProject):
			ids[a.TargetID] = true
		case a.Inherited && (a.Type == UserDomain || a.Type == GroupDomain):
			ps, err := s.store.ListProjects(ctx, ProjectFilter{DomainID: a.TargetID})
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				ids[p.ID] = true
			}
		case a.Inherited:
			below, err := s.descendants(ctx, a.TargetID)
			if err != nil {
				return nil, err
			}
			for _, id := range below {
				ids[id] = true
			}
		}
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	return s.store.ListProjects(ctx, ProjectFilter{IDs: list})
}

// DomainsOfUser returns the domains where userID has a direct or group role.
func (s *Service) DomainsOfUser(ctx context.Context, userID string) ([]*Project, error) {
	groups, err := s.store.GroupIDsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	no := false
	as, err := s.store.ListAssignments(ctx, AssignmentFilter{ActorIDs: append([]string{userID}, groups...),
		Types: []string{UserDomain, GroupDomain}, Inherited: &no})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, a := range as {
		ids = append(ids, a.TargetID)
	}
	return s.store.ListProjects(ctx, ProjectFilter{Domains: true, IDs: ids})
}
