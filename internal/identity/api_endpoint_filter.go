package identity

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"

	"kumo/internal/platform/httpapi"
)

// endpointFilterRoutes are OS-EP-FILTER: endpoints and endpoint groups
// associated with projects. A project with associations sees only those
// endpoints in its token catalog (Service.Catalog).
var endpointFilterRoutes = []route{
	{pattern: "PUT /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}", action: "identity:add_endpoint_to_project", handle: addEndpointToProject},
	{pattern: "GET /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}", action: "identity:check_endpoint_in_project", handle: checkEndpointInProject},
	{pattern: "DELETE /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}", action: "identity:remove_endpoint_from_project", handle: removeEndpointFromProject},
	{pattern: "GET /v3/OS-EP-FILTER/projects/{project_id}/endpoints", action: "identity:list_endpoints_for_project", handle: listEndpointsForProject},
	{pattern: "GET /v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects", action: "identity:list_projects_for_endpoint", handle: listProjectsForEndpoint},

	{pattern: "POST /v3/OS-EP-FILTER/endpoint_groups", action: "identity:create_endpoint_group", handle: createEndpointGroup},
	{pattern: "GET /v3/OS-EP-FILTER/endpoint_groups", action: "identity:list_endpoint_groups", handle: listEndpointGroups},
	{pattern: "GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}", action: "identity:get_endpoint_group", handle: getEndpointGroup},
	{pattern: "PATCH /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}", action: "identity:update_endpoint_group", handle: updateEndpointGroup},
	{pattern: "DELETE /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}", action: "identity:delete_endpoint_group", handle: deleteEndpointGroup},
	{pattern: "GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects", action: "identity:list_projects_associated_with_endpoint_group", handle: listProjectsForEndpointGroup},
	{pattern: "GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/endpoints", action: "identity:list_endpoints_associated_with_endpoint_group", handle: listEndpointsForEndpointGroup},
	{pattern: "GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}", action: "identity:get_endpoint_group_in_project", handle: getEndpointGroupInProject},
	{pattern: "PUT /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}", action: "identity:add_endpoint_group_to_project", handle: addEndpointGroupToProject},
	{pattern: "DELETE /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}", action: "identity:remove_endpoint_group_from_project", handle: removeEndpointGroupFromProject},
	{pattern: "GET /v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups", action: "identity:list_endpoint_groups_for_project", handle: listEndpointGroupsForProject},
}

// endpointGroupFilterKeys are the only filters an endpoint group may have.
var endpointGroupFilterKeys = []string{"service_id", "region_id", "interface"}

func (s *Service) loadEndpointGroup(ctx context.Context, id string) (*EndpointGroup, error) {
	g, err := s.store.GetEndpointGroup(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find Endpoint Group: %s.", id)
	}
	return g, err
}

func (c *call) endpointGroupJSON(g *EndpointGroup) map[string]any {
	var desc any
	if g.Description != "" {
		desc = g.Description
	}
	return map[string]any{"id": g.ID, "name": g.Name, "description": desc, "filters": g.Filters,
		"links": c.self("OS-EP-FILTER/endpoint_groups/" + g.ID)}
}

// projectEndpoints returns the endpoints associated with a project,
// directly or through its endpoint groups.
func (s *Service) projectEndpoints(ctx context.Context, projectID string) ([]*Endpoint, error) {
	all, err := s.store.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	allow, err := s.endpointFilter(ctx, projectID, all)
	if err != nil || allow == nil {
		return []*Endpoint{}, err
	}
	out := []*Endpoint{}
	for _, e := range all {
		if allow[e.ID] {
			out = append(out, e)
		}
	}
	return out, nil
}

// endpointMatches returns the endpoints matching a group's filters.
func (s *Service) endpointMatches(ctx context.Context, g *EndpointGroup) ([]*Endpoint, error) {
	all, err := s.store.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	out := []*Endpoint{}
	for _, e := range all {
		if EndpointMatchesFilter(e, g.Filters) {
			out = append(out, e)
		}
	}
	return out, nil
}

