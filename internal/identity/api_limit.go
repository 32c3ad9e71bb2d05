package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"kumo/internal/platform/httpapi"
)

// limitRoutes are unified limits: registered (default) limits per service
// resource, and project or domain limits overriding them. The enforcement
// model is Keystone's "flat".
var limitRoutes = []route{
	{pattern: "POST /v3/registered_limits", action: "identity:create_registered_limits", handle: createRegisteredLimits},
	{pattern: "GET /v3/registered_limits", action: "identity:list_registered_limits", handle: listRegisteredLimits},
	{pattern: "GET /v3/registered_limits/{registered_limit_id}", action: "identity:get_registered_limit", handle: getRegisteredLimit},
	{pattern: "PATCH /v3/registered_limits/{registered_limit_id}", action: "identity:update_registered_limit", handle: updateRegisteredLimit},
	{pattern: "DELETE /v3/registered_limits/{registered_limit_id}", action: "identity:delete_registered_limit", handle: deleteRegisteredLimit},

	{pattern: "GET /v3/limits/model", action: "identity:get_limit_model", handle: getLimitModel},
	{pattern: "POST /v3/limits", action: "identity:create_limits", handle: createLimits},
	{pattern: "GET /v3/limits", action: "identity:list_limits", handle: listLimits},
	{pattern: "GET /v3/limits/{limit_id}", action: "identity:get_limit", target: limitTarget, handle: getLimit},
	{pattern: "PATCH /v3/limits/{limit_id}", action: "identity:update_limit", handle: updateLimit},
	{pattern: "DELETE /v3/limits/{limit_id}", action: "identity:delete_limit", handle: deleteLimit},
}

// limitIDPattern is Keystone's parameter_types.id_string.
var limitIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// maxLimit is the largest value of a signed 32-bit column, Keystone's bound.
const maxLimit = 0x7FFFFFFF

