package identity

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kumo/internal/platform/httpapi"
)

// resolveTrust loads and checks the trust of a trust-scoped token: it must
// exist, be neither deleted nor expired, name the token's user as trustee,
// delegate roles on a project, and its trustor (with the trustor's domain)
// and every trust it redelegates must still stand. With impersonation the
// token then acts as the trustor.
func (s *Service) resolveTrust(ctx context.Context, td *tokenData) error {
	t, err := s.liveTrust(ctx, td.TrustID)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.Unauthorized("Could not find trust: %s.", td.TrustID)
		}
		return err
	}
	if td.User.ID != t.TrusteeUserID {
		return httpapi.Forbidden("You are not authorized to perform the requested action: User is not a trustee.")
	}
	if t.ProjectID == "" {
		return httpapi.Unauthorized("Trust %s delegates no roles on a project, so it cannot scope a token.", t.ID)
	}
	trustor, err := s.user(ctx, t.TrustorUserID)
	if err != nil || !trustor.Enabled {
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		return httpapi.Forbidden("You are not authorized to perform the requested action: Trustor is disabled.")
	}
	trustorDomain, err := s.enabledDomain(ctx, trustor.DomainID)
	if err != nil {
		return err
	}
	if t.Impersonation {
		// The token acts as the trustor when the trust allows impersonation.
		td.User, td.UserID, td.UserDomain = trustor, trustor.ID, trustorDomain
	}
	td.Trust = t
	return nil
}

// consumeTrustUse spends one use of a trust with limited uses.
func (s *Service) consumeTrustUse(ctx context.Context, id string) error {
	if err := s.store.ConsumeTrustUse(ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.Unauthorized("The trust has no remaining uses.")
		}
		return err
	}
	return nil
}

// checkAppCred authenticates the application_credential method.
func (s *Service) checkAppCred(ctx context.Context, m *appCredMethod) (*AppCred, error) {
	var ac *AppCred
	var err error
	switch {
	case m.ID != "":
		ac, err = s.store.GetAppCred(ctx, m.ID)
	case m.Name != "" && m.User != nil:
		var u *User
		if u, err = s.lookupUser(ctx, m.User); err != nil {
			return nil, err
		}
		ac, err = s.store.GetAppCredByName(ctx, u.ID, m.Name)
	default:
		return nil, httpapi.BadRequest("Expecting to find application credential id, or name and user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	if err != nil {
		if errors.Is(err, errNotFound) {
			_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(m.Secret))
			return nil, errAuth
		}
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(ac.SecretHash), truncatePassword(m.Secret)) != nil {
		return nil, errAuth
	}
	if !ac.ExpiresAt.IsZero() && time.Now().After(ac.ExpiresAt) {
		return nil, httpapi.Unauthorized("Application credential %s has expired.", ac.ID)
	}
	return ac, nil
}

// resolveAppCred re-checks the application credential of a token.
func (s *Service) resolveAppCred(ctx context.Context, id string) (*AppCred, error) {
	ac, err := s.store.GetAppCred(ctx, id)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return nil, httpapi.Unauthorized("Could not find application credential: %s.", id)
		}
		return nil, err
	}
	if !ac.ExpiresAt.IsZero() && time.Now().After(ac.ExpiresAt) {
		return nil, httpapi.Unauthorized("Application credential %s has expired.", id)
	}
	return ac, nil
}
