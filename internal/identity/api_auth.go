package identity

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"kumo/internal/platform/httpapi"
)

// Keystone Zed's identity API version.
const APIVersion = "v3.14"

var discoveryRoutes = []route{
	{pattern: "GET /{$}", handle: versions},
	{pattern: "GET /v3", handle: version},
	{pattern: "GET /v3/{$}", handle: version},
}

var authRoutes = []route{
	{pattern: "POST /v3/auth/tokens", handle: issueToken},
	{pattern: "GET /v3/auth/tokens", action: "identity:validate_token", target: subjectTarget, handle: validateToken},
	{pattern: "HEAD /v3/auth/tokens", action: "identity:check_token", target: subjectTarget, handle: checkToken},
	{pattern: "DELETE /v3/auth/tokens", action: "identity:revoke_token", target: subjectTarget, handle: revokeToken},
	{pattern: "GET /v3/auth/catalog", action: "identity:get_auth_catalog", handle: authCatalog},
	{pattern: "GET /v3/auth/projects", action: "identity:get_auth_projects", handle: authProjects},
	{pattern: "GET /v3/auth/domains", action: "identity:get_auth_domains", handle: authDomains},
	{pattern: "GET /v3/auth/system", action: "identity:get_auth_system", handle: authSystem},
}

func versionDoc(c *call) map[string]any {
	return map[string]any{
		"id": APIVersion, "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []any{map[string]any{"rel": "self", "href": c.base() + "/v3/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

func versions(c *call) error {
	return c.json(http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{versionDoc(c)}}})
}

func version(c *call) error { return c.json(http.StatusOK, map[string]any{"version": versionDoc(c)}) }

func issueToken(c *call) error {
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		return httpapi.ReadJSON(c.r, nil) // reports 413 or the read error
	}
	tok, td, err := c.s.Issue(c.withSignedRequest(), body)
	if err != nil {
		return err
	}
	c.w.Header().Set("X-Subject-Token", tok)
	out, err := c.tokenBody(td, !queryTrue(c, "nocatalog"))
	if err != nil {
		return err
	}
	return c.json(http.StatusCreated, map[string]any{"token": out})
}

