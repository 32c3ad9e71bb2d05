package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kumo/internal/identity/token"
	"kumo/internal/platform/authn"
	"kumo/internal/platform/httpapi"
)

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string        `json:"methods"`
			Password *passwordMethod `json:"password"`
			Token    *struct {
				ID string `json:"id"`
			} `json:"token"`
			ApplicationCredential *appCredMethod `json:"application_credential"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type nameOrID struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Domain *nameOrID `json:"domain"`
}

type passwordMethod struct {
	User *struct {
		nameOrID
		Password *string `json:"password"`
	} `json:"user"`
}

type appCredMethod struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Secret string    `json:"secret"`
	User   *nameOrID `json:"user"`
}

type authScope struct {
	Project *nameOrID      `json:"project"`
	Domain  *nameOrID      `json:"domain"`
	System  map[string]any `json:"system"`
	Trust   *struct {
		ID string `json:"id"`
	} `json:"OS-TRUST:trust"`
}

var errAuth = httpapi.Unauthorized("The request you have made requires authentication.")

// tokenData is a validated token with everything its body shows.
type tokenData struct {
	token.Payload
	User          *User
	UserDomain    *Project
	Project       *Project
	ProjectDomain *Project
	Domain        *Project
	Roles         []*Role
	Trust         *Trust
	AppCred       *AppCred
	AccessToken   *AccessToken // OS-OAUTH1

	// validUntil is when this validation stops holding on its own: the
	// token's expiry, or an earlier expiry of its trust, application
	// credential or OAuth access token.
	validUntil time.Time
	// rendered memoises the validation response bodies (with and without
	// catalog) and the caller view, built once per cached validation.
	renderMu   sync.Mutex
	rendered   [2][]byte
	callerOnce sync.Once
	caller     *authn.Token
}

// computeValidUntil sets validUntil from the token and what it delegates.
func (td *tokenData) computeValidUntil() {
	td.validUntil = td.ExpiresAt
	for _, t := range []time.Time{trustExpiry(td.Trust), appCredExpiry(td.AppCred), accessTokenExpiry(td.AccessToken)} {
		if !t.IsZero() && t.Before(td.validUntil) {
			td.validUntil = t
		}
	}
}

func trustExpiry(t *Trust) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.ExpiresAt
}

func appCredExpiry(a *AppCred) time.Time {
	if a == nil {
		return time.Time{}
	}
	return a.ExpiresAt
}

func accessTokenExpiry(a *AccessToken) time.Time {
	if a == nil {
		return time.Time{}
	}
	return a.ExpiresAt
}

// Issue authenticates a POST /v3/auth/tokens body and returns the new
// token string with its data.
func (s *Service) Issue(ctx context.Context, body []byte) (string, *tokenData, error) {
	var req authRequest
	if err := httpapi.DecodeJSON(body, &req); err != nil {
		return "", nil, err
	}
	if req.Auth == nil {
		return "", nil, httpapi.BadRequest("Expecting to find auth in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	id := req.Auth.Identity
	if id == nil {
		return "", nil, httpapi.BadRequest("Expecting to find identity in auth. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if len(id.Methods) == 0 {
		return "", nil, httpapi.BadRequest("Invalid input for field 'identity/methods': [] is too short")
	}
	scope, err := parseScope(req.Auth.Scope)
	if err != nil {
		return "", nil, err
	}
	now := time.Now().UTC()
	p := token.Payload{IssuedAt: now, ExpiresAt: now.Add(s.cfg.TokenExpiration), AuditIDs: []string{token.NewAuditID()}}
	var methods []string
	for _, m := range id.Methods {
		if slices.Contains(methods, m) {
			continue
		}
		methods = append(methods, m)
		switch m {
		case "password":
			if id.Password == nil || id.Password.User == nil {
				return "", nil, httpapi.BadRequest("Expecting to find password in identity. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
			}
			uid, err := s.checkPassword(ctx, id.Password)
			if err != nil {
				return "", nil, err
			}
			if err := sameUser(&p, uid); err != nil {
				return "", nil, err
			}
		case "token":
			if id.Token == nil || id.Token.ID == "" {
				return "", nil, httpapi.BadRequest("Expecting to find token in identity. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
			}
			old, err := s.validate(ctx, id.Token.ID, false)
			if err != nil {
				// A genuine token that is revoked or expired is Keystone's
				// 404 (tempest's test_user_update_own_password expects it).
				if keys, kerr := s.keys.Keys(); kerr == nil {
					if _, oerr := keys.Open(id.Token.ID); oerr == nil {
						return "", nil, httpapi.NotFound("Could not find token: %s.", id.Token.ID)
					}
				}
				return "", nil, errAuth
			}
			if old.TrustID != "" || old.AppCredID != "" || old.AccessTokenID != "" {
				return "", nil, httpapi.Forbidden("You are not authorized to perform the requested action: rescoping a trust-, OAuth- or application-credential-scoped token is not allowed.")
			}
			if err := sameUser(&p, old.UserID); err != nil {
				return "", nil, err
			}
			// A rescoped token keeps the original expiry and joins its
			// audit chain; it carries the original methods too.
			p.ExpiresAt = old.ExpiresAt
			p.AuditIDs = []string{p.AuditIDs[0], old.AuditIDs[len(old.AuditIDs)-1]}
			for _, om := range old.Methods {
				if !slices.Contains(methods, om) {
					methods = append(methods, om)
				}
			}
		case "application_credential":
			if id.ApplicationCredential == nil {
				return "", nil, httpapi.BadRequest("Expecting to find application_credential in identity. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
			}
			ac, err := s.checkAppCred(ctx, id.ApplicationCredential)
			if err != nil {
				return "", nil, err
			}
			if err := sameUser(&p, ac.UserID); err != nil {
				return "", nil, err
			}
			if !scope.isUnscoped() {
				return "", nil, httpapi.Unauthorized("The request you have made requires authentication: application credentials cannot request a scope.")
			}
			p.AppCredID = ac.ID
			p.ProjectID, p.System = ac.ProjectID, ac.System
			if !ac.ExpiresAt.IsZero() && ac.ExpiresAt.Before(p.ExpiresAt) {
				p.ExpiresAt = ac.ExpiresAt
			}
		case "oauth1":
			if err := s.authOAuth1(ctx, &p); err != nil {
				return "", nil, err
			}
		default:
			return "", nil, httpapi.Unauthorized("Attempted to authenticate with an unsupported method.")
		}
	}
	p.Methods = methods
	if p.AppCredID == "" && p.AccessTokenID == "" {
		if err := s.applyScope(ctx, &p, scope); err != nil {
			return "", nil, err
		}
	}
	td, err := s.resolve(ctx, &p, false)
	if err != nil {
		if e, ok := httpapi.AsError(err); ok && e.Status == http.StatusNotFound {
			return "", nil, httpapi.Unauthorized("%s", e.Message)
		}
		return "", nil, err
	}
	if td.Trust != nil && td.Trust.RemainingUses != nil {
		if err := s.consumeTrustUse(ctx, td.Trust.ID); err != nil {
			return "", nil, err
		}
	}
	keys, err := s.fernetKeys()
	if err != nil {
		return "", nil, err
	}
	tok, err := keys.Seal(p)
	if err != nil {
		return "", nil, err
	}
	return tok, td, nil
}

func sameUser(p *token.Payload, uid string) error {
	if p.UserID != "" && p.UserID != uid {
		return httpapi.Unauthorized("The request you have made requires authentication: methods identify different users.")
	}
	p.UserID = uid
	return nil
}

func (sc authScope) isUnscoped() bool {
	return sc.Project == nil && sc.Domain == nil && sc.System == nil && sc.Trust == nil
}

// parseScope reads "scope": absent, the string "unscoped", or an object.
func parseScope(raw json.RawMessage) (authScope, error) {
	var sc authScope
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" || t == `"unscoped"` {
		return sc, nil
	}
	if err := httpapi.DecodeJSON(raw, &sc); err != nil {
		return sc, err
	}
	n := 0
	for _, set := range []bool{sc.Project != nil, sc.Domain != nil, sc.System != nil, sc.Trust != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return sc, httpapi.BadRequest("Specifying more than one scope is not allowed: project, domain, system and OS-TRUST:trust are exclusive.")
	}
	if sc.System != nil {
		if v, ok := sc.System["all"].(bool); !ok || !v {
			return sc, httpapi.BadRequest("Invalid input for field 'scope/system': only {\"all\": true} is a valid system scope.")
		}
	}
	return sc, nil
}

// lookupDomain finds a domain by id or name; any failure is a 401, so an
// attacker learns nothing about which domains exist.
func (s *Service) lookupDomain(ctx context.Context, ref *nameOrID) (*Project, error) {
	if ref == nil || (ref.ID == "" && ref.Name == "") {
		return nil, httpapi.BadRequest("Expecting to find domain id or name. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	var d *Project
	var err error
	if ref.ID != "" {
		d, err = s.project(ctx, ref.ID)
	} else {
		d, err = s.store.GetProjectByName(ctx, "", ref.Name)
	}
	if err != nil || !d.IsDomain {
		if err != nil && !errors.Is(err, errNotFound) {
			return nil, err
		}
		return nil, errAuth
	}
	return d, nil
}

// lookupUser finds a user by id or by name and domain, failing with 401.
func (s *Service) lookupUser(ctx context.Context, ref *nameOrID) (*User, error) {
	if ref.ID != "" {
		u, err := s.user(ctx, ref.ID)
		if errors.Is(err, errNotFound) {
			return nil, errAuth
		}
		return u, err
	}
	if ref.Name == "" {
		return nil, httpapi.BadRequest("Expecting to find user id or name. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	d, err := s.lookupDomain(ctx, ref.Domain)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUserByName(ctx, d.ID, ref.Name)
	if errors.Is(err, errNotFound) {
		return nil, errAuth
	}
	return u, err
}

// dummyHash makes a password check for an unknown user cost as much as
// one for a known user, so timing does not reveal which users exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("kumo-no-such-user"), bcrypt.MinCost)

// checkPassword authenticates the password method and returns the user id.
func (s *Service) checkPassword(ctx context.Context, m *passwordMethod) (string, error) {
	if m.User.Password == nil {
		return "", httpapi.BadRequest("Expecting to find password in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	u, err := s.lookupUser(ctx, &m.User.nameOrID)
	if err != nil {
		if e, ok := httpapi.AsError(err); ok && e.Status == http.StatusUnauthorized {
			_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(*m.User.Password))
		}
		return "", err
	}
	sec := s.cfg.Security
	now := time.Now()
	if sec.LockoutFailureAttempts > 0 && u.FailedAuthCount >= sec.LockoutFailureAttempts && !optionTrue(u.Options, "ignore_lockout_failure_attempts") &&
		(sec.LockoutDuration == 0 || now.Before(u.FailedAuthAt.Add(sec.LockoutDuration))) {
		return "", httpapi.Unauthorized("The account is locked for user: %s.", u.ID)
	}
	pws, err := s.store.Passwords(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if len(pws) == 0 || bcrypt.CompareHashAndPassword([]byte(pws[0].Hash), truncatePassword(*m.User.Password)) != nil {
		if sec.LockoutFailureAttempts > 0 {
			n := u.FailedAuthCount + 1
			if sec.LockoutDuration > 0 && !u.FailedAuthAt.IsZero() && now.After(u.FailedAuthAt.Add(sec.LockoutDuration)) {
				n = 1
			}
			if err := s.store.RecordAuthResult(ctx, u.ID, n, now, time.Time{}); err != nil {
				return "", err
			}
			s.invalidate()
		}
		return "", errAuth
	}
	if !u.Enabled {
		return "", httpapi.Unauthorized("The account is disabled for user: %s.", u.ID)
	}
	if !pws[0].ExpiresAt.IsZero() && now.After(pws[0].ExpiresAt) && !optionTrue(u.Options, "ignore_password_expiry") {
		return "", httpapi.Unauthorized("The password is expired and needs to be changed for user: %s.", u.ID)
	}
	if u.FailedAuthCount > 0 || sec.DisableUserAccountDaysInactive > 0 {
		if err := s.store.RecordAuthResult(ctx, u.ID, 0, time.Time{}, now); err != nil {
			return "", err
		}
		s.invalidate()
	}
	return u.ID, nil
}

// truncatePassword keeps the 72 bytes bcrypt uses; longer passwords are
// accepted and compared on that prefix, as Keystone's passlib does.
func truncatePassword(pw string) []byte {
	b := []byte(pw)
	if len(b) > 72 {
		b = b[:72]
	}
	return b
}

func optionTrue(opts map[string]any, name string) bool {
	v, _ := opts[name].(bool)
	return v
}

// applyScope resolves the requested scope into the payload. With no scope
// the user's default project is used when they have a role on it.
func (s *Service) applyScope(ctx context.Context, p *token.Payload, sc authScope) error {
	switch {
	case sc.Trust != nil:
		if sc.Trust.ID == "" {
			return httpapi.BadRequest("Expecting to find id in OS-TRUST:trust.")
		}
		p.TrustID = sc.Trust.ID
	case sc.System != nil:
		p.System = "all"
	case sc.Domain != nil:
		d, err := s.lookupDomain(ctx, sc.Domain)
		if err != nil {
			return err
		}
		p.DomainID = d.ID
	case sc.Project != nil:
		if sc.Project.ID != "" {
			p.ProjectID = sc.Project.ID
			return nil
		}
		if sc.Project.Name == "" {
			return httpapi.BadRequest("Expecting to find project id or name. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
		}
		d, err := s.lookupDomain(ctx, sc.Project.Domain)
		if err != nil {
			return err
		}
		pr, err := s.store.GetProjectByName(ctx, d.ID, sc.Project.Name)
		if err != nil {
			if errors.Is(err, errNotFound) {
				return errAuth
			}
			return err
		}
		p.ProjectID = pr.ID
	default:
		u, err := s.user(ctx, p.UserID)
		if err != nil {
			return err
		}
		if u.DefaultProjectID != "" {
			if roles, err := s.EffectiveRoles(ctx, u.ID, Scope{ProjectID: u.DefaultProjectID}); err == nil && len(roles) > 0 {
				if pr, err := s.project(ctx, u.DefaultProjectID); err == nil && pr.Enabled && !pr.IsDomain {
					p.ProjectID = pr.ID
				}
			}
		}
	}
	return nil
}

// validate opens and checks a token string: signature, expiry, revocation,
// and that its user, scope, roles, trust or application credential still
// stand. Failures are 404 "Could not find token" as Keystone's.
func (s *Service) validate(ctx context.Context, tok string, allowExpired bool) (*tokenData, error) {
	notFound := httpapi.NotFound("Could not find token: %s.", tok)
	if len(tok) > 8192 {
		return nil, notFound
	}
	keys, err := s.fernetKeys()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	c := s.cacheFor(keys)
	if td, ok := cached(c, c.tokens, tok); ok && now.Before(td.validUntil) {
		return td, nil
	}
	p, err := keys.Open(tok)
	if err != nil {
		return nil, notFound
	}
	if now.After(p.ExpiresAt) && !(allowExpired && now.Before(p.ExpiresAt.Add(s.cfg.AllowExpiredWindow))) {
		return nil, notFound
	}
	td, err := s.resolve(ctx, &p, true)
	if err != nil {
		if e, ok := httpapi.AsError(err); ok && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound) {
			return nil, notFound
		}
		return nil, err
	}
	domains := []string{td.UserDomain.ID}
	if td.ProjectDomain != nil {
		domains = append(domains, td.ProjectDomain.ID)
	}
	if s.revoked.isRevoked(&p, domains...) {
		return nil, notFound
	}
	td.computeValidUntil()
	if now.Before(td.validUntil) {
		c.mu.Lock()
		if len(c.tokens) < maxCachedTokens {
			c.tokens[tok] = td
		}
		c.mu.Unlock()
	}
	return td, nil
}

// resolve loads what a payload refers to and checks it is all still valid:
// the user and its domain enabled, the scope target enabled, the user holding
// at least one role there (through a trust or application credential when
// the token says so). validating relaxes nothing; it only words errors.
func (s *Service) resolve(ctx context.Context, p *token.Payload, validating bool) (*tokenData, error) {
	td := &tokenData{Payload: *p}
	var err error
	if td.User, err = s.user(ctx, p.UserID); err != nil {
		if errors.Is(err, errNotFound) {
			return nil, errAuth
		}
		return nil, err
	}
	if !td.User.Enabled {
		return nil, httpapi.Unauthorized("The account is disabled for user: %s.", td.User.ID)
	}
	if td.UserDomain, err = s.enabledDomain(ctx, td.User.DomainID); err != nil {
		return nil, err
	}
	roleUser := td.User.ID
	if p.TrustID != "" {
		if err := s.resolveTrust(ctx, td); err != nil {
			return nil, err
		}
		roleUser = td.Trust.TrustorUserID
		p.ProjectID = td.Trust.ProjectID
		td.ProjectID = p.ProjectID
	}
	switch {
	case p.ProjectID != "":
		pr, err := s.project(ctx, p.ProjectID)
		if err != nil || pr.IsDomain {
			if err != nil && !errors.Is(err, errNotFound) {
				return nil, err
			}
			return nil, httpapi.Unauthorized("Could not find project: %s.", p.ProjectID)
		}
		if !pr.Enabled {
			return nil, httpapi.Unauthorized("Project %s is disabled.", pr.ID)
		}
		if td.ProjectDomain, err = s.enabledDomain(ctx, pr.DomainID); err != nil {
			return nil, err
		}
		td.Project = pr
	case p.DomainID != "":
		if td.Domain, err = s.enabledDomain(ctx, p.DomainID); err != nil {
			return nil, err
		}
	}
	if !(p.ProjectID != "" || p.DomainID != "" || p.System != "") {
		return td, nil
	}
	roles, err := s.EffectiveRoles(ctx, roleUser, Scope{ProjectID: p.ProjectID, DomainID: p.DomainID, System: p.System})
	if err != nil {
		return nil, err
	}
	switch {
	case td.Trust != nil:
		if roles, err = s.trustRoles(ctx, td.Trust); err != nil {
			return nil, err
		}
	case p.AppCredID != "":
		if td.AppCred, err = s.resolveAppCred(ctx, p.AppCredID); err != nil {
			return nil, err
		}
		if roles, err = s.filterRoles(ctx, roles, td.AppCred.RoleIDs); err != nil {
			return nil, err
		}
	case p.AccessTokenID != "":
		if err := s.resolveAccessToken(ctx, td); err != nil {
			return nil, err
		}
		if roles, err = s.filterRoles(ctx, roles, td.AccessToken.RoleIDs); err != nil {
			return nil, err
		}
	}
	if len(roles) == 0 {
		target := p.ProjectID + p.DomainID
		if p.System != "" {
			target = "the system"
		}
		return nil, httpapi.Unauthorized("User %s has no access to %s.", td.User.ID, target)
	}
	td.Roles = roles
	return td, nil
}

// fernetKeys returns the current key set. When a re-read of the key
// directory failed (say, a broken file appeared) it keeps serving with the
// last set that loaded, and says so in the log.
func (s *Service) fernetKeys() (*token.Keys, error) {
	keys, err := s.keys.Keys()
	if err != nil && keys != nil {
		s.log.Error("fernet key directory unreadable; using the last good key set", "err", err)
		return keys, nil
	}
	return keys, err
}

// filterRoles keeps the roles of have that are in want or implied by a role
// in want: a trust or application credential delegates a subset of roles.
func (s *Service) filterRoles(ctx context.Context, have []*Role, want []string) ([]*Role, error) {
	roles, implied, err := s.roleTable(ctx)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for _, r := range expandRoles(want, roles, implied) {
		allowed[r.ID] = true
	}
	var out []*Role
	for _, r := range have {
		if allowed[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Service) enabledDomain(ctx context.Context, id string) (*Project, error) {
	d, err := s.project(ctx, id)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, httpapi.Unauthorized("Could not find domain: %s.", id)
		}
		return nil, err
	}
	if !d.Enabled {
		return nil, httpapi.Unauthorized("Domain %s is disabled.", id)
	}
	return d, nil
}

// ValidateToken implements authn.Validator for every kumo service: it runs
// in-process, with no HTTP round trip.
func (s *Service) ValidateToken(ctx context.Context, tok string) (*authn.Token, error) {
	td, err := s.validate(ctx, tok, false)
	if err != nil {
		if _, ok := httpapi.AsError(err); ok {
			return nil, httpapi.Unauthorized("The request you have made requires authentication.")
		}
		return nil, err
	}
	return td.authnToken(tok), nil
}

func (td *tokenData) authnToken(tok string) *authn.Token {
	td.callerOnce.Do(func() { td.caller = td.buildAuthnToken(tok) })
	return td.caller
}

func (td *tokenData) buildAuthnToken(tok string) *authn.Token {
	t := &authn.Token{
		ID: tok, UserID: td.User.ID, UserName: td.User.Name, UserDomainID: td.UserDomain.ID, UserDomainName: td.UserDomain.Name,
		System: td.System, Methods: td.Methods, AuditIDs: td.AuditIDs, TrustID: td.TrustID, AppCredID: td.AppCredID,
		IsAdminProject: true, IssuedAt: td.IssuedAt, ExpiresAt: td.ExpiresAt,
	}
	if td.Project != nil {
		t.ProjectID, t.ProjectName = td.Project.ID, td.Project.Name
		t.ProjectDomainID, t.ProjectDomainName = td.ProjectDomain.ID, td.ProjectDomain.Name
	}
	if td.Domain != nil {
		t.DomainID, t.DomainName = td.Domain.ID, td.Domain.Name
	}
	if td.Trust != nil {
		t.TrustorUserID, t.TrusteeUserID = td.Trust.TrustorUserID, td.Trust.TrusteeUserID
	}
	for _, r := range td.Roles {
		t.Roles = append(t.Roles, strings.ToLower(r.Name))
		t.RoleIDs = append(t.RoleIDs, r.ID)
	}
	return t
}
