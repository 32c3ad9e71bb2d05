package identity

import (
	"context"
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

var domainRoutes = []route{
	{pattern: "POST /v3/domains", action: "identity:create_domain", handle: createDomainHandler},
	{pattern: "GET /v3/domains", action: "identity:list_domains", handle: listDomains},
	{pattern: "GET /v3/domains/{domain_id}", action: "identity:get_domain", target: domainTarget, handle: getDomain},
	{pattern: "PATCH /v3/domains/{domain_id}", action: "identity:update_domain", target: domainTarget, handle: updateDomain},
	{pattern: "DELETE /v3/domains/{domain_id}", action: "identity:delete_domain", target: domainTarget, handle: deleteDomainHandler},
}

// loadDomain returns a domain or Keystone's 404.
func (s *Service) loadDomain(ctx context.Context, id string) (*Project, error) {
	d, err := s.store.GetProject(ctx, id)
	if errors.Is(err, errNotFound) || (err == nil && !d.IsDomain) {
		return nil, httpapi.NotFound("Could not find domain: %s.", id)
	}
	return d, err
}

func domainTarget(c *call) (map[string]any, error) {
	d, err := c.s.loadDomain(c.ctx, c.param("domain_id"))
	if err != nil {
		return nil, err
	}
	c.loaded = d
	return map[string]any{"target": map[string]any{"domain": map[string]any{"id": d.ID}}}, nil
}

func (c *call) domainJSON(d *Project) map[string]any {
	out := map[string]any{
		"id": d.ID, "name": d.Name, "description": d.Description, "enabled": d.Enabled,
		"tags": nonNil(d.Tags), "options": d.Options, "links": c.self("domains/" + d.ID),
	}
	return mergeExtra(out, d.Extra)
}

func createDomainHandler(c *call) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	dm, err := object(body, "domain")
	if err != nil {
		return err
	}
	nm, _, err := name(dm, "name", true)
	if err != nil {
		return err
	}
	d := &Project{ID: newID(), Name: nm, IsDomain: true, Enabled: true, Options: map[string]any{}}
	if v, ok, err := optID(dm, "explicit_domain_id", false); err != nil {
		return err
	} else if ok {
		d.ID = v
	}
	if d.Description, _, err = optString(dm, "description", 0, true); err != nil {
		return err
	}
	if v, ok, err := optBool(dm, "enabled"); err != nil {
		return err
	} else if ok {
		d.Enabled = v
	}
	if d.Tags, _, err = tagList(dm, "tags"); err != nil {
		return err
	}
	if opts, ok, err := optObject(dm, "options"); err != nil {
		return err
	} else if ok {
		d.Options = opts
	}
	d.Extra = extras(dm, "id", "name", "description", "enabled", "tags", "options", "links", "explicit_domain_id")
	if err := c.s.createDomain(c.ctx, d); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"domain": c.domainJSON(d)})
}

// createDomain stores a domain: a project row with is_domain set.
func (s *Service) createDomain(ctx context.Context, d *Project) error {
	d.IsDomain, d.DomainID, d.ParentID = true, "", ""
	if err := s.store.CreateProject(ctx, d); err != nil {
		if isUnique(err) {
			return httpapi.Conflict("Conflict occurred attempting to store domain - Duplicate entry found with name %s.", d.Name)
		}
		return err
	}
	return nil
}

func listDomains(c *call) error {
	q := c.r.URL.Query()
	ds, err := c.s.store.ListProjects(c.ctx, ProjectFilter{Domains: true, Name: q.Get("name"), Enabled: filterBool(q.Get("enabled"))})
	if err != nil {
		return err
	}
	out := []any{}
	for _, d := range ds {
		out = append(out, c.domainJSON(d))
	}
	return c.json(http.StatusOK, map[string]any{"domains": out, "links": c.listLinks()})
}

func getDomain(c *call) error {
	return c.json(http.StatusOK, map[string]any{"domain": c.domainJSON(c.loaded.(*Project))})
}

func updateDomain(c *call) error {
	d := c.loaded.(*Project)
	body, err := c.body()
	if err != nil {
		return err
	}
	dm, err := object(body, "domain")
	if err != nil {
		return err
	}
	wasEnabled := d.Enabled
	if err := c.s.applyProjectPatch(c.ctx, d, dm); err != nil {
		return err
	}
	if err := c.s.store.UpdateProject(c.ctx, d); err != nil {
		if isUnique(err) {
			return httpapi.Conflict("Conflict occurred attempting to store domain - Duplicate entry found with name %s.", d.Name)
		}
		return err
	}
	if wasEnabled && !d.Enabled {
		if err := c.s.Revoke(c.ctx, RevocationEvent{DomainID: d.ID}); err != nil {
			return err
		}
	}
	return c.json(http.StatusOK, map[string]any{"domain": c.domainJSON(d)})
}

func deleteDomainHandler(c *call) error {
	if err := c.s.deleteDomain(c.ctx, c.loaded.(*Project)); err != nil {
		return err
	}
	return c.noContent()
}

// deleteDomain removes a disabled domain with everything in it: its
// projects, users, groups and domain-specific roles.
func (s *Service) deleteDomain(ctx context.Context, d *Project) error {
	if d.Enabled {
		return httpapi.Forbidden("Cannot delete a domain that is enabled, please disable it first.")
	}
	ps, err := s.store.ListProjects(ctx, ProjectFilter{DomainID: d.ID})
	if err != nil {
		return err
	}
	// The domain's projects go with it; its trusts end as with a single
	// project delete.
	for _, p := range ps {
		if err := s.store.DeleteProject(ctx, p.ID); err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if err := s.deleteTrustsOfProject(ctx, p.ID); err != nil {
			return err
		}
	}
	users, err := s.store.ListUsers(ctx, UserFilter{DomainID: d.ID})
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := s.store.DeleteUser(ctx, u.ID); err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if err := s.deleteTrustsOfUser(ctx, u.ID); err != nil {
			return err
		}
	}
	if err := s.store.DeleteDomainContents(ctx, d.ID); err != nil {
		return err
	}
	if err := s.store.DeleteProject(ctx, d.ID); err != nil {
		return err
	}
	return s.Revoke(ctx, RevocationEvent{DomainID: d.ID})
}
