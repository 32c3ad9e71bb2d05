package identity

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kumo/internal/platform/httpapi"
)

// resolveTrust loads and checks the trust of a trust-scoped token: it must
// exist, be neither deleted nor expired, belong to the token's user (the
// trustee, or the trustor when impersonating), and its trustor be enabled.
func (s *Service) resolveTrust(ctx context.Context, td *tokenData) error {
	t, err := s.store.GetTrust(ctx, td.TrustID)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.Unauthorized("Could not find trust: %s.", td.TrustID)
		}
		return err
	}
	if !t.DeletedAt.IsZero() || (!t.ExpiresAt.IsZero() && time.Now().After(t.ExpiresAt)) {
		return httpapi.Unauthorized("Could not find trust: %s.", t.ID)
	}
	holder := t.TrusteeUserID
	if t.Impersonation {
		holder = t.TrustorUserID
	}
	if td.User.ID != holder && td.User.ID != t.TrusteeUserID {
		return httpapi.Forbidden("You are not authorized to perform the requested action: the user is not the trustee.")
	}
	trustor, err := s.user(ctx, t.TrustorUserID)
	if err != nil || !trustor.Enabled {
		return httpapi.Forbidden("You are not authorized to perform the requested action: the trustor is disabled or gone.")
	}
	if t.Impersonation && td.User.ID != t.TrustorUserID {
		// The token acts as the trustor when the trust allows impersonation.
		td.User, td.UserID = trustor, trustor.ID
		if td.UserDomain, err = s.enabledDomain(ctx, trustor.DomainID); err != nil {
			return err
		}
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
	s.invalidate()
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
