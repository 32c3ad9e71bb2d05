package identity

import (
	"context"
	"net/http"
	"testing"

	"kumo/internal/platform/httpapi"
)

// FuzzIssue feeds arbitrary bodies to POST /v3/auth/tokens' decoder and
// authenticator. Whatever the input, the answer is a token or a Keystone
// error of status 400, 401, 403 or 404 — never a panic or a 500.
func FuzzIssue(f *testing.F) {
	for _, seed := range []string{
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "admin-secret"}}}}}`,
		`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "x", "password": "y"}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}`,
		`{"auth": {"identity": {"methods": ["token"], "token": {"id": "gAAAAAB"}}, "scope": "unscoped"}}`,
		`{"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "a", "secret": "b"}}}}`,
		`{"auth": {"identity": {"methods": ["password"]}, "scope": {"system": {"all": true}}}}`,
		`{"auth": {"identity": {"methods": ["password", "token"]}, "scope": {"OS-TRUST:trust": {"id": "t"}}}}`,
		`{"auth": {"scope": {"domain": {"id": 5}}}}`, `[]`, `null`, `{"auth": null}`, `"x"`, ``,
	} {
		f.Add([]byte(seed))
	}
	tc := newTestCloud(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, err := tc.svc.Issue(context.Background(), body)
		if err == nil {
			return
		}
		e, ok := httpapi.AsError(err)
		if !ok {
			t.Fatalf("internal error for %q: %v", body, err)
		}
		switch e.Status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		default:
			t.Fatalf("status %d for %q", e.Status, body)
		}
	})
}
