package identity

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"unicode/utf8"

	"kumo/internal/platform/httpapi"
)

// Roles, domain-specific roles and implied roles (role inference rules).
// A role with a domain_id is domain-specific: its name is unique in that
// domain only, it never appears in a token, and it is guarded by the
// *_domain_role rules instead of the *_role ones, as in Keystone.
var roleRoutes = []route{
	{pattern: "POST /v3/roles", action: "identity:create_role", target: newRoleTarget, actionFor: domainRoleRule("identity:create_role", "identity:create_domain_role"), handle: createRole},
	{pattern: "GET /v3/roles", action: "identity:list_roles", target: listRolesTarget, actionFor: domainRoleRule("identity:list_roles", "identity:list_domain_roles"), handle: listRoles},
	{pattern: "GET /v3/roles/{role_id}", action: "identity:get_role", target: roleTarget, actionFor: domainRoleRule("identity:get_role", "identity:get_domain_role"), handle: getRole},
	{pattern: "PATCH /v3/roles/{role_id}", action: "identity:update_role", target: roleTarget, actionFor: domainRoleRule("identity:update_role", "identity:update_domain_role"), handle: updateRole},
	{pattern: "DELETE /v3/roles/{role_id}", action: "identity:delete_role", target: roleTarget, actionFor: domainRoleRule("identity:delete_role", "identity:delete_domain_role"), handle: deleteRole},

	{pattern: "GET /v3/roles/{prior_role_id}/implies", action: "identity:list_implied_roles", target: inferenceTarget, handle: listImpliedRoles},
	{pattern: "GET /v3/roles/{prior_role_id}/implies/{implied_role_id}", action: "identity:get_implied_role", target: inferenceTarget, handle: getImpliedRole},
	{pattern: "HEAD /v3/roles/{prior_role_id}/implies/{implied_role_id}", action: "identity:check_implied_role", target: inferenceTarget, handle: checkImpliedRole},
	{pattern: "PUT /v3/roles/{prior_role_id}/implies/{implied_role_id}", action: "identity:create_implied_role", target: inferenceTarget, handle: createImpliedRole},
	{pattern: "DELETE /v3/roles/{prior_role_id}/implies/{implied_role_id}", action: "identity:delete_implied_role", target: inferenceTarget, handle: deleteImpliedRole},
	{pattern: "GET /v3/role_inferences", action: "identity:list_role_inference_rules", handle: listRoleInferences},
}

// prohibitedImpliedRoles are the role names no rule may imply: Keystone's
// [assignment] prohibited_implied_role default.
var prohibitedImpliedRoles = []string{"admin"}

// roleRequest is what a role route's target function found: the role (or
// the lookup error, reported only after the policy check so that a caller
// without the right learns nothing about which roles exist) and whether the
// request is about a domain-specific role.
type roleRequest struct {
	role       *Role
	err        error
	domainRole bool
}

// domainRoleRule returns an actionFor that picks the domain rule when the
// target function found a domain-specific role, as Keystone's roles API does.
func domainRoleRule(global, domain string) func(c *call) string {
	return func(c *call) string {
		if rr, ok := c.loaded.(*roleRequest); ok && rr.domainRole {
			return domain
		}
		return global
	}
}

func roleTarget(c *call) (map[string]any, error) {
	rr := &roleRequest{}
	c.loaded = rr
	r, err := c.s.store.GetRole(c.ctx, c.param("role_id"))
	if errors.Is(err, errNotFound) {
		rr.err = httpapi.NotFound("Could not find role: %s.", c.param("role_id"))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rr.role, rr.domainRole = r, r.DomainID != ""
	return map[string]any{"target": map[string]any{"role": rolePolicyTarget(r)}}, nil
}

// loadedRole returns the role roleTarget found, or its deferred 404.
func (c *call) loadedRole() (*Role, error) {
	rr := c.loaded.(*roleRequest)
	return rr.role, rr.err
}

func rolePolicyTarget(r *Role) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "domain_id": nullIfEmpty(r.DomainID)}
}

func newRoleTarget(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	rm, err := object(body, "role")
	if err != nil {
		return nil, err
	}
	c.input = rm
	d, _ := rm["domain_id"].(string)
	c.loaded = &roleRequest{domainRole: d != ""}
	return nil, nil
}

