package identity

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"kumo/internal/platform/httpapi"
)

// catalogRoutes are the regions, services and endpoints of the catalog.
// The rules read no target, so handlers load the resource after the policy
// check and a caller without the role never learns whether it exists.
var catalogRoutes = []route{
	{pattern: "POST /v3/regions", action: "identity:create_region", handle: createRegion},
	{pattern: "GET /v3/regions", action: "identity:list_regions", handle: listRegions},
	{pattern: "GET /v3/regions/{region_id}", action: "identity:get_region", handle: getRegion},
	{pattern: "PUT /v3/regions/{region_id}", action: "identity:create_region", handle: putRegion},
	{pattern: "PATCH /v3/regions/{region_id}", action: "identity:update_region", handle: updateRegion},
	{pattern: "DELETE /v3/regions/{region_id}", action: "identity:delete_region", handle: deleteRegion},

	{pattern: "POST /v3/services", action: "identity:create_service", handle: createService},
	{pattern: "GET /v3/services", action: "identity:list_services", handle: listServices},
	{pattern: "GET /v3/services/{service_id}", action: "identity:get_service", handle: getService},
	{pattern: "PATCH /v3/services/{service_id}", action: "identity:update_service", handle: updateService},
	{pattern: "DELETE /v3/services/{service_id}", action: "identity:delete_service", handle: deleteService},

	{pattern: "POST /v3/endpoints", action: "identity:create_endpoint", handle: createEndpoint},
	{pattern: "GET /v3/endpoints", action: "identity:list_endpoints", handle: listEndpoints},
	{pattern: "GET /v3/endpoints/{endpoint_id}", action: "identity:get_endpoint", handle: getEndpoint},
	{pattern: "PATCH /v3/endpoints/{endpoint_id}", action: "identity:update_endpoint", handle: updateEndpoint},
	{pattern: "DELETE /v3/endpoints/{endpoint_id}", action: "identity:delete_endpoint", handle: deleteEndpoint},
}

// Lookups that turn a missing row into Keystone's 404.

func (s *Service) loadRegion(ctx context.Context, id string) (*Region, error) {
	r, err := s.store.GetRegion(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find region: %s.", id)
	}
	return r, err
}

func (s *Service) loadService(ctx context.Context, id string) (*CatalogService, error) {
	sv, err := s.store.GetService(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find service: %s.", id)
	}
	return sv, err
}

func (s *Service) loadEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	e, err := s.store.GetEndpoint(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find endpoint: %s.", id)
	}
	return e, err
}

// expectedIn is Keystone's ValidationError for a reference to something
// that does not exist ("Expecting to find service_id in limit...").
func expectedIn(attribute, target string) error {
	return httpapi.BadRequest("Expecting to find %s in %s. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.", attribute, target)
}

// notEmptyBody is the minProperties: 1 of Keystone's update schemas.
func notEmptyBody(m map[string]any) error {
	if len(m) == 0 {
		return httpapi.BadRequest("{} does not have enough properties")
	}
	return nil
}

// sameID rejects an update body that names another id.
func sameID(m map[string]any, id string) error {
	if v, ok := m["id"]; ok && v != nil && v != id {
		return httpapi.BadRequest("Cannot change ID")
	}
	return nil
}

// typedString reads an optional string of min to max characters (max 0:
// unbounded); null is refused.
func typedString(m map[string]any, key string, min, max int) (string, bool, error) {
	s, ok, err := optString(m, key, max, false)
	if err != nil || !ok {
		return s, ok, err
	}
	if utf8.RuneCountInString(s) < min {
		return "", true, invalid(key, "'%s' is too short", s)
	}
	return s, true, nil
}

// requireProps fails with Keystone's message when key is absent.
func requireProps(m map[string]any, keys ...string) error {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", k, k)
		}
	}
	return nil
}

// Regions.

func (c *call) regionJSON(r *Region) map[string]any {
	var parent any
	if r.ParentRegionID != "" {
		parent = r.ParentRegionID
	}
	out := map[string]any{"id": r.ID, "description": r.Description, "parent_region_id": parent, "links": c.self("regions/" + r.ID)}
	return mergeExtra(out, r.Extra)
}

