package compute

import (
	"context"
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// Flavor access (nova/api/openstack/compute/flavor_access.py): the
// projects a private flavor is shared with.
func init() {
	register(
		route{method: "GET", path: "/flavors/{flavor_id}/os-flavor-access", rule: "os_compute_api:os-flavor-access", handle: listFlavorAccess},
		route{method: "POST", path: "/flavors/{flavor_id}/action", actions: []action{
			{name: "addTenantAccess", rule: "os_compute_api:os-flavor-access:add_tenant_access", body: tenantAccessSchema("addTenantAccess"), handle: addTenantAccess},
			{name: "removeTenantAccess", rule: "os_compute_api:os-flavor-access:remove_tenant_access", body: tenantAccessSchema("removeTenantAccess"), handle: removeTenantAccess},
		}},
	)
}

// ProjectVerifier says whether a project exists, as Nova's
// identity.verify_project_id asks Keystone. The identity service is one.
type ProjectVerifier interface {
	ProjectExists(ctx context.Context, projectID string) (bool, error)
}

func tenantAccessSchema(name string) func(Microversion) *Schema {
	return func(Microversion) *Schema {
		return &Schema{Type: Types("object"), Required: []string{name}, NoAdditional: true, Properties: []Prop{
			{name, &Schema{Type: Types("object"), Required: []string{"tenant"}, NoAdditional: true, Properties: []Prop{
				{"tenant", &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255}},
			}}},
		}}
	}
}

func listFlavorAccess(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	if f.IsPublic {
		return httpapi.NotFound("Access list not available for public flavors.")
	}
	return c.flavorAccess(f)
}

// flavorAccess answers with Nova's {"flavor_access": [...]}.
func (c *call) flavorAccess(f *Flavor) error {
	projects, err := c.s.flavors().access(c.ctx, f)
	if err != nil {
		return err
	}
	out := make([]map[string]string, 0, len(projects))
	for _, p := range projects {
		out = append(out, map[string]string{"flavor_id": f.ID, "tenant_id": p})
	}
	return c.json(http.StatusOK, map[string]any{"flavor_access": out})
}

// verifyProject is Nova's verify_project_id: an unknown project is a 400;
// with no verifier configured Nova's answer is to let it pass.
func (c *call) verifyProject(id string) error {
	if c.s.cfg.Projects == nil {
		return nil
	}
	ok, err := c.s.cfg.Projects.ProjectExists(c.ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.BadRequest("Project ID %s is not a valid project.", id)
	}
	return nil
}

func addTenantAccess(c *call) error {
	tenant := c.obj("addTenantAccess")["tenant"].(string)
	if err := c.verifyProject(tenant); err != nil {
		return err
	}
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	if f.IsPublic && c.mv.AtLeast(2, 7) {
		return httpapi.Conflict("Can not add access to a public flavor.")
	}
	if err := c.s.flavors().addAccess(c.ctx, f, tenant); err != nil {
		if errors.Is(err, errExists) {
			return httpapi.Conflict("Flavor access already exists for flavor %s and project %s combination.", f.ID, tenant)
		}
		return err
	}
	return c.flavorAccess(f)
}

func removeTenantAccess(c *call) error {
	tenant := c.obj("removeTenantAccess")["tenant"].(string)
	if err := c.verifyProject(tenant); err != nil {
		return err
	}
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	if err := c.s.flavors().removeAccess(c.ctx, f, tenant); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Flavor access not found for %s / %s combination.", f.ID, tenant)
		}
		return err
	}
	return c.flavorAccess(f)
}