func listRolesTarget(c *call) (map[string]any, error) {
	d := c.query("domain_id")
	c.loaded = &roleRequest{domainRole: d != ""}
	return map[string]any{"domain_id": d}, nil
}

func (c *call) roleJSON(r *Role) map[string]any {
	opts := r.Options
	if opts == nil {
		opts = map[string]any{}
	}
	out := map[string]any{
		"id": r.ID, "name": r.Name, "domain_id": nullIfEmpty(r.DomainID), "description": nullIfEmpty(r.Description),
		"options": opts, "links": c.self("roles/" + r.ID),
	}
	return mergeExtra(out, r.Extra)
}

var nonBlank = regexp.MustCompile(`\S`)

// roleName reads a role name: 1 to 255 characters, not all blank.
func roleName(m map[string]any, required bool) (string, bool, error) {
	v, ok := m["name"]
	if !ok {
		if required {
			return "", false, httpapi.BadRequest("Invalid input for field 'name': 'name' is a required property")
		}
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, invalid("name", "%s is not of type 'string'", pyRepr(v))
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", true, invalid("name", "'' is too short")
	case n > 255:
		return "", true, invalid("name", "'%s' is too long", s)
	case !nonBlank.MatchString(s):
		return "", true, invalid("name", "'%s' does not match '[\\S]+'", s)
	}
	return s, true, nil
}

// roleOptions reads the "options" of a role: only "immutable", a boolean or
// null (null removes the option on update).
func roleOptions(m map[string]any) (map[string]any, bool, error) {
	o, ok, err := optObject(m, "options")
	if err != nil || !ok {
		return nil, ok, err
	}
	for k, v := range o {
		if k != "immutable" {
			return nil, true, invalid("options", "Additional properties are not allowed ('%s' was unexpected)", k)
		}
		if _, isBool := v.(bool); v != nil && !isBool {
			return nil, true, invalid("options/immutable", "%s is not of type 'boolean', 'null'", pyRepr(v))
		}
	}
	return o, true, nil
}

var roleKnownFields = []string{"id", "name", "domain_id", "description", "options", "links"}

func createRole(c *call) error {
	rm := c.input
	nm, _, err := roleName(rm, true)
	if err != nil {
		return err
	}
	r := &Role{ID: newID(), Name: nm, Options: map[string]any{}}
	if r.Description, _, err = optString(rm, "description", 0, true); err != nil {
		return err
	}
	if r.DomainID, _, err = optID(rm, "domain_id", true); err != nil {
		return err
	}
	if opts, ok, err := roleOptions(rm); err != nil {
		return err
	} else if ok {
		for k, v := range opts {
			if v != nil {
				r.Options[k] = v
			}
		}
	}
	r.Extra = extras(rm, roleKnownFields...)
	if r.DomainID != "" {
		if _, err := c.s.loadDomain(c.ctx, r.DomainID); err != nil {
			return err
		}
	}
	if err := c.s.store.CreateRole(c.ctx, r); err != nil {
		return c.s.conflict(err, "role", duplicateRole(r))
	}
	return c.json(http.StatusCreated, map[string]any{"role": c.roleJSON(r)})
}

// duplicateRole words Keystone's 409 detail for a role name clash.
func duplicateRole(r *Role) string {
	if r.DomainID != "" {
		return "Duplicate entry found with name " + r.Name + " at domain ID " + r.DomainID
	}
	return "Duplicate entry found with name " + r.Name
}

func listRoles(c *call) error {
	var domain *string
	if d := c.query("domain_id"); d != "" {
		domain = &d
	}
	roles, err := c.s.store.ListRoles(c.ctx, domain, c.query("name"))
	if err != nil {
		return err
	}
	out := make([]any, 0, len(roles))
	for _, r := range roles {
		out = append(out, c.roleJSON(r))
	}
	return c.json(http.StatusOK, map[string]any{"roles": out, "links": c.listLinks()})
}

func getRole(c *call) error {
	r, err := c.loadedRole()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"role": c.roleJSON(r)})
}

