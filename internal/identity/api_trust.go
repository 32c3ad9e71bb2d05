package identity

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// trustRoutes is OS-TRUST. Keystone answers both with and without a
// trailing slash on the collection, and Tempest lists trusts with one.
var trustRoutes = []route{
	{pattern: "POST /v3/OS-TRUST/trusts", action: "identity:create_trust", target: newTrustTarget, handle: createTrust},
	{pattern: "POST /v3/OS-TRUST/trusts/{$}", action: "identity:create_trust", target: newTrustTarget, handle: createTrust},
	{pattern: "GET /v3/OS-TRUST/trusts", action: "identity:list_trusts", target: listTrustsTarget, actionFor: listTrustsAction, handle: listTrusts},
	{pattern: "GET /v3/OS-TRUST/trusts/{$}", action: "identity:list_trusts", target: listTrustsTarget, actionFor: listTrustsAction, handle: listTrusts},
	{pattern: "GET /v3/OS-TRUST/trusts/{trust_id}", action: "identity:get_trust", target: trustTarget, handle: getTrust},
	{pattern: "DELETE /v3/OS-TRUST/trusts/{trust_id}", action: "identity:delete_trust", target: trustTarget, handle: deleteTrust},
	{pattern: "GET /v3/OS-TRUST/trusts/{trust_id}/roles", action: "identity:list_roles_for_trust", target: trustTarget, handle: listTrustRoles},
	{pattern: "GET /v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}", action: "identity:get_role_for_trust", target: trustTarget, handle: getTrustRole},
}

// trustTarget loads the trust of the path: a deleted, expired or used-up
// trust is a 404 before any policy check, as in Keystone.
func trustTarget(c *call) (map[string]any, error) {
	t, err := c.s.usableTrust(c.ctx, c.param("trust_id"))
	if err != nil {
		return nil, err
	}
	c.loaded = t
	return map[string]any{"target": map[string]any{"trust": map[string]any{
		"trustor_user_id": t.TrustorUserID, "trustee_user_id": t.TrusteeUserID}}}, nil
}

// newTrustTarget exposes the body's "trust" as sent: create_trust checks
// that the caller is its trustor_user_id.
func newTrustTarget(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	tm, ok := body["trust"].(map[string]any)
	if !ok {
		return map[string]any{}, nil // the rule fails on the missing key
	}
	c.input = tm
	return map[string]any{"trust": tm}, nil
}

func listTrustsAction(c *call) string {
	q := c.r.URL.Query()
	switch {
	case q.Get("trustor_user_id") != "":
		return "identity:list_trusts_for_trustor"
	case q.Get("trustee_user_id") != "":
		return "identity:list_trusts_for_trustee"
	}
	return "identity:list_trusts"
}

func listTrustsTarget(c *call) (map[string]any, error) {
	q := c.r.URL.Query()
	t := map[string]any{}
	if v := q.Get("trustor_user_id"); v != "" {
		t["trustor_user_id"] = v
	} else if v := q.Get("trustee_user_id"); v != "" {
		t["trustee_user_id"] = v
	}
	return map[string]any{"target": map[string]any{"trust": t}}, nil
}

// trustJSON renders a trust; withRoles adds its roles, as Keystone does for
// a single trust but not in lists.
func (c *call) trustJSON(t *Trust, withRoles bool) map[string]any {
	var exp, uses, count any
	if !t.ExpiresAt.IsZero() {
		exp = isoTime(t.ExpiresAt)
	}
	if t.RemainingUses != nil {
		uses = *t.RemainingUses
	}
	if t.RedelegationCount != nil {
		count = *t.RedelegationCount
	}
	out := map[string]any{
		"id": t.ID, "trustor_user_id": t.TrustorUserID, "trustee_user_id": t.TrusteeUserID,
		"project_id": nullIfEmpty(t.ProjectID), "impersonation": t.Impersonation, "expires_at": exp,
		"remaining_uses": uses, "redelegated_trust_id": nullIfEmpty(t.RedelegatedTrustID),
		"redelegation_count": count, "deleted_at": nil, "links": c.self("OS-TRUST/trusts/" + t.ID),
	}
	if withRoles {
		out["roles"] = c.trustRolesJSON(t)
		out["roles_links"] = map[string]any{"self": c.base() + "/v3/OS-TRUST/trusts/" + t.ID + "/roles", "previous": nil, "next": nil}
	}
	return mergeExtra(out, t.Extra)
}

// trustRolesJSON renders the roles a trust delegates, skipping roles that
// were deleted since.
func (c *call) trustRolesJSON(t *Trust) []any {
	out := []any{}
	for _, id := range t.RoleIDs {
		if r, err := c.s.store.GetRole(c.ctx, id); err == nil {
			out = append(out, c.roleJSON(r))
		}
	}
	return out
}

