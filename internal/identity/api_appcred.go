package identity

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// appCredRoutes are the application credentials of a user and the access
// rules they use. Authentication with them is in auth.go/delegation.go.
var appCredRoutes = []route{
	{pattern: "POST /v3/users/{user_id}/application_credentials", action: "identity:create_application_credential", handle: createAppCred},
	{pattern: "GET /v3/users/{user_id}/application_credentials", action: "identity:list_application_credentials", handle: listAppCreds},
	{pattern: "GET /v3/users/{user_id}/application_credentials/{application_credential_id}", action: "identity:get_application_credential", target: appCredTarget, handle: getAppCred},
	{pattern: "DELETE /v3/users/{user_id}/application_credentials/{application_credential_id}", action: "identity:delete_application_credential", target: appCredTarget, handle: deleteAppCred},

	{pattern: "GET /v3/users/{user_id}/access_rules", action: "identity:list_access_rules", target: accessRuleUserTarget, handle: listAccessRules},
	{pattern: "GET /v3/users/{user_id}/access_rules/{access_rule_id}", action: "identity:get_access_rule", target: accessRuleUserTarget, handle: getAccessRule},
	{pattern: "DELETE /v3/users/{user_id}/access_rules/{access_rule_id}", action: "identity:delete_access_rule", target: accessRuleUserTarget, handle: deleteAccessRule},
}

// appCredTimeLayout is how Keystone shows an application credential's
// expires_at: oslo's PERFECT_TIME_FORMAT, microseconds and no zone (UTC).
const appCredTimeLayout = "2006-01-02T15:04:05.000000"

// refuseRestrictedAppCred refuses a token made from a restricted
// application credential: such a token may not create or delete
// application credentials, nor create trusts, so that a leaked credential
// cannot mint itself successors.
func (c *call) refuseRestrictedAppCred() error {
	if c.tok.AppCredID == "" {
		return nil
	}
	ac, err := c.s.store.GetAppCred(c.ctx, c.tok.AppCredID)
	if err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	if ac == nil || !ac.Unrestricted {
		return httpapi.Forbidden("You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.")
	}
	return nil
}

// appCredTarget loads {application_credential_id}; its owner, not the
// path's user, is the user_id the policy's rule:owner compares with the
// caller, so knowing another user's credential id is not enough.
func appCredTarget(c *call) (map[string]any, error) {
	ac, err := c.s.store.GetAppCred(c.ctx, c.param("application_credential_id"))
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.loaded = ac
	return map[string]any{"user_id": ac.UserID}, nil
}

func (c *call) loadedAppCred() (*AppCred, error) {
	ac, _ := c.loaded.(*AppCred)
	if ac == nil || ac.UserID != c.param("user_id") {
		return nil, httpapi.NotFound("Could not find Application Credential: %s.", c.param("application_credential_id"))
	}
	return ac, nil
}

func (c *call) appCredJSON(ac *AppCred) map[string]any {
	var exp any
	if !ac.ExpiresAt.IsZero() {
		exp = ac.ExpiresAt.UTC().Format(appCredTimeLayout)
	}
	roles := []any{}
	if table, _, err := c.s.roleTable(c.ctx); err == nil {
		for _, id := range ac.RoleIDs {
			if r, ok := table[id]; ok {
				roles = append(roles, map[string]any{"id": r.ID, "name": r.Name, "domain_id": nullIfEmpty(r.DomainID)})
			}
		}
	}
	out := map[string]any{
		"id": ac.ID, "name": ac.Name, "description": nullIfEmpty(ac.Description), "expires_at": exp,
		"project_id": nullIfEmpty(ac.ProjectID), "roles": roles, "unrestricted": ac.Unrestricted,
		"links": c.self("users/" + ac.UserID + "/application_credentials/" + ac.ID),
	}
	if ac.System != "" {
		out["system"] = ac.System
	}
	if len(ac.AccessRules) > 0 {
		rules := []any{}
		for _, r := range ac.AccessRules {
			rules = append(rules, map[string]any{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method})
		}
		out["access_rules"] = rules
	}
	return out
}

