package identity

import (
	"context"
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// policyRoutes are the v3 policy API (opaque blobs kept for other services)
// and OS-ENDPOINT-POLICY, which says which blob applies to an endpoint.
var policyRoutes = []route{
	{pattern: "POST /v3/policies", action: "identity:create_policy", handle: createPolicy},
	{pattern: "GET /v3/policies", action: "identity:list_policies", handle: listPolicies},
	{pattern: "GET /v3/policies/{policy_id}", action: "identity:get_policy", handle: getPolicy},
	{pattern: "PATCH /v3/policies/{policy_id}", action: "identity:update_policy", handle: updatePolicy},
	{pattern: "DELETE /v3/policies/{policy_id}", action: "identity:delete_policy", handle: deletePolicy},

	{pattern: "PUT /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints/{endpoint_id}", action: "identity:create_policy_association_for_endpoint", handle: setPolicyAssociation},
	{pattern: "GET /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints/{endpoint_id}", action: "identity:check_policy_association_for_endpoint", handle: checkPolicyAssociation},
	{pattern: "DELETE /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints/{endpoint_id}", action: "identity:delete_policy_association_for_endpoint", handle: deletePolicyAssociation},
	{pattern: "PUT /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}", action: "identity:create_policy_association_for_service", handle: setPolicyAssociation},
	{pattern: "GET /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}", action: "identity:check_policy_association_for_service", handle: checkPolicyAssociation},
	{pattern: "DELETE /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}", action: "identity:delete_policy_association_for_service", handle: deletePolicyAssociation},
	{pattern: "PUT /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}/regions/{region_id}", action: "identity:create_policy_association_for_region_and_service", handle: setPolicyAssociation},
	{pattern: "GET /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}/regions/{region_id}", action: "identity:check_policy_association_for_region_and_service", handle: checkPolicyAssociation},
	{pattern: "DELETE /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}/regions/{region_id}", action: "identity:delete_policy_association_for_region_and_service", handle: deletePolicyAssociation},
	{pattern: "GET /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints", action: "identity:list_endpoints_for_policy", handle: listEndpointsForPolicy},
	{pattern: "GET /v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy", action: "identity:get_policy_for_endpoint", handle: getPolicyForEndpoint},
}

func (s *Service) loadPolicy(ctx context.Context, id string) (*Policy, error) {
	p, err := s.store.GetPolicy(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find policy: %s.", id)
	}
	return p, err
}

func (c *call) policyJSON(p *Policy) map[string]any {
	out := map[string]any{"id": p.ID, "type": p.Type, "blob": p.Blob, "links": c.self("policies/" + p.ID)}
	return mergeExtra(out, p.Extra)
}

// policyInput reads the fields of a policy body shared by create and update.
func policyInput(pm map[string]any, p *Policy) error {
	if v, ok, err := optString(pm, "blob", 0, false); err != nil {
		return err
	} else if ok {
		p.Blob = v
	}
	if v, ok, err := optString(pm, "type", 255, false); err != nil {
		return err
	} else if ok {
		p.Type = v
	}
	for k, v := range extras(pm, "id", "blob", "type", "links") {
		p.Extra[k] = v
	}
	return nil
}

func createPolicy(c *call) error {
	pm, err := c.bodyObject("policy")
	if err != nil {
		return err
	}
	if err := requireProps(pm, "blob", "type"); err != nil {
		return err
	}
	p := &Policy{ID: newID(), Extra: map[string]any{}}
	if err := policyInput(pm, p); err != nil {
		return err
	}
	if err := c.s.store.CreatePolicy(c.ctx, p); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"policy": c.policyJSON(p)})
}

func listPolicies(c *call) error {
	ps, err := c.s.store.ListPolicies(c.ctx, c.query("type"))
	if err != nil {
		return err
	}
	list := []any{}
	for _, p := range ps {
		list = append(list, c.policyJSON(p))
	}
	return c.json(http.StatusOK, map[string]any{"policies": list, "links": c.listLinks()})
}

func getPolicy(c *call) error {
	p, err := c.s.loadPolicy(c.ctx, c.param("policy_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"policy": c.policyJSON(p)})
}

func updatePolicy(c *call) error {
	pm, err := c.bodyObject("policy")
	if err != nil {
		return err
	}
	if err := notEmptyBody(pm); err != nil {
		return err
	}
	id := c.param("policy_id")
	if v, ok := pm["id"]; ok && v != id {
		return httpapi.BadRequest("Cannot change policy ID")
	}
	p, err := c.s.loadPolicy(c.ctx, id)
	if err != nil {
		return err
	}
	if err := policyInput(pm, p); err != nil {
		return err
	}
	if err := c.s.store.UpdatePolicy(c.ctx, p); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"policy": c.policyJSON(p)})
}