// trustKnownFields are the attributes of a trust request that are not
// stored as extra attributes.
var trustKnownFields = []string{"id", "trustor_user_id", "trustee_user_id", "project_id", "impersonation", "expires_at",
	"remaining_uses", "allow_redelegation", "redelegation_count", "roles", "redelegated_trust_id", "deleted_at",
	"links", "roles_links"}

func createTrust(c *call) error {
	tm := c.input
	if tm == nil {
		return httpapi.BadRequest("Invalid input for field 'trust': 'trust' is a required property")
	}
	d, roles, err := decodeTrust(tm)
	if err != nil {
		return err
	}
	if err := c.refuseRestrictedTrustManager(); err != nil {
		return err
	}
	if c.tok.UserID != d.TrustorUserID {
		return httpapi.Forbidden("You are not authorized to perform the requested action: The authenticated user should match the trustor.")
	}
	if d.RoleIDs, err = c.delegatedRoleIDs(roles); err != nil {
		return err
	}
	var parent *Trust
	switch {
	case c.tok.TrustID != "":
		if parent, err = c.s.liveTrust(c.ctx, c.tok.TrustID); err != nil {
			if errors.Is(err, errNotFound) {
				return httpapi.NotFound("Could not find trust: %s.", c.tok.TrustID)
			}
			return err
		}
	case slices.Contains(c.tok.Methods, "oauth1"):
		return httpapi.Forbidden("You are not authorized to perform the requested action: Redelegation allowed for delegated by trust only.")
	}
	d.ID = newID()
	if err := c.s.createTrust(c.ctx, d, parent); err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"trust": c.trustJSON(d.Trust, true)})
}

// refuseRestrictedTrustManager refuses a token of a restricted application
// credential: it may not create or delete trusts.
func (c *call) refuseRestrictedTrustManager() error {
	if c.tok.AppCredID == "" {
		return nil
	}
	ac, err := c.s.store.GetAppCred(c.ctx, c.tok.AppCredID)
	if err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	if err != nil || !ac.Unrestricted {
		return httpapi.Forbidden("You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing trusts.")
	}
	return nil
}

// delegatedRole is a role named by id or by name in a trust or OAuth
// authorization request.
type delegatedRole struct{ ID, Name string }

// delegatedRoleIDs resolves role references: ids are kept as given, names must
// name a global role (404 otherwise, as Keystone's). Duplicates are dropped.
func (c *call) delegatedRoleIDs(refs []delegatedRole) ([]string, error) {
	var ids []string
	for _, ref := range refs {
		id := ref.ID
		if id == "" {
			r, err := c.s.store.GetRoleByName(c.ctx, "", ref.Name)
			if err != nil {
				if errors.Is(err, errNotFound) {
					return nil, httpapi.NotFound("Could not find role: %s.", ref.Name)
				}
				return nil, err
			}
			id = r.ID
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// decodeTrust checks a create request against Keystone's trust schema.
func decodeTrust(tm map[string]any) (trustDraft, []delegatedRole, error) {
	t := &Trust{Extra: extras(tm, trustKnownFields...)}
	d := trustDraft{Trust: t}
	for _, f := range []struct {
		key string
		dst *string
	}{{"trustor_user_id", &t.TrustorUserID}, {"trustee_user_id", &t.TrusteeUserID}} {
		v, ok, err := optString(tm, f.key, 64, false)
		if err != nil {
			return d, nil, err
		}
		if !ok {
			return d, nil, httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", f.key, f.key)
		}
		if v == "" {
			return d, nil, invalid(f.key, "'' is too short")
		}
		*f.dst = v
	}
	imp, ok, err := optBool(tm, "impersonation")
	if err != nil {
		return d, nil, err
	}
	if !ok {
		return d, nil, httpapi.BadRequest("Invalid input for field 'impersonation': 'impersonation' is a required property")
	}
	t.Impersonation = imp
	if t.ProjectID, _, err = optID(tm, "project_id", true); err != nil {
		return d, nil, err
	}
	if t.RemainingUses, err = optTrustCount(tm, "remaining_uses", 1); err != nil {
		return d, nil, err
	}
	if d.RequestedCount, err = optTrustCount(tm, "redelegation_count", 0); err != nil {
		return d, nil, err
	}
	if v, present := tm["allow_redelegation"]; present && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return d, nil, invalid("allow_redelegation", "%s is not of type 'boolean', 'null'", pyRepr(v))
		}
		d.AllowRedelegation = b
	}
	exp, _, err := optString(tm, "expires_at", 0, true)
	if err != nil {
		return d, nil, err
	}
	if exp != "" {
		if t.ExpiresAt, err = parseTrustExpiry(exp); err != nil {
			return d, nil, err
		}
	}
	roles, err := delegatedRoleRefs(tm, "roles")
	return d, roles, err
}

// optTrustCount reads an optional integer (or null) of at least min.
func optTrustCount(m map[string]any, key string, least int) (*int, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	var f float64
	isNum := false
	switch n := v.(type) {
	case json.Number:
		f, isNum = jsonNumber(n)
	case float64:
		f, isNum = n, true
	}
	if !isNum || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return nil, invalid(key, "%s is not of type 'integer', 'null'", pyRepr(v))
	}
	if int(f) < least {
		return nil, invalid(key, "%d is less than the minimum of %d", int(f), least)
	}
	n := int(f)
	return &n, nil
}