// generateAppCredSecret returns 64 random bytes in unpadded urlsafe base64,
// as Keystone generates secrets.
func generateAppCredSecret() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func createAppCred(c *call) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	am, err := object(body, "application_credential")
	if err != nil {
		return err
	}
	ac := &AppCred{ID: newID(), UserID: c.param("user_id"), CreatedAt: time.Now().UTC()}
	if ac.Name, err = appCredName(am); err != nil {
		return err
	}
	if ac.Description, _, err = optString(am, "description", 0, true); err != nil {
		return err
	}
	secret, _, err := optString(am, "secret", 0, true)
	if err != nil {
		return err
	}
	expires, _, err := optString(am, "expires_at", 0, true)
	if err != nil {
		return err
	}
	if ac.Unrestricted, _, err = optBool(am, "unrestricted"); err != nil {
		return err
	}
	roleRefs, err := appCredRoleRefs(am)
	if err != nil {
		return err
	}
	rules, err := accessRuleInput(am)
	if err != nil {
		return err
	}
	if err := c.refuseRestrictedAppCred(); err != nil {
		return err
	}
	if c.tok.UserID != ac.UserID {
		return httpapi.Forbidden("You are not authorized to perform the requested action: Cannot create an application credential for another user.")
	}
	switch {
	case c.tok.ProjectID != "":
		ac.ProjectID = c.tok.ProjectID
	case c.tok.System != "":
		ac.System = c.tok.System
	default:
		return httpapi.BadRequest("Invalid application credential: an application credential is created from a project- or system-scoped token and gets its scope.")
	}
	if expires != "" {
		if ac.ExpiresAt, err = parseAppCredExpiry(expires); err != nil {
			return err
		}
	}
	if ac.RoleIDs, err = c.appCredRoles(roleRefs, ac); err != nil {
		return err
	}
	if ac.AccessRules, err = c.resolveAccessRules(rules, ac.UserID); err != nil {
		return err
	}
	if secret == "" {
		secret = generateAppCredSecret()
	}
	if ac.SecretHash, err = c.s.hashPassword(secret); err != nil {
		return err
	}
	if err := c.s.store.CreateAppCred(c.ctx, ac); err != nil {
		return c.s.conflict(err, "application_credential", "Duplicate entry found with name "+ac.Name)
	}
	out := c.appCredJSON(ac)
	out["secret"] = secret // shown once: only its hash is kept
	return c.json(http.StatusCreated, map[string]any{"application_credential": out})
}

// appCredName reads the name: 1 to 255 characters, not blank.
func appCredName(m map[string]any) (string, error) {
	s, ok, err := optString(m, "name", 255, false)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", httpapi.BadRequest("Invalid input for field 'name': 'name' is a required property")
	}
	if blankName.MatchString(s) {
		return "", invalid("name", "'%s' is too short or blank", s)
	}
	return s, nil
}