// regionInput reads the fields of a region body shared by create and update.
func regionInput(rm map[string]any, r *Region) error {
	if v, ok, err := optString(rm, "description", 0, true); err != nil {
		return err
	} else if ok {
		r.Description = v
	}
	if v, ok, err := optString(rm, "parent_region_id", 255, true); err != nil {
		return err
	} else if ok {
		r.ParentRegionID = v
	}
	for k, v := range extras(rm, "id", "description", "parent_region_id", "links") {
		r.Extra[k] = v
	}
	return nil
}

func createRegion(c *call) error {
	rm, err := c.bodyObject("region")
	if err != nil {
		return err
	}
	id, _, err := optString(rm, "id", 255, true)
	if err != nil {
		return err
	}
	if id == "" {
		id = newID()
	}
	return c.storeRegion(id, rm)
}

func putRegion(c *call) error {
	rm, err := c.bodyObject("region")
	if err != nil {
		return err
	}
	id := c.param("region_id")
	if v, ok := rm["id"]; ok && v != id {
		return httpapi.BadRequest("Conflicting region IDs specified: \"%s\" != \"%v\"", id, v)
	}
	return c.storeRegion(id, rm)
}

func (c *call) storeRegion(id string, rm map[string]any) error {
	if utf8.RuneCountInString(id) > 255 {
		return invalid("id", "'%s' is too long", id)
	}
	r := &Region{ID: id, Extra: map[string]any{}}
	if err := regionInput(rm, r); err != nil {
		return err
	}
	if err := c.s.createRegion(c.ctx, r); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"region": c.regionJSON(r)})
}

// createRegion stores a new region whose parent, if any, exists.
func (s *Service) createRegion(ctx context.Context, r *Region) error {
	duplicate := httpapi.Conflict("Conflict occurred attempting to store region - Duplicate ID, %s.", r.ID)
	if _, err := s.store.GetRegion(ctx, r.ID); err == nil {
		return duplicate
	} else if !errors.Is(err, errNotFound) {
		return err
	}
	if r.ParentRegionID != "" {
		if _, err := s.loadRegion(ctx, r.ParentRegionID); err != nil {
			return err
		}
	}
	if err := s.store.CreateRegion(ctx, r); err != nil {
		if isUnique(err) {
			return duplicate
		}
		return err
	}
	return nil
}

func listRegions(c *call) error {
	regions, err := c.s.store.ListRegions(c.ctx, c.query("parent_region_id"))
	if err != nil {
		return err
	}
	list := []any{}
	for _, r := range regions {
		list = append(list, c.regionJSON(r))
	}
	return c.json(http.StatusOK, map[string]any{"regions": list, "links": c.listLinks()})
}

func getRegion(c *call) error {
	r, err := c.s.loadRegion(c.ctx, c.param("region_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"region": c.regionJSON(r)})
}

func updateRegion(c *call) error {
	rm, err := c.bodyObject("region")
	if err != nil {
		return err
	}
	if err := notEmptyBody(rm); err != nil {
		return err
	}
	id := c.param("region_id")
	if err := sameID(rm, id); err != nil {
		return err
	}
	// Keystone checks the new parent before the region itself.
	if parent, _ := rm["parent_region_id"].(string); parent != "" {
		if _, err := c.s.loadRegion(c.ctx, parent); err != nil {
			return err
		}
	}
	r, err := c.s.loadRegion(c.ctx, id)
	if err != nil {
		return err
	}
	if err := regionInput(rm, r); err != nil {
		return err
	}
	// Walk up from the new parent: reaching the region itself is a cycle.
	seen := map[string]bool{}
	for p := r.ParentRegionID; p != "" && !seen[p]; {
		if p == r.ID {
			return httpapi.BadRequest("The specified parent region %s would create a circular region hierarchy.", r.ParentRegionID)
		}
		seen[p] = true
		pr, err := c.s.store.GetRegion(c.ctx, p)
		if err != nil {
			break
		}
		p = pr.ParentRegionID
	}
	if err := c.s.store.UpdateRegion(c.ctx, r); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"region": c.regionJSON(r)})
}

