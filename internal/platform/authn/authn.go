// Package authn is the token-validation middleware every kumo service uses.
// In `kumo up` the validator is the identity service itself, called in
// process (no HTTP round trip); a service on another host would use a client
// of the identity API behind the same interface.
package authn

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"kumo/internal/platform/httpapi"
)

// Token is what a validated token says about its bearer.
type Token struct {
	ID                string // the token string itself
	UserID            string
	UserName          string
	UserDomainID      string
	UserDomainName    string
	ProjectID         string
	ProjectName       string
	ProjectDomainID   string
	ProjectDomainName string
	DomainID          string // domain scope
	DomainName        string
	System            string   // "all" when system scoped
	Roles             []string // effective role names, lower case
	RoleIDs           []string
	Methods           []string
	AuditIDs          []string
	TrustID           string
	TrustorUserID     string
	TrusteeUserID     string
	AppCredID         string
	IsAdminProject    bool
	IssuedAt          time.Time
	ExpiresAt         time.Time

	credsOnce sync.Once
	creds     map[string]any
}

// HasRole reports whether the token carries role (case-insensitive).
func (t *Token) HasRole(role string) bool {
	return slices.ContainsFunc(t.Roles, func(r string) bool { return strings.EqualFold(r, role) })
}

// Scoped reports whether the token has any scope.
func (t *Token) Scoped() bool { return t.ProjectID != "" || t.DomainID != "" || t.System != "" }

// PolicyCredentials returns the credential attributes oslo.policy rules
// test. It is built once per Token and must be treated as read-only.
func (t *Token) PolicyCredentials() map[string]any {
	t.credsOnce.Do(func() { t.creds = t.buildCredentials() })
	return t.creds
}

func (t *Token) buildCredentials() map[string]any {
	c := map[string]any{
		"user_id":                   t.UserID,
		"user_domain_id":            t.UserDomainID,
		"project_id":                t.ProjectID,
		"project_domain_id":         t.ProjectDomainID,
		"domain_id":                 t.DomainID,
		"system_scope":              t.System,
		"roles":                     t.Roles,
		"is_admin_project":          t.IsAdminProject,
		"trust_id":                  t.TrustID,
		"application_credential_id": t.AppCredID,
	}
	// An absent scope is None in oslo, never "": "" would equal an empty
	// target attribute.
	for k, v := range c {
		if v == "" {
			c[k] = nil
		}
	}
	// Keystone also exposes the token itself to rules ("token.domain.id",
	// "token.project.domain.id").
	tok := map[string]any{"user": map[string]any{"id": t.UserID, "domain": map[string]any{"id": t.UserDomainID}}}
	if t.ProjectID != "" {
		tok["project"] = map[string]any{"id": t.ProjectID, "domain": map[string]any{"id": t.ProjectDomainID}}
	}
	if t.DomainID != "" {
		tok["domain"] = map[string]any{"id": t.DomainID}
	}
	c["token"] = tok
	if t.TrustID != "" {
		c["trustor_id"] = t.TrustorUserID
		c["trustee_id"] = t.TrusteeUserID
	}
	return c
}

// Validator checks a token string and says who holds it. It returns an
// *httpapi.Error (401 or 404) for invalid tokens.
type Validator interface {
	ValidateToken(ctx context.Context, token string) (*Token, error)
}

type ctxKey struct{}

// FromContext returns the caller's validated token, or nil.
func FromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(ctxKey{}).(*Token)
	return t
}

// WithToken returns ctx carrying t.
func WithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// Middleware validates X-Auth-Token on every request. Without a token the
// request passes unauthenticated (handlers that need a caller answer 401);
// with an invalid one it gets 401 in the service's error format, with the
// WWW-Authenticate header pointing at identityURL.
func Middleware(v Validator, identityURL string, render httpapi.Renderer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw := r.Header.Get("X-Auth-Token")
			if raw == "" {
				next.ServeHTTP(w, r)
				return
			}
			tok, err := v.ValidateToken(r.Context(), raw)
			if err != nil {
				e, ok := httpapi.AsError(err)
				if !ok {
					// The validator failed (a database error): not the
					// client's fault, so not a 401 that makes it re-login.
					render(w, r, httpapi.Errorf(http.StatusInternalServerError, "An unexpected error prevented the server from fulfilling your request."))
					return
				}
				if e.Status == http.StatusNotFound {
					e = httpapi.Unauthorized("The request you have made requires authentication.")
				}
				w.Header().Set("WWW-Authenticate", `Keystone uri="`+identityURL+`"`)
				render(w, r, e)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithToken(r.Context(), tok)))
		})
	}
}