// parseAppCredExpiry reads an ISO 8601 time; one without a zone is UTC, as in
// Keystone. A time in the past is refused.
func parseAppCredExpiry(s string) (time.Time, error) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, httpapi.BadRequest("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	t = t.UTC()
	if !t.After(time.Now()) {
		return time.Time{}, httpapi.BadRequest("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	return t, nil
}

// appCredRoleRef is a role of the request, by id or by name.
type appCredRoleRef struct{ id, name string }

func appCredRoleRefs(m map[string]any) ([]appCredRoleRef, error) {
	v, ok := m["roles"]
	if !ok {
		return nil, nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		return nil, invalid("roles", "%s is not of type 'array'", pyRepr(v))
	}
	var out []appCredRoleRef
	for _, item := range arr {
		o, isObj := item.(map[string]any)
		if !isObj || len(o) != 1 {
			return nil, invalid("roles", "%s must be an object with exactly one of 'id' or 'name'", pyRepr(item))
		}
		if _, ok := o["id"]; ok {
			id, _, err := optID(o, "id", false)
			if err != nil {
				return nil, err
			}
			out = append(out, appCredRoleRef{id: id})
			continue
		}
		nm, ok, err := name(o, "name", false)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, invalid("roles", "%s has neither 'id' nor 'name'", pyRepr(item))
		}
		out = append(out, appCredRoleRef{name: nm})
	}
	return out, nil
}

// appCredRoles resolves the requested roles. They must all be in the
// creating token, so a trustee or an application credential cannot widen
// what it was given; with none requested the credential gets every role of
// the token. The user must also hold them on the scope itself.
func (c *call) appCredRoles(refs []appCredRoleRef, ac *AppCred) ([]string, error) {
	if len(refs) == 0 {
		if len(c.tok.RoleIDs) == 0 {
			return nil, httpapi.BadRequest("Invalid application credential: the token has no role to delegate.")
		}
		refs = make([]appCredRoleRef, 0, len(c.tok.RoleIDs))
		for _, id := range c.tok.RoleIDs {
			refs = append(refs, appCredRoleRef{id: id})
		}
	}
	table, _, err := c.s.roleTable(c.ctx)
	if err != nil {
		return nil, err
	}
	held, err := c.s.EffectiveRoles(c.ctx, ac.UserID, Scope{ProjectID: ac.ProjectID, System: ac.System})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ref := range refs {
		id := ref.id
		if id == "" {
			var found *Role
			for _, r := range table {
				if r.Name == ref.name && r.DomainID == "" {
					found = r
				}
			}
			if found == nil {
				return nil, httpapi.NotFound("Could not find role: %s.", ref.name)
			}
			id = found.ID
		}
		if !slices.Contains(c.tok.RoleIDs, id) {
			return nil, httpapi.BadRequest("Invalid application credential: Cannot create an application credential with unassigned role")
		}
		if !slices.ContainsFunc(held, func(r *Role) bool { return r.ID == id }) {
			target := ac.ProjectID
			if ac.System != "" {
				target = "system"
			}
			return nil, httpapi.BadRequest("Invalid application credential: Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", id, ac.UserID, target)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

var (
	accessRulePath   = regexp.MustCompile(`^/.*`)
	accessRuleMethod = regexp.MustCompile(`^(POST|GET|HEAD|PATCH|PUT|DELETE)$`)
)

// accessRuleInput validates the access_rules of a request: each has
// service, path and method, or only the id of an existing rule.
func accessRuleInput(m map[string]any) ([]AccessRule, error) {
	v, ok := m["access_rules"]
	if !ok || v == nil {
		return nil, nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		return nil, invalid("access_rules", "%s is not of type 'array'", pyRepr(v))
	}
	var out []AccessRule
	for _, item := range arr {
		o, isObj := item.(map[string]any)
		if !isObj {
			return nil, invalid("access_rules", "%s is not of type 'object'", pyRepr(item))
		}
		for k := range o {
			if k != "id" && k != "service" && k != "path" && k != "method" {
				return nil, invalid("access_rules", "Additional properties are not allowed ('%s' was unexpected)", k)
			}
		}
		var r AccessRule
		var err error
		if r.ID, _, err = optID(o, "id", false); err != nil {
			return nil, err
		}
		if r.Service, _, err = optID(o, "service", false); err != nil {
			return nil, err
		}
		if r.Path, _, err = optString(o, "path", 225, false); err != nil {
			return nil, err
		}
		if r.Path != "" && !accessRulePath.MatchString(r.Path) {
			return nil, invalid("path", "'%s' does not match '^\\/.*'", r.Path)
		}
		if r.Method, _, err = optString(o, "method", 0, false); err != nil {
			return nil, err
		}
		if _, has := o["method"]; has && !accessRuleMethod.MatchString(r.Method) {
			return nil, invalid("method", "'%s' does not match '^(POST|GET|HEAD|PATCH|PUT|DELETE)$'", r.Method)
		}
		complete := r.Service != "" && r.Path != "" && r.Method != ""
		if !complete && r.ID == "" {
			return nil, httpapi.BadRequest("Invalid input for field 'access_rules': a rule needs service, path and method, or the id of an existing rule.")
		}
		out = append(out, r)
	}
	return out, nil
}

// resolveAccessRules checks the rules given by id: a rule of the user is
// reused; an id that is not one of the user's rules is only a name for a
// new rule, which then needs service, path and method.
func (c *call) resolveAccessRules(rules []AccessRule, userID string) ([]AccessRule, error) {
	for i, r := range rules {
		if r.ID == "" {
			rules[i].ID = newID()
			continue
		}
		found, err := c.s.store.GetAccessRule(c.ctx, r.ID)
		if err != nil && !errors.Is(err, errNotFound) {
			return nil, err
		}
		switch {
		case found != nil && found.UserID == userID:
			rules[i] = *found
		case r.Service == "" || r.Path == "" || r.Method == "":
			return nil, httpapi.NotFound("Could not find access rule: %s.", r.ID)
		case found != nil:
			rules[i].ID = newID() // another user's id: never link to it
		}
	}
	return rules, nil
}

func listAppCreds(c *call) error {
	acs, err := c.s.store.ListAppCreds(c.ctx, c.param("user_id"), c.query("name"))
	if err != nil {
		return err
	}
	list := []any{}
	for _, ac := range acs {
		list = append(list, c.appCredJSON(ac))
	}
	return c.json(http.StatusOK, map[string]any{"application_credentials": list, "links": c.listLinks()})
}

func getAppCred(c *call) error {
	ac, err := c.loadedAppCred()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"application_credential": c.appCredJSON(ac)})
}

// deleteAppCred deletes an application credential. Tokens made from it stop
// validating at once: every validation re-reads the credential
// (resolveAppCred), so no revocation event is needed.
func deleteAppCred(c *call) error {
	ac, err := c.loadedAppCred()
	if err != nil {
		return err
	}
	if err := c.refuseRestrictedAppCred(); err != nil {
		return err
	}
	if err := c.s.store.DeleteAppCred(c.ctx, ac.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find Application Credential: %s.", ac.ID)
		}
		return err
	}
	return c.noContent()
}

// accessRuleUserTarget puts the path's user under target.user, or nothing
// when there is no such user (then only a system reader or admin passes).
func accessRuleUserTarget(c *call) (map[string]any, error) {
	u, err := c.s.user(c.ctx, c.param("user_id"))
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"target": map[string]any{"user": map[string]any{"id": u.ID, "domain_id": u.DomainID}}}, nil
}