// onlyProps is additionalProperties: false.
func onlyProps(m map[string]any, allowed ...string) error {
	var extra []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return httpapi.BadRequest("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)
}

// idString reads an optional id_string (1 to 64 of [a-zA-Z0-9-]).
func idString(m map[string]any, key string) (string, bool, error) {
	s, ok, err := typedString(m, key, 1, 64)
	if err != nil || !ok {
		return s, ok, err
	}
	if !limitIDPattern.MatchString(s) {
		return "", true, invalid(key, "'%s' does not match '^[a-zA-Z0-9-]+$'", s)
	}
	return s, true, nil
}

// limitValue reads an optional integer limit in [-1, 2^31-1].
func limitValue(m map[string]any, key string) (int64, bool, error) {
	v, ok := m[key]
	if !ok {
		return 0, false, nil
	}
	var n int64
	switch t := v.(type) {
	case json.Number:
		i, err := t.Int64()
		if err != nil {
			return 0, true, invalid(key, "%s is not of type 'integer'", t.String())
		}
		n = i
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > math.MaxInt32 {
			return 0, true, invalid(key, "%v is not of type 'integer'", t)
		}
		n = int64(t)
	default:
		return 0, true, invalid(key, "%s is not of type 'integer'", pyRepr(v))
	}
	if n < -1 {
		return 0, true, invalid(key, "%d is less than the minimum of -1", n)
	}
	if n > maxLimit {
		return 0, true, invalid(key, "%d is greater than the maximum of 2147483647", n)
	}
	return n, true, nil
}

// nullIfEmpty renders an unset optional string as JSON null.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// limitArray reads the non-empty list of objects under key.
func limitArray(body map[string]any, key string) ([]map[string]any, error) {
	v, ok := body[key]
	arr, isArr := v.([]any)
	if !ok || !isArr {
		if !ok {
			v = map[string]any{}
		}
		return nil, httpapi.BadRequest("%s is not of type 'array'", pyRepr(v))
	}
	if len(arr) == 0 {
		return nil, httpapi.BadRequest("[] is too short")
	}
	out := make([]map[string]any, len(arr))
	for i, item := range arr {
		m, isObj := item.(map[string]any)
		if !isObj {
			return nil, httpapi.BadRequest("Invalid input for field '%d': %s is not of type 'object'", i, pyRepr(item))
		}
		out[i] = m
	}
	return out, nil
}

// checkLimitRefs makes sure the service and region a (registered) limit
// names exist; target is "registered_limit" or "limit" for the message.
func (s *Service) checkLimitRefs(ctx context.Context, serviceID, regionID, target string) error {
	if _, err := s.store.GetService(ctx, serviceID); errors.Is(err, errNotFound) {
		return expectedIn("service_id", target)
	} else if err != nil {
		return err
	}
	if regionID != "" {
		if _, err := s.store.GetRegion(ctx, regionID); errors.Is(err, errNotFound) {
			return expectedIn("region_id", target)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// limitStoreError turns the store's rule violations into Keystone's errors.
func limitStoreError(err error, kind, id string) error {
	switch {
	case errors.Is(err, errDuplicateLimit):
		return httpapi.Conflict("Conflict occurred attempting to store %s - Duplicate entry.", kind)
	case errors.Is(err, errLimitReferenced):
		return httpapi.Forbidden("Unable to update or delete registered limit %s because there are project limits associated with it.", id)
	case errors.Is(err, errNoRegistered):
		return httpapi.Forbidden("Unable to create a limit that has no corresponding registered limit.")
	}
	return err
}

// Registered limits.

func (c *call) registeredLimitJSON(r *RegisteredLimit) map[string]any {
	return map[string]any{
		"id": r.ID, "service_id": r.ServiceID, "region_id": nullIfEmpty(r.RegionID), "resource_name": r.ResourceName,
		"default_limit": r.DefaultLimit, "description": nullIfEmpty(r.Description), "links": c.self("registered_limits/" + r.ID),
	}
}

var registeredLimitProps = []string{"service_id", "region_id", "resource_name", "default_limit", "description"}

// registeredLimitInput reads the fields of a registered limit body shared
// by create and update.
func registeredLimitInput(m map[string]any, r *RegisteredLimit) error {
	if err := onlyProps(m, registeredLimitProps...); err != nil {
		return err
	}
	if v, ok, err := idString(m, "service_id"); err != nil {
		return err
	} else if ok {
		r.ServiceID = v
	}
	if v, ok, err := optString(m, "region_id", 255, true); err != nil {
		return err
	} else if ok {
		r.RegionID = v
	}
	if v, ok, err := typedString(m, "resource_name", 1, 255); err != nil {
		return err
	} else if ok {
		r.ResourceName = v
	}
	if v, ok, err := limitValue(m, "default_limit"); err != nil {
		return err
	} else if ok {
		r.DefaultLimit = v
	}
	if v, ok, err := optString(m, "description", 0, true); err != nil {
		return err
	} else if ok {
		r.Description = v
	}
	return nil
}

func createRegisteredLimits(c *call) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	items, err := limitArray(body, "registered_limits")
	if err != nil {
		return err
	}
	rls := make([]*RegisteredLimit, len(items))
	for i, m := range items {
		if err := requireProps(m, "service_id", "resource_name", "default_limit"); err != nil {
			return err
		}
		rls[i] = &RegisteredLimit{ID: newID()}
		if err := registeredLimitInput(m, rls[i]); err != nil {
			return err
		}
	}
	for _, r := range rls {
		if err := c.s.checkLimitRefs(c.ctx, r.ServiceID, r.RegionID, "registered_limit"); err != nil {
			return err
		}
	}
	if err := c.s.store.CreateRegisteredLimits(c.ctx, rls); err != nil {
		return limitStoreError(err, "registered_limit", "")
	}
	list := []any{}
	for _, r := range rls {
		list = append(list, c.registeredLimitJSON(r))
	}
	return c.json(http.StatusCreated, map[string]any{"registered_limits": list})
}

func listRegisteredLimits(c *call) error {
	rls, err := c.s.store.ListRegisteredLimits(c.ctx, RegisteredLimitFilter{
		ServiceID: c.query("service_id"), RegionID: c.query("region_id"), ResourceName: c.query("resource_name"),
	})
	if err != nil {
		return err
	}
	list := []any{}
	for _, r := range rls {
		list = append(list, c.registeredLimitJSON(r))
	}
	return c.json(http.StatusOK, map[string]any{"registered_limits": list, "links": c.listLinks()})
}

func (s *Service) loadRegisteredLimit(ctx context.Context, id string) (*RegisteredLimit, error) {
	r, err := s.store.GetRegisteredLimit(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find registered limit for %s.", id)
	}
	return r, err
}

func getRegisteredLimit(c *call) error {
	r, err := c.s.loadRegisteredLimit(c.ctx, c.param("registered_limit_id"))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"registered_limit": c.registeredLimitJSON(r)})
}

func updateRegisteredLimit(c *call) error {
	m, err := c.bodyObject("registered_limit")
	if err != nil {
		return err
	}
	id := c.param("registered_limit_id")
	if err := registeredLimitInput(m, &RegisteredLimit{}); err != nil {
		return err
	}
	old, err := c.s.loadRegisteredLimit(c.ctx, id)
	if err != nil {
		return err
	}
	r := *old
	if err := registeredLimitInput(m, &r); err != nil {
		return err
	}
	svc, _ := m["service_id"].(string)
	region, _ := m["region_id"].(string)
	if svc != "" || region != "" {
		if err := c.s.checkLimitRefs(c.ctx, r.ServiceID, region, "registered_limit"); err != nil {
			return err
		}
	}
	if err := c.s.store.UpdateRegisteredLimit(c.ctx, old, &r); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find registered limit for %s.", id)
		}
		return limitStoreError(err, "registered_limit", id)
	}
	return c.json(http.StatusOK, map[string]any{"registered_limit": c.registeredLimitJSON(&r)})
}