func deletePolicy(c *call) error {
	id := c.param("policy_id")
	if err := c.s.store.DeletePolicy(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find policy: %s.", id)
		}
		return err
	}
	return c.noContent()
}

// association checks that the policy and the target of the path exist and
// returns the association the path names.
func (c *call) association() (PolicyAssociation, error) {
	a := PolicyAssociation{PolicyID: c.param("policy_id"), EndpointID: c.param("endpoint_id"),
		ServiceID: c.param("service_id"), RegionID: c.param("region_id")}
	if _, err := c.s.loadPolicy(c.ctx, a.PolicyID); err != nil {
		return a, err
	}
	if a.EndpointID != "" {
		if _, err := c.s.loadEndpoint(c.ctx, a.EndpointID); err != nil {
			return a, err
		}
	}
	if a.ServiceID != "" {
		if _, err := c.s.loadService(c.ctx, a.ServiceID); err != nil {
			return a, err
		}
	}
	if a.RegionID != "" {
		if _, err := c.s.loadRegion(c.ctx, a.RegionID); err != nil {
			return a, err
		}
	}
	return a, nil
}

func setPolicyAssociation(c *call) error {
	a, err := c.association()
	if err != nil {
		return err
	}
	if err := c.s.store.SetPolicyAssociation(c.ctx, a); err != nil {
		return err
	}
	return c.noContent()
}

func checkPolicyAssociation(c *call) error {
	a, err := c.association()
	if err != nil {
		return err
	}
	ok, err := c.s.store.PolicyAssociated(c.ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.NotFound("Could not find policy association.")
	}
	return c.noContent()
}

func deletePolicyAssociation(c *call) error {
	a, err := c.association()
	if err != nil {
		return err
	}
	if err := c.s.store.DeletePolicyAssociation(c.ctx, a); err != nil {
		return err
	}
	return c.noContent()
}

// listEndpointsForPolicy resolves a policy's associations to endpoints: an
// endpoint itself, every endpoint of a service, or those of a service in a
// region and the regions below it.
func listEndpointsForPolicy(c *call) error {
	id := c.param("policy_id")
	if _, err := c.s.loadPolicy(c.ctx, id); err != nil {
		return err
	}
	as, err := c.s.store.PolicyAssociations(c.ctx, id)
	if err != nil {
		return err
	}
	all, err := c.s.store.ListEndpoints(c.ctx, EndpointFilter{})
	if err != nil {
		return err
	}
	regions, err := c.s.store.ListRegions(c.ctx, "")
	if err != nil {
		return err
	}
	var out []*Endpoint
	for _, a := range as {
		var inRegions map[string]bool
		if a.RegionID != "" {
			inRegions = regionSubtree(regions, a.RegionID)
		}
		for _, e := range all {
			switch {
			case a.EndpointID != "":
				if e.ID == a.EndpointID {
					out = append(out, e)
				}
			case a.ServiceID != "" && e.ServiceID == a.ServiceID:
				if inRegions == nil || inRegions[e.RegionID] {
					out = append(out, e)
				}
			}
		}
	}
	return c.json(http.StatusOK, map[string]any{"endpoints": c.endpointList(out), "links": c.listLinks()})
}

// regionSubtree returns root and every region below it.
func regionSubtree(regions []*Region, root string) map[string]bool {
	in := map[string]bool{root: true}
	for grew := true; grew; {
		grew = false
		for _, r := range regions {
			if !in[r.ID] && in[r.ParentRegionID] && r.ParentRegionID != "" {
				in[r.ID] = true
				grew = true
			}
		}
	}
	return in
}

// getPolicyForEndpoint finds the policy of an endpoint: its own, else that
// of its service in its region or the nearest region above, else that of
// its service.
func getPolicyForEndpoint(c *call) error {
	e, err := c.s.loadEndpoint(c.ctx, c.param("endpoint_id"))
	if err != nil {
		return err
	}
	candidates := []PolicyAssociation{{EndpointID: e.ID}}
	seen := map[string]bool{}
	for r := e.RegionID; r != "" && !seen[r]; {
		seen[r] = true
		candidates = append(candidates, PolicyAssociation{ServiceID: e.ServiceID, RegionID: r})
		region, err := c.s.store.GetRegion(c.ctx, r)
		if err != nil {
			break
		}
		r = region.ParentRegionID
	}
	candidates = append(candidates, PolicyAssociation{ServiceID: e.ServiceID})
	for _, a := range candidates {
		id, err := c.s.store.PolicyForTarget(c.ctx, a)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		p, err := c.s.loadPolicy(c.ctx, id)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, map[string]any{"policy": c.policyJSON(p)})
	}
	return httpapi.NotFound("No policy is associated with endpoint %s.", e.ID)
}