func (c *call) accessRuleJSON(r *AccessRule) map[string]any {
	return map[string]any{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method,
		"links": c.self("users/" + r.UserID + "/access_rules/" + r.ID)}
}

func listAccessRules(c *call) error {
	rules, err := c.s.store.ListAccessRules(c.ctx, AccessRuleFilter{UserID: c.param("user_id"),
		Service: c.query("service"), Path: c.query("path"), Method: strings.ToUpper(c.query("method"))})
	if err != nil {
		return err
	}
	list := []any{}
	for i := range rules {
		list = append(list, c.accessRuleJSON(&rules[i]))
	}
	return c.json(http.StatusOK, map[string]any{"access_rules": list, "links": c.listLinks()})
}

// userAccessRule loads {access_rule_id} if it belongs to the path's user.
func (c *call) userAccessRule() (*AccessRule, error) {
	r, err := c.s.store.GetAccessRule(c.ctx, c.param("access_rule_id"))
	if err != nil && !errors.Is(err, errNotFound) {
		return nil, err
	}
	if r == nil || r.UserID != c.param("user_id") {
		return nil, httpapi.NotFound("Could not find access rule: %s.", c.param("access_rule_id"))
	}
	return r, nil
}

func getAccessRule(c *call) error {
	r, err := c.userAccessRule()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"access_rule": c.accessRuleJSON(r)})
}

func deleteAccessRule(c *call) error {
	r, err := c.userAccessRule()
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteAccessRule(c.ctx, r.ID); err != nil {
		switch {
		case errors.Is(err, errAccessRuleInUse):
			return httpapi.Forbidden("May not delete access rule in use.")
		case errors.Is(err, errNotFound):
			return httpapi.NotFound("Could not find access rule: %s.", r.ID)
		}
		return err
	}
	return c.noContent()
}