// queryTrue reads a boolean query flag as Keystone does: present and not
// "0"/"false" means true.
func queryTrue(c *call, name string) bool {
	q := c.r.URL.Query()
	if !q.Has(name) {
		return false
	}
	v := q.Get(name)
	if v == "" {
		return true
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// subjectTarget validates X-Subject-Token and exposes its owner to policy.
func subjectTarget(c *call) (map[string]any, error) {
	raw := c.r.Header.Get("X-Subject-Token")
	if raw == "" {
		return nil, httpapi.NotFound("Could not find token: X-Subject-Token is missing.")
	}
	td, err := c.s.validate(c.ctx, raw, queryTrue(c, "allow_expired"))
	if err != nil {
		return nil, err
	}
	c.subject = td
	return map[string]any{"target": map[string]any{"token": map[string]any{"user_id": td.User.ID}}}, nil
}

func validateToken(c *call) error {
	td, variant := c.subject, 0
	if queryTrue(c, "nocatalog") {
		variant = 1
	}
	// The body of a validation depends only on the token data, so it is
	// built once per cached validation (and not kept if building failed).
	td.renderMu.Lock()
	raw := td.rendered[variant]
	if raw == nil {
		body, err := c.tokenBody(td, variant == 0)
		if err != nil {
			td.renderMu.Unlock()
			return err
		}
		raw, _ = json.Marshal(map[string]any{"token": body})
		td.rendered[variant] = raw
	}
	td.renderMu.Unlock()
	c.w.Header().Set("X-Subject-Token", c.r.Header.Get("X-Subject-Token"))
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, err := c.w.Write(raw)
	return err
}

func checkToken(c *call) error {
	c.w.Header().Set("X-Subject-Token", c.r.Header.Get("X-Subject-Token"))
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func revokeToken(c *call) error {
	if err := c.s.Revoke(c.ctx, RevocationEvent{AuditID: c.subject.AuditIDs[0], IssuedBefore: time.Now()}); err != nil {
		return err
	}
	return c.noContent()
}

// tokenBody renders a token as Keystone's "token" object.
func (c *call) tokenBody(td *tokenData, withCatalog bool) (map[string]any, error) {
	var pwExp any
	if !td.User.PasswordExpiresAt.IsZero() {
		pwExp = isoTime(td.User.PasswordExpiresAt)
	}
	t := map[string]any{
		"methods":    td.Methods,
		"user":       map[string]any{"id": td.User.ID, "name": td.User.Name, "domain": ref(td.UserDomain), "password_expires_at": pwExp},
		"audit_ids":  td.AuditIDs,
		"expires_at": isoTime(td.ExpiresAt),
		"issued_at":  isoTime(td.IssuedAt),
	}
	switch {
	case td.Project != nil:
		t["project"] = map[string]any{"id": td.Project.ID, "name": td.Project.Name, "domain": ref(td.ProjectDomain)}
		t["is_domain"] = false
	case td.Domain != nil:
		t["domain"] = ref(td.Domain)
	case td.System != "":
		t["system"] = map[string]any{"all": true}
	}
	if td.Project != nil || td.Domain != nil || td.System != "" {
		roles := make([]any, 0, len(td.Roles))
		for _, r := range td.Roles {
			roles = append(roles, map[string]any{"id": r.ID, "name": r.Name})
		}
		t["roles"] = roles
		if withCatalog {
			projectID := ""
			if td.Project != nil {
				projectID = td.Project.ID
			}
			cat, err := c.s.Catalog(c.ctx, projectID)
			if err != nil {
				return nil, fmt.Errorf("build catalog: %w", err)
			}
			t["catalog"] = rawJSON(cat)
		}
	}
	if td.Trust != nil {
		tr := map[string]any{
			"id": td.Trust.ID, "impersonation": td.Trust.Impersonation,
			"trustee_user": map[string]any{"id": td.Trust.TrusteeUserID},
			"trustor_user": map[string]any{"id": td.Trust.TrustorUserID},
		}
		t["OS-TRUST:trust"] = tr
	}
	if td.AccessToken != nil {
		t["OS-OAUTH1"] = map[string]any{"access_token_id": td.AccessToken.ID, "consumer_id": td.AccessToken.ConsumerID}
	}
	if td.AppCred != nil {
		ac := map[string]any{"id": td.AppCred.ID, "name": td.AppCred.Name, "restricted": !td.AppCred.Unrestricted}
		if len(td.AppCred.AccessRules) > 0 {
			rules := []any{}
			for _, r := range td.AppCred.AccessRules {
				rules = append(rules, map[string]any{"id": r.ID, "service": r.Service, "path": r.Path, "method": r.Method})
			}
			ac["access_rules"] = rules
		}
		t["application_credential"] = ac
	}
	return t, nil
}

// ref renders {"id", "name"} of a domain or project.
func ref(p *Project) map[string]any {
	if p == nil {
		return nil
	}
	return map[string]any{"id": p.ID, "name": p.Name}
}

func authCatalog(c *call) error {
	if c.tok.ProjectID == "" && c.tok.DomainID == "" && c.tok.System == "" {
		return httpapi.Forbidden("A project-scoped token is required to produce a service catalog.")
	}
	cat, err := c.s.Catalog(c.ctx, c.tok.ProjectID)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"catalog": rawJSON(cat), "links": c.listLinks()})
}

// authProjects lists the enabled projects the caller has a role on.
func authProjects(c *call) error {
	ps, err := c.s.ProjectsOfUser(c.ctx, c.tok.UserID)
	if err != nil {
		return err
	}
	out := []any{}
	for _, p := range ps {
		if p.Enabled {
			out = append(out, c.projectJSON(p))
		}
	}
	return c.json(http.StatusOK, map[string]any{"projects": out, "links": c.listLinks()})
}

// authDomains lists the enabled domains the caller has a role on.
func authDomains(c *call) error {
	ds, err := c.s.DomainsOfUser(c.ctx, c.tok.UserID)
	if err != nil {
		return err
	}
	out := []any{}
	for _, d := range ds {
		if d.Enabled {
			out = append(out, c.domainJSON(d))
		}
	}
	return c.json(http.StatusOK, map[string]any{"domains": out, "links": c.listLinks()})
}

func authSystem(c *call) error {
	roles, err := c.s.EffectiveRoles(c.ctx, c.tok.UserID, Scope{System: SystemTarget})
	if err != nil {
		return err
	}
	sys := []any{}
	if len(roles) > 0 {
		sys = append(sys, map[string]any{"all": true})
	}
	return c.json(http.StatusOK, map[string]any{"system": sys, "links": c.listLinks()})
}
