package authn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"kumo/internal/platform/httpapi"
)

// tokenTable is a test Validator: a fixed map of valid tokens.
type tokenTable map[string]*Token

func (m tokenTable) ValidateToken(_ context.Context, tok string) (*Token, error) {
	if t, ok := m[tok]; ok {
		return t, nil
	}
	if tok == "backend-down" {
		return nil, errors.New("database is gone")
	}
	return nil, httpapi.NotFound("Could not find token")
}

func TestMiddleware(t *testing.T) {
	valid := &Token{UserID: "u1", ProjectID: "p1", Roles: []string{"member", "reader"}}
	var seen *Token
	h := Middleware(tokenTable{"good": valid}, "http://id/v3", func(w http.ResponseWriter, _ *http.Request, e *httpapi.Error) {
		httpapi.WriteJSON(w, e.Status, map[string]any{"code": e.Status})
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = FromContext(r.Context())
		w.WriteHeader(204)
	}))
	for _, c := range []struct {
		token  string
		status int
		user   string
	}{{"", 204, ""}, {"good", 204, "u1"}, {"bad", 401, ""}, {"backend-down", 500, ""}} {
		seen = nil
		r := httptest.NewRequest("GET", "/", nil)
		if c.token != "" {
			r.Header.Set("X-Auth-Token", c.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status {
			t.Errorf("%q: status %d, want %d", c.token, w.Code, c.status)
		}
		if c.status == 401 && w.Header().Get("WWW-Authenticate") != `Keystone uri="http://id/v3"` {
			t.Errorf("401 without WWW-Authenticate: %v", w.Header())
		}
		if got := ""; seen != nil {
			got = seen.UserID
			if got != c.user {
				t.Errorf("%q: caller %q, want %q", c.token, got, c.user)
			}
		}
	}
}

func TestPolicyCredentials(t *testing.T) {
	tok := &Token{UserID: "u", ProjectID: "p", ProjectDomainID: "d", Roles: []string{"admin"}}
	c := tok.PolicyCredentials()
	if c["project_id"] != "p" || c["domain_id"] != nil || c["system_scope"] != nil {
		t.Fatalf("absent scopes must be nil (oslo's None), not \"\": %v", c)
	}
	if !tok.HasRole("ADMIN") || tok.HasRole("reader") {
		t.Fatal("HasRole must be case-insensitive and exact")
	}
	if c["token"].(map[string]any)["project"].(map[string]any)["domain"].(map[string]any)["id"] != "d" {
		t.Fatalf("token.project.domain.id: %v", c["token"])
	}
}