func deleteRegisteredLimit(c *call) error {
	id := c.param("registered_limit_id")
	if err := c.s.store.DeleteRegisteredLimit(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find registered limit for %s.", id)
		}
		return limitStoreError(err, "registered_limit", id)
	}
	return c.noContent()
}

// Project and domain limits.

// flatModel is the only enforcement model kumo has.
var flatModel = map[string]any{
	"name":        "flat",
	"description": "Limit enforcement and validation does not take project hierarchy into consideration.",
}

func getLimitModel(c *call) error {
	return c.json(http.StatusOK, map[string]any{"model": flatModel})
}

func (c *call) limitJSON(l *Limit) map[string]any {
	return map[string]any{
		"id": l.ID, "project_id": nullIfEmpty(l.ProjectID), "domain_id": nullIfEmpty(l.DomainID),
		"service_id": l.ServiceID, "region_id": nullIfEmpty(l.RegionID), "resource_name": l.ResourceName,
		"resource_limit": l.ResourceLimit, "description": nullIfEmpty(l.Description), "links": c.self("limits/" + l.ID),
	}
}

// limitInput reads one item of a POST /v3/limits body: the project or the
// domain form of Keystone's oneOf schema.
func limitInput(i int, m map[string]any) (*Limit, error) {
	_, hasProject := m["project_id"]
	_, hasDomain := m["domain_id"]
	owner := "project_id"
	if hasDomain && !hasProject {
		owner = "domain_id"
	}
	notValid := func(why error) error {
		return httpapi.BadRequest("Invalid input for field '%d': the limit is not valid under any of the given schemas (%s)", i, why.Error())
	}
	if hasProject && hasDomain {
		return nil, notValid(errors.New("project_id and domain_id are exclusive"))
	}
	if err := onlyProps(m, owner, "service_id", "region_id", "resource_name", "resource_limit", "description"); err != nil {
		return nil, notValid(err)
	}
	if err := requireProps(m, owner, "service_id", "resource_name", "resource_limit"); err != nil {
		return nil, notValid(err)
	}
	l := &Limit{ID: newID()}
	var err error
	if l.ProjectID, _, err = idString(m, "project_id"); err != nil {
		return nil, err
	}
	if l.DomainID, _, err = idString(m, "domain_id"); err != nil {
		return nil, err
	}
	if l.ServiceID, _, err = idString(m, "service_id"); err != nil {
		return nil, err
	}
	if l.RegionID, _, err = optString(m, "region_id", 255, false); err != nil {
		return nil, err
	}
	if l.ResourceName, _, err = typedString(m, "resource_name", 1, 255); err != nil {
		return nil, err
	}
	if l.ResourceLimit, _, err = limitValue(m, "resource_limit"); err != nil {
		return nil, err
	}
	if l.Description, _, err = optString(m, "description", 0, true); err != nil {
		return nil, err
	}
	return l, nil
}