// projectAndEndpoint loads both resources of a project/endpoint path.
func (c *call) projectAndEndpoint() (*Project, *Endpoint, error) {
	e, err := c.s.loadEndpoint(c.ctx, c.param("endpoint_id"))
	if err != nil {
		return nil, nil, err
	}
	p, err := c.s.loadProject(c.ctx, c.param("project_id"))
	if err != nil {
		return nil, nil, err
	}
	return p, e, nil
}

func addEndpointToProject(c *call) error {
	p, e, err := c.projectAndEndpoint()
	if err != nil {
		return err
	}
	if err := c.s.store.AddProjectEndpoint(c.ctx, p.ID, e.ID); err != nil {
		if isUnique(err) {
			return httpapi.Conflict("Conflict occurred attempting to store project_endpoint - Duplicate entry.")
		}
		return err
	}
	return c.noContent()
}

func checkEndpointInProject(c *call) error {
	p, e, err := c.projectAndEndpoint()
	if err != nil {
		return err
	}
	ok, err := c.s.store.HasProjectEndpoint(c.ctx, p.ID, e.ID)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.NotFound("Endpoint %s not found in project %s", e.ID, p.ID)
	}
	return c.noContent()
}

func removeEndpointFromProject(c *call) error {
	pid, eid := c.param("project_id"), c.param("endpoint_id")
	if err := c.s.store.RemoveProjectEndpoint(c.ctx, pid, eid); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Endpoint %s not found in project %s", eid, pid)
		}
		return err
	}
	return c.noContent()
}

func listEndpointsForProject(c *call) error {
	p, err := c.s.loadProject(c.ctx, c.param("project_id"))
	if err != nil {
		return err
	}
	eps, err := c.s.projectEndpoints(c.ctx, p.ID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoints": c.endpointList(eps), "links": c.listLinks()})
}

// projectList renders the projects of ids that still exist.
func (c *call) projectList(ids []string) ([]any, error) {
	list := []any{}
	if len(ids) == 0 {
		return list, nil
	}
	ps, err := c.s.store.ListProjects(c.ctx, ProjectFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	for _, p := range ps {
		list = append(list, c.projectJSON(p))
	}
	return list, nil
}

func listProjectsForEndpoint(c *call) error {
	e, err := c.s.loadEndpoint(c.ctx, c.param("endpoint_id"))
	if err != nil {
		return err
	}
	ids, err := c.s.store.EndpointProjectIDs(c.ctx, e.ID)
	if err != nil {
		return err
	}
	list, err := c.projectList(ids)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"projects": list, "links": c.listLinks()})
}

// endpointGroupInput reads the fields of an endpoint group body shared by
// create and update.
func endpointGroupInput(gm map[string]any, g *EndpointGroup) error {
	if v, ok, err := typedString(gm, "name", 1, 255); err != nil {
		return err
	} else if ok {
		if blankName.MatchString(v) {
			return invalid("name", "'%s' does not match '[\\S]+'", v)
		}
		g.Name = v
	}
	if v, ok, err := optString(gm, "description", 0, true); err != nil {
		return err
	} else if ok {
		g.Description = v
	}
	if v, ok, err := optObject(gm, "filters"); err != nil {
		return err
	} else if ok {
		for k := range v {
			if !slices.Contains(endpointGroupFilterKeys, k) {
				return expectedIn("service_id or region_id or interface", "endpoint_group")
			}
		}
		g.Filters = v
	}
	return nil
}

func createEndpointGroup(c *call) error {
	gm, err := c.bodyObject("endpoint_group")
	if err != nil {
		return err
	}
	if err := requireProps(gm, "name", "filters"); err != nil {
		return err
	}
	g := &EndpointGroup{ID: newID()}
	if err := endpointGroupInput(gm, g); err != nil {
		return err
	}
	if len(g.Filters) == 0 {
		return httpapi.BadRequest("filters field is required and cannot be empty")
	}
	if err := c.s.store.CreateEndpointGroup(c.ctx, g); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"endpoint_group": c.endpointGroupJSON(g)})
}

func (c *call) endpointGroupList(gs []*EndpointGroup) []any {
	list := []any{}
	for _, g := range gs {
		list = append(list, c.endpointGroupJSON(g))
	}
	return list
}

func listEndpointGroups(c *call) error {
	gs, err := c.s.store.ListEndpointGroups(c.ctx, c.query("name"), "")
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoint_groups": c.endpointGroupList(gs), "links": c.listLinks()})
}