func deleteRegion(c *call) error {
	id := c.param("region_id")
	err := c.s.store.DeleteRegionTree(c.ctx, id)
	switch {
	case errors.Is(err, errNotFound):
		return httpapi.NotFound("Could not find region: %s.", id)
	case errors.Is(err, errRegionInUse):
		return httpapi.Forbidden("Unable to delete region %s because it or its child regions have associated endpoints.", id)
	case err != nil:
		return err
	}
	return c.noContent()
}

// Services.

func (c *call) serviceJSON(sv *CatalogService) map[string]any {
	out := map[string]any{"id": sv.ID, "type": sv.Type, "enabled": sv.Enabled, "links": c.self("services/" + sv.ID)}
	return mergeExtra(out, sv.Extra)
}

// serviceInput reads the fields of a service body shared by create and
// update; name and description live among the extra attributes, as in
// Keystone.
func serviceInput(sm map[string]any, sv *CatalogService) error {
	if v, ok, err := typedString(sm, "type", 1, 255); err != nil {
		return err
	} else if ok {
		sv.Type = v
	}
	if v, ok, err := typedString(sm, "name", 1, 255); err != nil {
		return err
	} else if ok {
		if strings.TrimSpace(v) == "" {
			return invalid("name", "'%s' does not match '[\\S]+'", v)
		}
		sv.Extra["name"] = v
	}
	if v, ok, err := optBool(sm, "enabled"); err != nil {
		return err
	} else if ok {
		sv.Enabled = v
	}
	for k, v := range extras(sm, "id", "type", "name", "enabled", "links") {
		sv.Extra[k] = v
	}
	return nil
}

func createService(c *call) error {
	sm, err := c.bodyObject("service")
	if err != nil {
		return err
	}
	if err := requireProps(sm, "type"); err != nil {
		return err
	}
	sv := &CatalogService{ID: newID(), Enabled: true, Extra: map[string]any{"name": ""}}
	if err := serviceInput(sm, sv); err != nil {
		return err
	}
	if err := c.s.store.CreateService(c.ctx, sv); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"service": c.serviceJSON(sv)})
}

func listServices(c *call) error {
	services, err := c.s.store.ListServices(c.ctx, c.query("type"))
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	list := []any{}
	for _, sv := range services {
		if q.Has("name") && sv.Extra["name"] != q.Get("name") {
			continue
		}
		list = append(list, c.serviceJSON(sv))
	}
	return c.json(http.StatusOK, map[string]any{"services": list, "links": c.listLinks()})
}

func getService(c *call) error {
	sv, err := c.s.loadService(c.ctx, c.param("service_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"service": c.serviceJSON(sv)})
}

func updateService(c *call) error {
	sm, err := c.bodyObject("service")
	if err != nil {
		return err
	}
	if err := notEmptyBody(sm); err != nil {
		return err
	}
	if err := sameID(sm, c.param("service_id")); err != nil {
		return err
	}
	sv, err := c.s.loadService(c.ctx, c.param("service_id"))
	if err != nil {
		return err
	}
	if err := serviceInput(sm, sv); err != nil {
		return err
	}
	if err := c.s.store.UpdateService(c.ctx, sv); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"service": c.serviceJSON(sv)})
}

func deleteService(c *call) error {
	id := c.param("service_id")
	if _, err := c.s.loadService(c.ctx, id); err != nil {
		return err
	}
	eps, err := c.s.store.ListEndpoints(c.ctx, EndpointFilter{ServiceID: id})
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteService(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find service: %s.", id)
		}
		return err
	}
	// The service's endpoints went with it; so do the policy associations
	// of both (OS-ENDPOINT-POLICY).
	if err := c.s.store.DeletePolicyAssociationsFor(c.ctx, "service_id", id); err != nil {
		return err
	}
	for _, e := range eps {
		if err := c.s.store.DeletePolicyAssociationsFor(c.ctx, "endpoint_id", e.ID); err != nil {
			return err
		}
	}
	return c.noContent()
}