func updateRole(c *call) error {
	r, err := c.loadedRole()
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	rm, err := object(body, "role")
	if err != nil {
		return err
	}
	if len(rm) == 0 {
		return invalid("role", "{} does not have enough properties")
	}
	if id, ok := rm["id"]; ok && id != nil && id != r.ID {
		return httpapi.BadRequest("Cannot change ID")
	}
	nm, hasName, err := roleName(rm, false)
	if err != nil {
		return err
	}
	desc, hasDesc, err := optString(rm, "description", 0, true)
	if err != nil {
		return err
	}
	domainID, hasDomain, err := optID(rm, "domain_id", true)
	if err != nil {
		return err
	}
	opts, hasOpts, err := roleOptions(rm)
	if err != nil {
		return err
	}
	// An immutable role takes one update only: the one that clears the flag.
	if optionTrue(r.Options, "immutable") {
		v, set := opts["immutable"]
		if len(rm) > 1 || !set || v == true {
			return httpapi.Forbidden("Unable to update immutable role resource: `%s. Set resource option \"immutable\" to false first.", r.ID)
		}
	}
	if hasDomain && domainID != r.DomainID {
		return httpapi.BadRequest("Update of `domain_id` is not allowed.")
	}
	if hasName {
		r.Name = nm
	}
	if hasDesc {
		r.Description = desc
	}
	if hasOpts {
		if r.Options == nil {
			r.Options = map[string]any{}
		}
		for k, v := range opts {
			if v == nil {
				delete(r.Options, k)
			} else {
				r.Options[k] = v
			}
		}
	}
	if r.Extra == nil {
		r.Extra = map[string]any{}
	}
	for k, v := range extras(rm, roleKnownFields...) {
		r.Extra[k] = v
	}
	if err := c.s.store.UpdateRole(c.ctx, r); err != nil {
		return c.s.conflict(err, "role", duplicateRole(r))
	}
	return c.json(http.StatusOK, map[string]any{"role": c.roleJSON(r)})
}

func deleteRole(c *call) error {
	r, err := c.loadedRole()
	if err != nil {
		return err
	}
	if optionTrue(r.Options, "immutable") {
		return httpapi.Forbidden("Unable to delete immutable role resource: `%s. Set resource option \"immutable\" to false first.", r.ID)
	}
	// Assignments and inference rules go with the role; tokens that held it
	// lose it at their next validation, which recomputes roles.
	if err := c.s.store.DeleteRole(c.ctx, r.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find role: %s.", r.ID)
		}
		return err
	}
	return c.noContent()
}

// inference is the pair of roles of an implied-role route.
type inference struct {
	prior, implied *Role
}

// inferenceTarget loads the prior role and, when the path names one, the
// implied role; Keystone looks both up before the policy check.
func inferenceTarget(c *call) (map[string]any, error) {
	inf := &inference{}
	var err error
	if inf.prior, err = c.s.loadRole(c, c.param("prior_role_id")); err != nil {
		return nil, err
	}
	t := map[string]any{"prior_role": rolePolicyTarget(inf.prior)}
	if id := c.param("implied_role_id"); id != "" {
		if inf.implied, err = c.s.loadRole(c, id); err != nil {
			return nil, err
		}
		t["implied_role"] = rolePolicyTarget(inf.implied)
	}
	c.loaded = inf
	return map[string]any{"target": t}, nil
}

// loadRole returns a role or Keystone's 404.
func (s *Service) loadRole(c *call, id string) (*Role, error) {
	r, err := s.store.GetRole(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find role: %s.", id)
	}
	return r, err
}

// inferenceRole is a prior or implied role as an inference shows it.
func (c *call) inferenceRole(r *Role) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "links": c.self("roles/" + r.ID)}
}

func (c *call) inferenceJSON(inf *inference) map[string]any {
	return map[string]any{
		"role_inference": map[string]any{"prior_role": c.inferenceRole(inf.prior), "implies": c.inferenceRole(inf.implied)},
		"links":          c.self("roles/" + inf.prior.ID + "/implies/" + inf.implied.ID),
	}
}

// requireRule answers Keystone's 404 unless prior implies implied directly.
func (c *call) requireRule(inf *inference) error {
	ok, err := c.s.store.HasImpliedRole(c.ctx, inf.prior.ID, inf.implied.ID)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.NotFound("%s does not imply %s.", inf.prior.ID, inf.implied.ID)
	}
	return nil
}

