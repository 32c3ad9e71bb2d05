package identity

import (
	"context"
	"encoding/json"
	"strings"
)

// catalogEntry is one service of a token's catalog, as Keystone renders it.
type catalogEntry struct {
	Endpoints []catalogEndpoint `json:"endpoints"`
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Name      string            `json:"name"`
}

type catalogEndpoint struct {
	ID        string  `json:"id"`
	Interface string  `json:"interface"`
	Region    *string `json:"region"`
	RegionID  *string `json:"region_id"`
	URL       string  `json:"url"`
}

// Catalog returns the service catalog for a token scoped to projectID ("" for
// domain, system or unscoped tokens) as JSON, cached until the next write.
// Endpoint URLs have $(project_id)s / %(tenant_id)s substituted; endpoints
// that need a project are left out when there is none, as Keystone does.
// When the project has OS-EP-FILTER associations, only those endpoints show.
func (s *Service) Catalog(ctx context.Context, projectID string) (json.RawMessage, error) {
	c := s.cache.Load()
	if cat, ok := cached(c, c.catalogs, projectID); ok {
		return cat, nil
	}
	services, err := s.store.ListServices(ctx, "")
	if err != nil {
		return nil, err
	}
	endpoints, err := s.store.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	allow, err := s.endpointFilter(ctx, projectID, endpoints)
	if err != nil {
		return nil, err
	}
	byService := map[string][]catalogEndpoint{}
	for _, e := range endpoints {
		if !e.Enabled || (allow != nil && !allow[e.ID]) {
			continue
		}
		url, ok := substituteURL(e.URL, projectID)
		if !ok {
			continue
		}
		ce := catalogEndpoint{ID: e.ID, Interface: e.Interface, URL: url}
		if e.RegionID != "" {
			r := e.RegionID
			ce.Region, ce.RegionID = &r, &r
		}
		byService[e.ServiceID] = append(byService[e.ServiceID], ce)
	}
	entries := []catalogEntry{}
	for _, sv := range services {
		if !sv.Enabled {
			continue
		}
		name, _ := sv.Extra["name"].(string)
		eps := byService[sv.ID]
		if eps == nil {
			if allow != nil {
				// A filtered catalog leaves out services with nothing left.
				continue
			}
			eps = []catalogEndpoint{}
		}
		entries = append(entries, catalogEntry{Endpoints: eps, ID: sv.ID, Type: sv.Type, Name: name})
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	remember(c, c.catalogs, projectID, json.RawMessage(b))
	return b, nil
}

// endpointFilter returns the endpoint ids a project may see, or nil when
// its OS-EP-FILTER associations (direct or through endpoint groups) name no
// existing endpoint: as in Keystone, it then sees them all.
func (s *Service) endpointFilter(ctx context.Context, projectID string, endpoints []*Endpoint) (map[string]bool, error) {
	if projectID == "" {
		return nil, nil
	}
	ids, err := s.store.ProjectEndpointIDs(ctx, projectID)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.ProjectEndpointGroupFilters(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 && len(groups) == 0 {
		return nil, nil
	}
	direct := map[string]bool{}
	for _, id := range ids {
		direct[id] = true
	}
	allow := map[string]bool{}
	for _, e := range endpoints {
		if direct[e.ID] {
			allow[e.ID] = true
			continue
		}
		for _, f := range groups {
			if EndpointMatchesFilter(e, f) {
				allow[e.ID] = true
				break
			}
		}
	}
	if len(allow) == 0 {
		return nil, nil
	}
	return allow, nil
}

// EndpointMatchesFilter reports whether e satisfies an endpoint group's
// filters (service_id, region_id, interface; all given ones must match).
func EndpointMatchesFilter(e *Endpoint, f map[string]any) bool {
	for k, v := range f {
		want, _ := v.(string)
		switch k {
		case "service_id":
			if e.ServiceID != want {
				return false
			}
		case "region_id":
			if e.RegionID != want {
				return false
			}
		case "interface":
			if e.Interface != want {
				return false
			}
		}
	}
	return true
}

// substituteURL fills the project id into an endpoint URL template; ok is
// false when the template needs a project and there is none.
func substituteURL(url, projectID string) (string, bool) {
	if !strings.ContainsAny(url, "$%") {
		return url, true
	}
	needs := false
	for _, t := range []string{"$(project_id)s", "$(tenant_id)s", "%(project_id)s", "%(tenant_id)s"} {
		if strings.Contains(url, t) {
			needs = true
			url = strings.ReplaceAll(url, t, projectID)
		}
	}
	if needs && projectID == "" {
		return "", false
	}
	return url, true
}