// Endpoints.

var interfaces = []string{"admin", "internal", "public"}

// endpointURL is Keystone's parameter_types.url.
var endpointURL = regexp.MustCompile(`^[a-zA-Z0-9+.-]+:.+`)

func (c *call) endpointJSON(e *Endpoint) map[string]any {
	var region any
	if e.RegionID != "" {
		region = e.RegionID
	}
	out := map[string]any{
		"id": e.ID, "interface": e.Interface, "service_id": e.ServiceID, "url": e.URL,
		"region_id": region, "region": region, "enabled": e.Enabled, "links": c.self("endpoints/" + e.ID),
	}
	return mergeExtra(out, e.Extra)
}

// endpointInput reads the fields of an endpoint body shared by create and
// update. legacyRegion is the v2-style "region" when no region_id was given:
// Keystone creates that region if it is missing.
func endpointInput(em map[string]any, e *Endpoint) (legacyRegion string, err error) {
	if v, ok, err := optString(em, "interface", 0, false); err != nil {
		return "", err
	} else if ok {
		if !slices.Contains(interfaces, v) {
			return "", invalid("interface", "'%s' is not one of ['admin', 'internal', 'public']", v)
		}
		e.Interface = v
	}
	if v, ok, err := optString(em, "service_id", 0, false); err != nil {
		return "", err
	} else if ok {
		e.ServiceID = v
	}
	if v, ok, err := optString(em, "url", 225, false); err != nil {
		return "", err
	} else if ok {
		if !endpointURL.MatchString(v) {
			return "", invalid("url", "'%s' does not match '^[a-zA-Z0-9+.-]+:.+'", v)
		}
		if !validEndpointURL(v) {
			return "", httpapi.BadRequest("Cannot create an endpoint with an invalid URL: %s.", v)
		}
		e.URL = v
	}
	regionID, hasRegionID, err := optString(em, "region_id", 255, false)
	if err != nil {
		return "", err
	}
	region, hasRegion, err := optString(em, "region", 255, false)
	if err != nil {
		return "", err
	}
	switch {
	case hasRegionID:
		e.RegionID = regionID
	case hasRegion:
		e.RegionID, legacyRegion = region, region
	}
	if v, ok, err := optBool(em, "enabled"); err != nil {
		return "", err
	} else if ok {
		e.Enabled = v
	}
	for k, v := range extras(em, "id", "interface", "service_id", "url", "region_id", "region", "enabled", "links", "legacy_endpoint_id") {
		e.Extra[k] = v
	}
	return legacyRegion, nil
}

// endpointURLKeys are the substitutions Keystone allows in endpoint URLs.
var endpointURLKeys = []string{"tenant_id", "project_id", "user_id", "public_bind_host", "admin_bind_host",
	"compute_host", "admin_port", "public_port", "public_endpoint"}

// validEndpointURL is Keystone's check_endpoint_url: the URL, with $( read
// as %(, must be a valid Python %-format over the allowed keys.
func validEndpointURL(u string) bool {
	u = strings.ReplaceAll(u, "$(", "%(")
	for i := 0; i < len(u); i++ {
		if u[i] != '%' {
			continue
		}
		i++
		if i < len(u) && u[i] == '%' {
			continue
		}
		if i >= len(u) || u[i] != '(' {
			return false // positional conversions need a tuple, not a mapping
		}
		end := strings.IndexByte(u[i:], ')')
		if end < 0 || !slices.Contains(endpointURLKeys, u[i+1:i+end]) {
			return false
		}
		i += end + 1
		for i < len(u) && strings.IndexByte("#0- +", u[i]) >= 0 {
			i++
		}
		for i < len(u) && (u[i] >= '0' && u[i] <= '9' || u[i] == '.') {
			i++
		}
		for i < len(u) && strings.IndexByte("hlL", u[i]) >= 0 {
			i++
		}
		// The values are strings: only %s, %r and %a format them.
		if i >= len(u) || strings.IndexByte("sra%", u[i]) < 0 {
			return false
		}
	}
	return true
}