func getImpliedRole(c *call) error {
	inf := c.loaded.(*inference)
	if err := c.requireRule(inf); err != nil {
		return err
	}
	return c.json(http.StatusOK, c.inferenceJSON(inf))
}

// checkImpliedRole is HEAD, which Keystone guards with both the check and
// the get rule.
func checkImpliedRole(c *call) error {
	if err := c.authorize("identity:get_implied_role", c.target); err != nil {
		return err
	}
	if err := c.requireRule(c.loaded.(*inference)); err != nil {
		return err
	}
	return c.noContent()
}

func createImpliedRole(c *call) error {
	inf := c.loaded.(*inference)
	if slices.Contains(prohibitedImpliedRoles, inf.implied.Name) {
		return httpapi.Forbidden("%s cannot be an implied roles.", inf.implied.ID)
	}
	if inf.prior.DomainID == "" && inf.implied.DomainID != "" {
		return httpapi.Forbidden("Global role cannot imply a domain-specific role")
	}
	rules, err := c.s.store.ImpliedRoleRules(c.ctx)
	if err != nil {
		return err
	}
	if slices.Contains(rules[inf.prior.ID], inf.implied.ID) {
		return httpapi.Conflict("Conflict occurred attempting to store implied_role - Duplicate entry.")
	}
	// Keystone tolerates cycles and ignores them when expanding; kumo refuses
	// them, since a cycle only makes its roles synonyms and is always a
	// mistake.
	if inf.prior.ID == inf.implied.ID || impliesRole(rules, inf.implied.ID, inf.prior.ID) {
		return httpapi.Forbidden("%s cannot be an implied roles: %s already implies %s, the rule would make a cycle.",
			inf.implied.ID, inf.implied.ID, inf.prior.ID)
	}
	if err := c.s.store.AddImpliedRole(c.ctx, inf.prior.ID, inf.implied.ID); err != nil {
		if isUnique(err) {
			return httpapi.Conflict("Conflict occurred attempting to store implied_role - Duplicate entry.")
		}
		return err
	}
	return c.json(http.StatusCreated, c.inferenceJSON(inf))
}

// impliesRole reports whether from implies to, directly or transitively.
func impliesRole(rules map[string][]string, from, to string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == to {
			return true
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		stack = append(stack, rules[id]...)
	}
	return false
}

func deleteImpliedRole(c *call) error {
	inf := c.loaded.(*inference)
	err := c.s.store.DeleteImpliedRole(c.ctx, inf.prior.ID, inf.implied.ID)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("%s does not imply %s.", inf.prior.ID, inf.implied.ID)
	}
	if err != nil {
		return err
	}
	return c.noContent()
}

func listImpliedRoles(c *call) error {
	inf := c.loaded.(*inference)
	rules, err := c.s.store.ImpliedRoleRules(c.ctx)
	if err != nil {
		return err
	}
	roles, err := c.s.store.AllRoles(c.ctx)
	if err != nil {
		return err
	}
	implies := []any{}
	for _, id := range rules[inf.prior.ID] {
		if r, ok := roles[id]; ok {
			implies = append(implies, c.inferenceRole(r))
		}
	}
	return c.json(http.StatusOK, map[string]any{
		"role_inference": map[string]any{"prior_role": c.inferenceRole(inf.prior), "implies": implies},
		"links":          c.self("roles/" + inf.prior.ID + "/implies"),
	})
}

func listRoleInferences(c *call) error {
	rules, err := c.s.store.ImpliedRoleRules(c.ctx)
	if err != nil {
		return err
	}
	roles, err := c.s.store.AllRoles(c.ctx)
	if err != nil {
		return err
	}
	priors := make([]string, 0, len(rules))
	for id := range rules {
		priors = append(priors, id)
	}
	slices.Sort(priors)
	out := []any{}
	for _, id := range priors {
		prior, ok := roles[id]
		if !ok {
			continue
		}
		implies := []any{}
		for _, iid := range rules[id] {
			if r, ok := roles[iid]; ok {
				implies = append(implies, c.inferenceRole(r))
			}
		}
		out = append(out, map[string]any{"prior_role": c.inferenceRole(prior), "implies": implies})
	}
	return c.json(http.StatusOK, map[string]any{"role_inferences": out})
}
