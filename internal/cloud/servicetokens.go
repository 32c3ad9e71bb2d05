package cloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"kumo/internal/platform/authn"
)

// serviceTokens lets one kumo service call another's public API on behalf
// of a project, as Nova calls Glance with the user's token. The user's
// token may expire long before an asynchronous build or a snapshot upload
// ends, so kumo mints its own: random, held only in this process's memory,
// scoped to one project with the member role, valid for an hour. Every
// other token goes to the identity service.
type serviceTokens struct {
	next authn.Validator

	mu     sync.Mutex
	byTok  map[string]*authn.Token
	byProj map[string]*authn.Token
	now    func() time.Time
}

const (
	serviceTokenPrefix = "kumo-svc-"
	serviceTokenTTL    = time.Hour
	serviceUserID      = "kumo-compute" // shows up as the actor in access logs
)

func newServiceTokens(next authn.Validator) *serviceTokens {
	return &serviceTokens{next: next, byTok: map[string]*authn.Token{}, byProj: map[string]*authn.Token{},
		now: time.Now}
}

// ValidateToken implements authn.Validator.
func (s *serviceTokens) ValidateToken(ctx context.Context, tok string) (*authn.Token, error) {
	if strings.HasPrefix(tok, serviceTokenPrefix) {
		s.mu.Lock()
		t, ok := s.byTok[tok]
		s.mu.Unlock()
		if ok && s.now().Before(t.ExpiresAt) {
			return t, nil
		}
	}
	return s.next.ValidateToken(ctx, tok)
}

// For returns a token acting for projectID, reusing one with at least
// half its life left.
func (s *serviceTokens) For(projectID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if t, ok := s.byProj[projectID]; ok && now.Add(serviceTokenTTL/2).Before(t.ExpiresAt) {
		return t.ID
	}
	for id, t := range s.byTok { // drop expired ones
		if !now.Before(t.ExpiresAt) {
			delete(s.byTok, id)
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	t := &authn.Token{ID: serviceTokenPrefix + hex.EncodeToString(raw), UserID: serviceUserID, UserName: serviceUserID,
		ProjectID: projectID, Roles: []string{"member", "reader"}, Methods: []string{"token"},
		IssuedAt: now, ExpiresAt: now.Add(serviceTokenTTL)}
	s.byTok[t.ID], s.byProj[projectID] = t, t
	return t.ID
}
