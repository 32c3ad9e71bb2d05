package identity

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"kumo/internal/platform/httpapi"
)

var userRoutes = []route{
	{pattern: "POST /v3/users", action: "identity:create_user", target: newUserTarget, handle: createUser},
	{pattern: "GET /v3/users", action: "identity:list_users", target: listUsersTarget, handle: listUsers},
	{pattern: "GET /v3/users/{user_id}", action: "identity:get_user", target: userTarget, handle: getUser},
	{pattern: "PATCH /v3/users/{user_id}", action: "identity:update_user", target: userTarget, handle: updateUser},
	{pattern: "DELETE /v3/users/{user_id}", action: "identity:delete_user", target: userTarget, handle: deleteUser},
	// Not policy-enforced, as Keystone: the original password is the proof,
	// so a user whose password has expired can still change it.
	{pattern: "POST /v3/users/{user_id}/password", handle: changePassword},
	{pattern: "GET /v3/users/{user_id}/projects", action: "identity:list_user_projects", target: userTarget, handle: listUserProjects},
	{pattern: "GET /v3/users/{user_id}/groups", action: "identity:list_groups_for_user", target: userTarget, handle: listUserGroups},
}

// userAttrs are the attributes of a user that are not extras.
var userAttrs = []string{"id", "name", "domain_id", "password", "enabled", "default_project_id", "options", "links", "password_expires_at"}

// loadUser returns a user or Keystone's 404.
func (s *Service) loadUser(ctx context.Context, id string) (*User, error) {
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find user: %s.", id)
	}
	return u, err
}

// userTarget loads the user of the path for the policy check. A missing
// user leaves target.user out (only an admin passes) and the handler then
// answers 404, as Keystone does.
func userTarget(c *call) (map[string]any, error) {
	u, err := c.s.store.GetUser(c.ctx, c.param("user_id"))
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.loaded = u
	return userPolicyTarget(u), nil
}

func userPolicyTarget(u *User) map[string]any {
	return map[string]any{"target": map[string]any{"user": map[string]any{"id": u.ID, "domain_id": u.DomainID}}}
}

// pathUser returns the user userTarget loaded, or the 404.
func (c *call) pathUser() (*User, error) {
	if u, ok := c.loaded.(*User); ok && u != nil {
		return u, nil
	}
	return nil, httpapi.NotFound("Could not find user: %s.", c.param("user_id"))
}

// newUserTarget is the body's "user" as sent (Keystone enforces before it
// validates, so a caller without the right learns nothing from a 400).
func newUserTarget(c *call) (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	um, err := object(body, "user")
	if err != nil {
		c.loaded = err
		return nil, nil
	}
	c.input = um
	t := map[string]any{}
	for k, v := range um {
		if k != "password" {
			t[k] = v
		}
	}
	return map[string]any{"target": map[string]any{"user": t}}, nil
}

func listUsersTarget(c *call) (map[string]any, error) {
	if c.tok.DomainID != "" {
		return map[string]any{"target": map[string]any{"domain_id": c.tok.DomainID}}, nil
	}
	return nil, nil
}

func (c *call) userJSON(u *User) map[string]any {
	opts := u.Options
	if opts == nil {
		opts = map[string]any{}
	}
	out := map[string]any{
		"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": u.Enabled,
		"password_expires_at": keystoneTime(u.PasswordExpiresAt), "options": opts,
		"links": c.self("users/" + u.ID),
	}
	if u.DefaultProjectID != "" {
		out["default_project_id"] = u.DefaultProjectID
	}
	return mergeExtra(out, u.Extra)
}

