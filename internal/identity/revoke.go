package identity

import (
	"context"
	"slices"
	"sync"
	"time"

	"kumo/internal/identity/token"
)

// RevocationEvent is Keystone's revocation event: a token issued at or
// before IssuedBefore that matches every non-empty field is revoked. Role
// and consumer fields are recorded for the OS-REVOKE listing only: kumo
// recomputes a token's roles at every validation, so a removed role
// assignment takes effect without an event.
type RevocationEvent struct {
	ID            int64
	DomainID      string
	ProjectID     string
	UserID        string
	RoleID        string
	TrustID       string
	ConsumerID    string
	AccessTokenID string
	AuditID       string
	AuditChainID  string
	IssuedBefore  time.Time
	RevokedAt     time.Time
}

// revocations is the in-memory list of revocation events younger than the
// longest a token can live; every validation consults it.
type revocations struct {
	mu     sync.RWMutex
	events []RevocationEvent
	keep   time.Duration
}

func loadRevocations(ctx context.Context, st *Store, keep time.Duration) (*revocations, error) {
	cut := time.Now().Add(-keep)
	if _, err := st.db.W.ExecContext(ctx, `DELETE FROM revocation_events WHERE issued_before < ?`, micros(cut)); err != nil {
		return nil, wrap("load revocations", err)
	}
	rows, err := st.db.R.QueryContext(ctx, `SELECT id, COALESCE(domain_id, ''), COALESCE(project_id, ''), COALESCE(user_id, ''),
		COALESCE(role_id, ''), COALESCE(trust_id, ''), COALESCE(consumer_id, ''), COALESCE(access_token_id, ''),
		COALESCE(audit_id, ''), COALESCE(audit_chain_id, ''), issued_before, revoked_at FROM revocation_events ORDER BY id`)
	if err != nil {
		return nil, wrap("load revocations", err)
	}
	defer rows.Close()
	r := &revocations{keep: keep}
	for rows.Next() {
		var e RevocationEvent
		var ib, ra int64
		if err := rows.Scan(&e.ID, &e.DomainID, &e.ProjectID, &e.UserID, &e.RoleID, &e.TrustID, &e.ConsumerID,
			&e.AccessTokenID, &e.AuditID, &e.AuditChainID, &ib, &ra); err != nil {
			return nil, wrap("load revocations", err)
		}
		e.IssuedBefore, e.RevokedAt = fromMicros(ib), fromMicros(ra)
		r.events = append(r.events, e)
	}
	return r, wrap("load revocations", rows.Err())
}

// Revoke records e durably and then in memory.
func (s *Service) Revoke(ctx context.Context, e RevocationEvent) error {
	if e.IssuedBefore.IsZero() {
		e.IssuedBefore = time.Now()
	}
	e.RevokedAt = time.Now()
	res, err := s.store.db.W.ExecContext(ctx, `INSERT INTO revocation_events (domain_id, project_id, user_id, role_id, trust_id,
		consumer_id, access_token_id, audit_id, audit_chain_id, issued_before, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullStr(e.DomainID), nullStr(e.ProjectID), nullStr(e.UserID), nullStr(e.RoleID), nullStr(e.TrustID), nullStr(e.ConsumerID),
		nullStr(e.AccessTokenID), nullStr(e.AuditID), nullStr(e.AuditChainID), micros(e.IssuedBefore), micros(e.RevokedAt))
	if err != nil {
		return wrap("revoke", err)
	}
	e.ID, _ = res.LastInsertId()
	r := s.revoked
	r.mu.Lock()
	defer r.mu.Unlock()
	cut := time.Now().Add(-r.keep)
	kept := r.events[:0]
	for _, old := range r.events {
		if old.IssuedBefore.After(cut) {
			kept = append(kept, old)
		}
	}
	r.events = append(kept, e)
	s.invalidate() // cached validations predate the event
	return nil
}

// isRevoked reports whether any event revokes the token with payload p.
// domains are the domains the token belongs to besides its domain scope
// (its user's and its project's): a domain event revokes those too.
func (r *revocations) isRevoked(p *token.Payload, domains ...string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i := range r.events {
		if r.events[i].matches(p, domains) {
			return true
		}
	}
	return false
}

func (e *RevocationEvent) matches(p *token.Payload, domains []string) bool {
	if p.IssuedAt.After(e.IssuedBefore) {
		return false
	}
	eq := func(want, got string) bool { return want == "" || want == got }
	// The audit chain id is the last audit id: the original token's for a
	// rescoped token, the token's own otherwise.
	own, chain := "", ""
	if n := len(p.AuditIDs); n > 0 {
		own, chain = p.AuditIDs[0], p.AuditIDs[n-1]
	}
	domainMatch := e.DomainID == "" || e.DomainID == p.DomainID || slices.Contains(domains, e.DomainID)
	return domainMatch && eq(e.UserID, p.UserID) && eq(e.ProjectID, p.ProjectID) &&
		eq(e.TrustID, p.TrustID) && eq(e.AccessTokenID, p.AccessTokenID) && eq(e.AuditID, own) &&
		eq(e.AuditChainID, chain)
}

// Events returns the current revocation events (OS-REVOKE listing).
func (r *revocations) Events(since time.Time) []RevocationEvent {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []RevocationEvent
	for _, e := range r.events {
		if e.RevokedAt.After(since) {
			out = append(out, e)
		}
	}
	return out
}