// checkLimitOwner makes sure the project or domain of a limit exists; a
// project id naming a domain makes it a domain limit, as in Keystone.
func (s *Service) checkLimitOwner(ctx context.Context, l *Limit) error {
	if l.ProjectID != "" {
		p, err := s.store.GetProject(ctx, l.ProjectID)
		if errors.Is(err, errNotFound) {
			return expectedIn("project_id", "limit")
		} else if err != nil {
			return err
		}
		if p.IsDomain {
			l.DomainID, l.ProjectID = l.ProjectID, ""
		}
		return nil
	}
	d, err := s.store.GetProject(ctx, l.DomainID)
	if errors.Is(err, errNotFound) || (err == nil && !d.IsDomain) {
		return expectedIn("domain_id", "limit")
	}
	return err
}

func createLimits(c *call) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	items, err := limitArray(body, "limits")
	if err != nil {
		return err
	}
	ls := make([]*Limit, len(items))
	for i, m := range items {
		if ls[i], err = limitInput(i, m); err != nil {
			return err
		}
	}
	for _, l := range ls {
		if err := c.s.checkLimitRefs(c.ctx, l.ServiceID, l.RegionID, "limit"); err != nil {
			return err
		}
		if err := c.s.checkLimitOwner(c.ctx, l); err != nil {
			return err
		}
	}
	if err := c.s.store.CreateLimits(c.ctx, ls); err != nil {
		return limitStoreError(err, "limit", "")
	}
	list := []any{}
	for _, l := range ls {
		list = append(list, c.limitJSON(l))
	}
	return c.json(http.StatusCreated, map[string]any{"limits": list})
}

// listLimits shows a system-scoped caller every limit, a domain-scoped one
// those of its domain and of the domain's projects, a project-scoped one
// those of its project, and anyone else nothing, as Keystone does.
func listLimits(c *call) error {
	f := LimitFilter{ServiceID: c.query("service_id"), RegionID: c.query("region_id"), ResourceName: c.query("resource_name"),
		ProjectID: c.query("project_id"), DomainID: c.query("domain_id")}
	list := []any{}
	switch {
	case c.tok.System != "":
	case c.tok.DomainID != "":
		ps, err := c.s.store.ListProjects(c.ctx, ProjectFilter{DomainID: c.tok.DomainID})
		if err != nil {
			return err
		}
		f.ProjectsOrDomain, f.DomainOf = []string{}, c.tok.DomainID
		for _, p := range ps {
			f.ProjectsOrDomain = append(f.ProjectsOrDomain, p.ID)
		}
	case c.tok.ProjectID != "":
		f.ProjectID = c.tok.ProjectID
	default:
		return c.json(http.StatusOK, map[string]any{"limits": list, "links": c.listLinks()})
	}
	ls, err := c.s.store.ListLimits(c.ctx, f)
	if err != nil {
		return err
	}
	for _, l := range ls {
		list = append(list, c.limitJSON(l))
	}
	return c.json(http.StatusOK, map[string]any{"limits": list, "links": c.listLinks()})
}