// delegatedRoleRefs reads a list of {"id": ...} or {"name": ...} role references.
func delegatedRoleRefs(m map[string]any, key string) ([]delegatedRole, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		return nil, invalid(key, "%s is not of type 'array'", pyRepr(v))
	}
	var out []delegatedRole
	for _, item := range arr {
		o, isObj := item.(map[string]any)
		if !isObj {
			return nil, invalid(key, "%s is not of type 'object'", pyRepr(item))
		}
		if len(o) != 1 {
			return nil, invalid(key, "%s must have exactly one of 'id' or 'name'", pyRepr(item))
		}
		var ref delegatedRole
		var err error
		switch {
		case o["id"] != nil:
			ref.ID, _, err = optID(o, "id", false)
			if err == nil && ref.ID == "" {
				err = invalid("id", "'' is too short")
			}
		case o["name"] != nil:
			ref.Name, _, err = optString(o, "name", 255, false)
			if err == nil && strings.TrimSpace(ref.Name) == "" {
				err = invalid("name", "'%s' is too short or blank", ref.Name)
			}
		default:
			err = invalid(key, "%s must have exactly one of 'id' or 'name'", pyRepr(item))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// parseTrustExpiry reads an ISO 8601 expiry as Keystone does (a missing
// zone means UTC) and refuses one in the past.
func parseTrustExpiry(s string) (time.Time, error) {
	if !strings.HasSuffix(s, "Z") && !strings.HasSuffix(s, "z") && !hasZoneOffset(s) {
		s += "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, httpapi.BadRequest("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if t.Before(time.Now()) {
		return time.Time{}, httpapi.BadRequest("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	return t.UTC(), nil
}

// hasZoneOffset reports whether an ISO 8601 time ends with "+hh:mm" or
// "-hh:mm".
func hasZoneOffset(s string) bool {
	i := strings.LastIndexAny(s, "+-")
	return i > 10 && strings.Contains(s[:i], "T") && len(s)-i == 6 && s[i+3] == ':'
}

func listTrusts(c *call) error {
	q := c.r.URL.Query()
	f := TrustFilter{TrustorUserID: q.Get("trustor_user_id"), TrusteeUserID: q.Get("trustee_user_id")}
	ts, err := c.s.store.ListTrusts(c.ctx, f)
	if err != nil {
		return err
	}
	out := []any{}
	now := time.Now()
	for _, t := range ts {
		if trustUsable(t, now) {
			out = append(out, c.trustJSON(t, false))
		}
	}
	return c.json(http.StatusOK, map[string]any{"trusts": out, "links": c.listLinks()})
}

func getTrust(c *call) error {
	return c.json(http.StatusOK, map[string]any{"trust": c.trustJSON(c.loaded.(*Trust), true)})
}

func deleteTrust(c *call) error {
	if err := c.refuseRestrictedTrustManager(); err != nil {
		return err
	}
	t := c.loaded.(*Trust)
	if err := c.s.deleteTrust(c.ctx, t.ID, 0); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find trust: %s.", t.ID)
		}
		return err
	}
	return c.noContent()
}

func listTrustRoles(c *call) error {
	t := c.loaded.(*Trust)
	return c.json(http.StatusOK, map[string]any{"roles": c.trustRolesJSON(t),
		"links": map[string]any{"self": c.base() + "/v3/OS-TRUST/trusts/" + t.ID + "/roles", "previous": nil, "next": nil}})
}

func getTrustRole(c *call) error {
	t := c.loaded.(*Trust)
	id := c.param("role_id")
	if !slices.Contains(t.RoleIDs, id) {
		return httpapi.NotFound("Could not find role: %s.", id)
	}
	r, err := c.s.store.GetRole(c.ctx, id)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find role: %s.", id)
		}
		return err
	}
	return c.json(http.StatusOK, map[string]any{"role": c.roleJSON(r)})
}

// jsonNumber reads a decoded JSON number.
func jsonNumber(n json.Number) (float64, bool) {
	f, err := n.Float64()
	return f, err == nil
}