func createUser(c *call) error {
	if err, ok := c.loaded.(error); ok {
		return err
	}
	um := c.input
	nm, _, err := identityName(um, "name", true)
	if err != nil {
		return err
	}
	u := &User{ID: newID(), Name: nm, Enabled: true, CreatedAt: time.Now().UTC(), Options: map[string]any{}}
	if u.DomainID, _, err = identityID(um, "domain_id"); err != nil {
		return err
	}
	if u.DomainID == "" {
		u.DomainID = c.callerDomain()
	}
	if v, ok, err := optBool(um, "enabled"); err != nil {
		return err
	} else if ok {
		u.Enabled = v
	}
	if u.DefaultProjectID, _, err = identityNullableID(um, "default_project_id"); err != nil {
		return err
	}
	if _, _, err := optString(um, "description", 0, true); err != nil {
		return err
	}
	pw, hasPW, err := optPassword(um)
	if err != nil {
		return err
	}
	opts, _, err := userOptions(um)
	if err != nil {
		return err
	}
	u.Options = applyOptions(u.Options, opts)
	u.Extra = extras(um, userAttrs...)
	if hasPW {
		if err := c.s.checkPasswordRegex(pw); err != nil {
			return err
		}
	}
	if err := c.s.requireDomain(c.ctx, u.DomainID); err != nil {
		return err
	}
	if err := c.s.checkDefaultProject(c.ctx, u.DefaultProjectID); err != nil {
		return err
	}
	var rec *PasswordRecord
	if pw != nil {
		if rec, err = c.s.newPasswordRecord(u, pw, false); err != nil {
			return err
		}
		u.PasswordExpiresAt = rec.ExpiresAt
	}
	if err := c.s.store.CreateUser(c.ctx, u, rec); err != nil {
		return c.s.conflict(err, "user", "Duplicate entry found with name "+u.Name+" at domain ID "+u.DomainID)
	}
	return c.json(http.StatusCreated, map[string]any{"user": c.userJSON(u)})
}

// requireDomain answers Keystone's 404 unless id is an existing domain.
func (s *Service) requireDomain(ctx context.Context, id string) error {
	d, err := s.store.GetProject(ctx, id)
	if err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	if err != nil || !d.IsDomain {
		return httpapi.NotFound("Could not find domain: %s.", id)
	}
	return nil
}

// checkDefaultProject refuses a domain as a default project; a project
// that does not exist is accepted, as Keystone does.
func (s *Service) checkDefaultProject(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	p, err := s.store.GetProject(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.IsDomain {
		return httpapi.BadRequest("User's default project ID cannot be a domain ID: %s", id)
	}
	return nil
}

func listUsers(c *call) error {
	q := c.r.URL.Query()
	f := UserFilter{DomainID: q.Get("domain_id"), Name: q.Get("name")}
	if q.Has("enabled") {
		b := attrAsBoolean(q.Get("enabled"))
		f.Enabled = &b
	}
	keep, err := userListFilter(q)
	if err != nil {
		return err
	}
	out := []any{}
	if tokDomain := c.tok.DomainID; tokDomain != "" {
		// A domain-scoped caller sees its own domain only.
		if f.DomainID != "" && f.DomainID != tokDomain {
			return c.json(http.StatusOK, map[string]any{"users": out, "links": c.listLinks()})
		}
		f.DomainID = tokDomain
	}
	us, err := c.s.store.ListUsers(c.ctx, f)
	if err != nil {
		return err
	}
	for _, u := range us {
		if keep(u) {
			out = append(out, c.userJSON(u))
		}
	}
	return c.json(http.StatusOK, map[string]any{"users": out, "links": c.listLinks()})
}

// userListFilter returns the filters that the store does not apply:
// inexact name filters and password_expires_at.
func userListFilter(q url.Values) (func(*User) bool, error) {
	var expires func(time.Time) bool
	if q.Has("password_expires_at") {
		var err error
		if expires, err = expiryFilter(q.Get("password_expires_at")); err != nil {
			return nil, err
		}
	}
	return func(u *User) bool {
		if expires != nil && !expires(u.PasswordExpiresAt) {
			return false
		}
		return hintsMatch(q, "name", u.Name)
	}, nil
}

func getUser(c *call) error {
	u, err := c.pathUser()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"user": c.userJSON(u)})
}