// limitTarget builds target.limit for get_limit: project_id (nil for a
// domain limit) and the limit's project or domain. A missing limit leaves
// the target empty; the handler answers 404 after the policy check.
func limitTarget(c *call) (map[string]any, error) {
	l, err := c.s.store.GetLimit(c.ctx, c.param("limit_id"))
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.loaded = l
	lt := map[string]any{"id": l.ID, "project_id": nullIfEmpty(l.ProjectID), "domain_id": nullIfEmpty(l.DomainID)}
	if l.ProjectID != "" {
		if p, err := c.s.store.GetProject(c.ctx, l.ProjectID); err == nil {
			lt["project"] = map[string]any{"id": p.ID, "domain_id": p.DomainID}
		}
	} else if l.DomainID != "" {
		lt["domain"] = map[string]any{"id": l.DomainID}
	}
	return map[string]any{"target": map[string]any{"limit": lt}}, nil
}

func getLimit(c *call) error {
	l, ok := c.loaded.(*Limit)
	if !ok {
		return httpapi.NotFound("Could not find limit for %s.", c.param("limit_id"))
	}
	return c.json(http.StatusOK, map[string]any{"limit": c.limitJSON(l)})
}

func updateLimit(c *call) error {
	m, err := c.bodyObject("limit")
	if err != nil {
		return err
	}
	if err := onlyProps(m, "resource_limit", "description"); err != nil {
		return err
	}
	v, hasLimit, err := limitValue(m, "resource_limit")
	if err != nil {
		return err
	}
	desc, hasDesc, err := optString(m, "description", 0, true)
	if err != nil {
		return err
	}
	id := c.param("limit_id")
	l, err := c.s.store.GetLimit(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Could not find limit for %s.", id)
	} else if err != nil {
		return err
	}
	if hasLimit {
		l.ResourceLimit = v
	}
	if hasDesc {
		l.Description = desc
	}
	if err := c.s.store.UpdateLimit(c.ctx, l); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"limit": c.limitJSON(l)})
}

func deleteLimit(c *call) error {
	id := c.param("limit_id")
	if err := c.s.store.DeleteLimit(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find limit for %s.", id)
		}
		return err
	}
	return c.noContent()
}

// ProjectLimit returns the limit of resource for a project: the project's
// own limit if it has one, else the registered default. serviceType names
// the service ("compute", "volumev3", ...); region narrows to limits
// registered for that region, falling back to region-less ones. ok is false
// when nothing is registered for the resource, i.e. it is unlimited.
func (s *Service) ProjectLimit(ctx context.Context, projectID, serviceType, region, resource string) (int64, bool, error) {
	services, err := s.store.ListServices(ctx, serviceType)
	if err != nil {
		return 0, false, fmt.Errorf("project limit: %w", err)
	}
	ids := []string{}
	for _, sv := range services {
		ids = append(ids, sv.ID)
	}
	rls, err := s.store.ListRegisteredLimits(ctx, RegisteredLimitFilter{ServiceIDs: ids, ResourceName: resource})
	if err != nil {
		return 0, false, fmt.Errorf("project limit: %w", err)
	}
	var best *RegisteredLimit
	for _, r := range rls {
		switch {
		case region != "" && r.RegionID == region:
			best = r
		case r.RegionID == "" && best == nil:
			best = r
		}
		if best != nil && best.RegionID == region {
			break
		}
	}
	if best == nil {
		return 0, false, nil
	}
	ls, err := s.store.ListLimits(ctx, LimitFilter{ServiceID: best.ServiceID, ResourceName: resource, ProjectID: projectID})
	if err != nil {
		return 0, false, fmt.Errorf("project limit: %w", err)
	}
	for _, l := range ls {
		if l.RegionID == best.RegionID {
			return l.ResourceLimit, true, nil
		}
	}
	return best.DefaultLimit, true, nil
}

// ProjectExists reports whether a project with this id exists (compute
// checks flavor access changes against it, as Nova asks Keystone).
func (s *Service) ProjectExists(ctx context.Context, id string) (bool, error) {
	_, err := s.store.GetProject(ctx, id)
	if errors.Is(err, errNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ProjectID returns the id of a project by domain and name (kumo up finds
// its service project with it).
func (s *Service) ProjectID(ctx context.Context, domainID, name string) (string, error) {
	p, err := s.store.GetProjectByName(ctx, domainID, name)
	if err != nil {
		return "", err
	}
	return p.ID, nil
}
