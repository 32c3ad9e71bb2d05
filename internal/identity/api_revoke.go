package identity

import (
	"net/http"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// revokeRoutes is OS-REVOKE: the revocation events a token validator that
// caches tokens must apply.
var revokeRoutes = []route{
	{pattern: "GET /v3/OS-REVOKE/events", action: "identity:list_revoke_events", handle: listRevokeEvents},
}

// revokeEventJSON renders an event as Keystone does: only the fields that
// are set, the delegation ids under their extension names.
func revokeEventJSON(e RevocationEvent) map[string]any {
	out := map[string]any{"issued_before": isoTime(e.IssuedBefore), "revoked_at": isoTime(e.RevokedAt)}
	for k, v := range map[string]string{
		"user_id": e.UserID, "role_id": e.RoleID, "domain_id": e.DomainID, "project_id": e.ProjectID,
		"audit_id": e.AuditID, "audit_chain_id": e.AuditChainID, "OS-TRUST:trust_id": e.TrustID,
		"OS-OAUTH1:consumer_id": e.ConsumerID, "OS-OAUTH1:access_token_id": e.AccessTokenID,
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func listRevokeEvents(c *call) error {
	var since time.Time
	if v := c.query("since"); v != "" {
		t, ok := parseISOTime(v)
		if !ok {
			return httpapi.BadRequest("invalidate date format %s", v)
		}
		since = t
	}
	out := []any{}
	for _, e := range c.s.revoked.Events(since) {
		out = append(out, revokeEventJSON(e))
	}
	return c.json(http.StatusOK, map[string]any{"events": out,
		"links": map[string]any{"self": c.base() + "/v3/OS-REVOKE/events", "previous": nil, "next": nil}})
}

// parseISOTime reads an ISO 8601 time as oslo's parse_isotime accepts it
// from clients: with or without fractional seconds, a zone ("Z" or an
// offset) or none (UTC), or a bare date.
func parseISOTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