func updateUser(c *call) error {
	u, err := c.pathUser()
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	um, err := object(body, "user")
	if err != nil {
		return err
	}
	if len(um) == 0 {
		return invalid("user", "{} does not have enough properties")
	}
	if v, ok := um["id"]; ok && v != nil && v != u.ID {
		return httpapi.BadRequest("Cannot change ID")
	}
	if v, ok, err := identityID(um, "domain_id"); err != nil {
		return err
	} else if ok && v != u.DomainID {
		return httpapi.BadRequest("Cannot change Domain ID")
	}
	if v, ok, err := identityName(um, "name", false); err != nil {
		return err
	} else if ok {
		u.Name = v
	}
	wasEnabled := u.Enabled
	if v, ok, err := optBool(um, "enabled"); err != nil {
		return err
	} else if ok {
		u.Enabled = v
	}
	if v, ok, err := identityNullableID(um, "default_project_id"); err != nil {
		return err
	} else if ok {
		u.DefaultProjectID = v
	}
	if _, _, err := optString(um, "description", 0, true); err != nil {
		return err
	}
	pw, hasPW, err := optPassword(um)
	if err != nil {
		return err
	}
	opts, _, err := userOptions(um)
	if err != nil {
		return err
	}
	u.Options = applyOptions(u.Options, opts)
	if u.Extra == nil {
		u.Extra = map[string]any{}
	}
	for k, v := range extras(um, userAttrs...) {
		u.Extra[k] = v
	}
	if hasPW {
		if err := c.s.checkPasswordRegex(pw); err != nil {
			return err
		}
	}
	if _, ok := um["default_project_id"]; ok {
		if err := c.s.checkDefaultProject(c.ctx, u.DefaultProjectID); err != nil {
			return err
		}
	}
	var rec *PasswordRecord
	if hasPW {
		// An admin reset: no history or minimum-age check, but with
		// change_password_upon_first_use the user must change it.
		if rec, err = c.s.newPasswordRecord(u, pw, false); err != nil {
			return err
		}
		u.PasswordExpiresAt = rec.ExpiresAt
	}
	if err := c.s.store.UpdateUser(c.ctx, u, rec, c.s.passwordHistoryKept()); err != nil {
		return c.s.conflict(err, "user", "Duplicate entry found with name "+u.Name)
	}
	if (wasEnabled && !u.Enabled) || pw != nil {
		if err := c.s.Revoke(c.ctx, RevocationEvent{UserID: u.ID}); err != nil {
			return err
		}
	}
	return c.json(http.StatusOK, map[string]any{"user": c.userJSON(u)})
}

func deleteUser(c *call) error {
	u, err := c.pathUser()
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteUser(c.ctx, u.ID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find user: %s.", u.ID)
		}
		return err
	}
	if err := c.s.Revoke(c.ctx, RevocationEvent{UserID: u.ID}); err != nil {
		return err
	}
	if err := c.s.deleteTrustsOfUser(c.ctx, u.ID); err != nil {
		return err
	}
	return c.noContent()
}

func listUserProjects(c *call) error {
	u, err := c.pathUser()
	if err != nil {
		return err
	}
	ps, err := c.s.ProjectsOfUser(c.ctx, u.ID)
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	out := []any{}
	for _, p := range ps {
		if p.IsDomain || (q.Has("domain_id") && p.DomainID != q.Get("domain_id")) ||
			(q.Has("enabled") && p.Enabled != attrAsBoolean(q.Get("enabled"))) || !hintsMatch(q, "name", p.Name) {
			continue
		}
		out = append(out, c.projectJSON(p))
	}
	return c.json(http.StatusOK, map[string]any{"projects": out, "links": c.listLinks()})
}

func listUserGroups(c *call) error {
	u, err := c.pathUser()
	if err != nil {
		return err
	}
	gs, err := c.s.store.ListGroups(c.ctx, GroupFilter{UserID: u.ID})
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	out := []any{}
	for _, g := range gs {
		if !hintsMatch(q, "name", g.Name) || (c.tok.DomainID != "" && g.DomainID != c.tok.DomainID) {
			continue
		}
		gj := c.groupJSON(g)
		gj["membership_expires_at"] = nil
		out = append(out, gj)
	}
	return c.json(http.StatusOK, map[string]any{"groups": out, "links": c.listLinks()})
}