func getEndpointGroup(c *call) error {
	g, err := c.s.loadEndpointGroup(c.ctx, c.param("endpoint_group_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoint_group": c.endpointGroupJSON(g)})
}

func updateEndpointGroup(c *call) error {
	gm, err := c.bodyObject("endpoint_group")
	if err != nil {
		return err
	}
	if err := notEmptyBody(gm); err != nil {
		return err
	}
	id := c.param("endpoint_group_id")
	probe := &EndpointGroup{}
	if err := endpointGroupInput(gm, probe); err != nil {
		return err
	}
	if err := sameID(gm, id); err != nil {
		return err
	}
	g, err := c.s.loadEndpointGroup(c.ctx, id)
	if err != nil {
		return err
	}
	if err := endpointGroupInput(gm, g); err != nil {
		return err
	}
	if err := c.s.store.UpdateEndpointGroup(c.ctx, g); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoint_group": c.endpointGroupJSON(g)})
}

func deleteEndpointGroup(c *call) error {
	id := c.param("endpoint_group_id")
	if err := c.s.store.DeleteEndpointGroup(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find Endpoint Group: %s.", id)
		}
		return err
	}
	return c.noContent()
}

func listProjectsForEndpointGroup(c *call) error {
	g, err := c.s.loadEndpointGroup(c.ctx, c.param("endpoint_group_id"))
	if err != nil {
		return err
	}
	ids, err := c.s.store.EndpointGroupProjectIDs(c.ctx, g.ID)
	if err != nil {
		return err
	}
	list, err := c.projectList(ids)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"projects": list, "links": c.listLinks()})
}

func listEndpointsForEndpointGroup(c *call) error {
	g, err := c.s.loadEndpointGroup(c.ctx, c.param("endpoint_group_id"))
	if err != nil {
		return err
	}
	eps, err := c.s.endpointMatches(c.ctx, g)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoints": c.endpointList(eps), "links": c.listLinks()})
}

// projectAndGroup loads both resources of a group/project path, project
// first as Keystone does.
func (c *call) projectAndGroup() (*Project, *EndpointGroup, error) {
	p, err := c.s.loadProject(c.ctx, c.param("project_id"))
	if err != nil {
		return nil, nil, err
	}
	g, err := c.s.loadEndpointGroup(c.ctx, c.param("endpoint_group_id"))
	if err != nil {
		return nil, nil, err
	}
	return p, g, nil
}

func getEndpointGroupInProject(c *call) error {
	p, g, err := c.projectAndGroup()
	if err != nil {
		return err
	}
	ok, err := c.s.store.HasProjectEndpointGroup(c.ctx, p.ID, g.ID)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.NotFound("Endpoint Group Project Association not found")
	}
	return c.json(http.StatusOK, map[string]any{"project_endpoint_group": map[string]any{
		"endpoint_group_id": g.ID, "project_id": p.ID,
		"links": c.self("OS-EP-FILTER/endpoint_groups/" + g.ID + "/projects/" + p.ID),
	}})
}

func addEndpointGroupToProject(c *call) error {
	p, g, err := c.projectAndGroup()
	if err != nil {
		return err
	}
	if err := c.s.store.AddProjectEndpointGroup(c.ctx, p.ID, g.ID); err != nil {
		if isUnique(err) {
			return httpapi.Conflict("Conflict occurred attempting to store project_endpoint_group - Duplicate entry.")
		}
		return err
	}
	return c.noContent()
}

func removeEndpointGroupFromProject(c *call) error {
	p, g, err := c.projectAndGroup()
	if err != nil {
		return err
	}
	if err := c.s.store.RemoveProjectEndpointGroup(c.ctx, p.ID, g.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Endpoint Group Project Association not found")
		}
		return err
	}
	return c.noContent()
}

func listEndpointGroupsForProject(c *call) error {
	p, err := c.s.loadProject(c.ctx, c.param("project_id"))
	if err != nil {
		return err
	}
	gs, err := c.s.store.ListEndpointGroups(c.ctx, "", p.ID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoint_groups": c.endpointGroupList(gs), "links": c.listLinks()})
}