// checkEndpointRefs makes sure the endpoint's service and region exist,
// creating a region named by the legacy "region" attribute first.
func (s *Service) checkEndpointRefs(ctx context.Context, e *Endpoint, legacyRegion string) error {
	if _, err := s.store.GetService(ctx, e.ServiceID); errors.Is(err, errNotFound) {
		return expectedIn("endpoint service_id", "service table")
	} else if err != nil {
		return err
	}
	if legacyRegion != "" {
		if _, err := s.store.GetRegion(ctx, legacyRegion); errors.Is(err, errNotFound) {
			if err := s.store.CreateRegion(ctx, &Region{ID: legacyRegion, Extra: map[string]any{}}); err != nil && !isUnique(err) {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	if e.RegionID != "" || legacyRegion != "" {
		if _, err := s.store.GetRegion(ctx, e.RegionID); errors.Is(err, errNotFound) {
			return expectedIn("endpoint region_id", "region table")
		} else if err != nil {
			return err
		}
	}
	return nil
}

func createEndpoint(c *call) error {
	em, err := c.bodyObject("endpoint")
	if err != nil {
		return err
	}
	if err := requireProps(em, "interface", "service_id", "url"); err != nil {
		return err
	}
	e := &Endpoint{ID: newID(), Enabled: true, Extra: map[string]any{}}
	legacy, err := endpointInput(em, e)
	if err != nil {
		return err
	}
	_, hasRegionID := em["region_id"]
	if hasRegionID && e.RegionID == "" {
		return expectedIn("endpoint region_id", "region table")
	}
	if err := c.s.checkEndpointRefs(c.ctx, e, legacy); err != nil {
		return err
	}
	if err := c.s.store.CreateEndpoint(c.ctx, e); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"endpoint": c.endpointJSON(e)})
}

func listEndpoints(c *call) error {
	eps, err := c.s.store.ListEndpoints(c.ctx, EndpointFilter{
		ServiceID: c.query("service_id"), Interface: c.query("interface"), RegionID: c.query("region_id"),
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoints": c.endpointList(eps), "links": c.listLinks()})
}

func (c *call) endpointList(eps []*Endpoint) []any {
	list := []any{}
	for _, e := range eps {
		list = append(list, c.endpointJSON(e))
	}
	return list
}

func getEndpoint(c *call) error {
	e, err := c.s.loadEndpoint(c.ctx, c.param("endpoint_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoint": c.endpointJSON(e)})
}

func updateEndpoint(c *call) error {
	em, err := c.bodyObject("endpoint")
	if err != nil {
		return err
	}
	if err := notEmptyBody(em); err != nil {
		return err
	}
	id := c.param("endpoint_id")
	if err := sameID(em, id); err != nil {
		return err
	}
	// Validate the body in full before touching anything, so a bad request
	// leaves no auto-created region behind.
	probe := &Endpoint{Extra: map[string]any{}}
	if _, err := endpointInput(em, probe); err != nil {
		return err
	}
	e, err := c.s.loadEndpoint(c.ctx, id)
	if err != nil {
		return err
	}
	legacy, err := endpointInput(em, e)
	if err != nil {
		return err
	}
	if v, ok := em["region_id"]; ok && v == "" {
		return expectedIn("endpoint region_id", "region table")
	}
	if err := c.s.checkEndpointRefs(c.ctx, e, legacy); err != nil {
		return err
	}
	if err := c.s.store.UpdateEndpoint(c.ctx, e); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"endpoint": c.endpointJSON(e)})
}

func deleteEndpoint(c *call) error {
	id := c.param("endpoint_id")
	if err := c.s.store.DeleteEndpoint(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find endpoint: %s.", id)
		}
		return err
	}
	if err := c.s.store.DeletePolicyAssociationsFor(c.ctx, "endpoint_id", id); err != nil {
		return err
	}
	return c.noContent()
}

// bodyObject decodes the request body and returns its object under key.
func (c *call) bodyObject(key string) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	return object(body, key)
}
