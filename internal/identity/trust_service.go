package identity

import (
	"context"
	"errors"
	"slices"
	"time"

	"kumo/internal/platform/httpapi"
)

// maxRedelegationCount is Keystone's [trust] max_redelegation_count: how
// many times a trust may be redelegated down a chain.
const maxRedelegationCount = 3

// trustUsable reports whether a stored trust can still be used: not
// deleted, not expired and not out of uses. Keystone hides the others:
// reading them is a 404 and scoping a token to them a 401.
func trustUsable(t *Trust, now time.Time) bool {
	return t.DeletedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt)) &&
		(t.RemainingUses == nil || *t.RemainingUses > 0)
}

// liveTrust returns a trust that is neither deleted nor expired. Out of
// uses is allowed: tokens issued by its last use stay valid.
func (s *Service) liveTrust(ctx context.Context, id string) (*Trust, error) {
	t, err := s.store.GetTrust(ctx, id)
	if err != nil {
		return nil, err
	}
	if !t.DeletedAt.IsZero() || (!t.ExpiresAt.IsZero() && !time.Now().Before(t.ExpiresAt)) {
		return nil, errNotFound
	}
	return t, nil
}

// usableTrust returns a trust as the OS-TRUST API shows it, or Keystone's
// 404 when it is deleted, expired or used up.
func (s *Service) usableTrust(ctx context.Context, id string) (*Trust, error) {
	t, err := s.store.GetTrust(ctx, id)
	if err == nil && !trustUsable(t, time.Now()) {
		err = errNotFound
	}
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Could not find trust: %s.", id)
	}
	return t, err
}

// trustDraft is a create request after decoding: the trust to store and the
// redelegation fields that only steer how it is stored.
type trustDraft struct {
	*Trust
	AllowRedelegation bool
	RequestedCount    *int // redelegation_count as sent; nil when absent or null
}

// createTrust applies Keystone's rules to a new trust and stores it. parent
// is the trust the caller's token is scoped to, when the new trust
// redelegates it. The roles must be held by the trustor on the project.
func (s *Service) createTrust(ctx context.Context, d trustDraft, parent *Trust) error {
	t := d.Trust
	if t.ProjectID != "" && len(t.RoleIDs) == 0 {
		return httpapi.Forbidden("You are not authorized to perform the requested action: At least one role should be specified.")
	}
	if _, err := s.user(ctx, t.TrusteeUserID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Could not find user: %s.", t.TrusteeUserID)
		}
		return err
	}
	if err := s.requireTrustorRoles(ctx, t); err != nil {
		return err
	}
	redelegatable := d.AllowRedelegation && (d.RequestedCount == nil || *d.RequestedCount != 0)
	var count *int
	if !redelegatable {
		zero := 0
		count = &zero
	} else {
		if d.RequestedCount != nil && *d.RequestedCount > maxRedelegationCount {
			return httpapi.Forbidden("Requested redelegation depth of %d is greater than allowed %d.", *d.RequestedCount, maxRedelegationCount)
		}
		if t.RemainingUses != nil {
			return httpapi.BadRequest("remaining_uses must not be set if redelegation is allowed.")
		}
		count = d.RequestedCount
	}
	if parent != nil {
		t.RedelegatedTrustID = parent.ID
		remaining := 0
		if parent.RedelegationCount != nil {
			remaining = *parent.RedelegationCount - 1
		}
		if redelegatable && d.RequestedCount != nil && *d.RequestedCount != remaining {
			return httpapi.Forbidden(`Modifying "redelegation_count" upon redelegation is forbidden. Omitting this parameter is advised.`)
		}
		if count == nil {
			count = &remaining
		}
		chain, err := s.trustPedigree(ctx, parent)
		if err != nil {
			return err
		}
		for _, anc := range chain {
			if err := checkRedelegation(anc, t); err != nil {
				return err
			}
			if t.ExpiresAt.IsZero() {
				t.ExpiresAt = anc.ExpiresAt
			}
		}
	}
	if count == nil {
		n := maxRedelegationCount
		count = &n
	}
	t.RedelegationCount = count
	return s.store.CreateTrust(ctx, t)
}

// requireTrustorRoles checks that the trustor holds every role of the trust
// on its project (Keystone answers 404 for a role the trustor lacks).
func (s *Service) requireTrustorRoles(ctx context.Context, t *Trust) error {
	if len(t.RoleIDs) == 0 {
		return nil
	}
	if t.ProjectID == "" {
		return httpapi.NotFound("Could not find role: %s.", t.RoleIDs[0])
	}
	if _, err := s.loadProject(ctx, t.ProjectID); err != nil {
		return err
	}
	held, err := s.heldRoleIDs(ctx, t.TrustorUserID, t.ProjectID)
	if err != nil {
		return err
	}
	for _, id := range t.RoleIDs {
		if !held[id] {
			return httpapi.NotFound("Could not find role: %s.", id)
		}
	}
	return nil
}

// heldRoleIDs returns every role userID effectively holds on a project:
// direct, group and inherited grants with the roles they imply, including
// domain-specific roles (which tokens never show but trusts may delegate).
func (s *Service) heldRoleIDs(ctx context.Context, userID, projectID string) (map[string]bool, error) {
	ids, err := s.directRoleIDs(ctx, userID, Scope{ProjectID: projectID})
	if errors.Is(err, errNotFound) {
		ids, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, implied, err := s.roleTable(ctx)
	if err != nil {
		return nil, err
	}
	return impliedClosure(ids, implied), nil
}

// checkRedelegation applies Keystone's rules for child redelegating parent:
// parent still has redelegation depth, child has no use limit, does not
// outlive parent, delegates a subset of its roles, and impersonates only if
// parent does.
func checkRedelegation(parent, child *Trust) error {
	depth := 0
	if parent.RedelegationCount != nil {
		depth = *parent.RedelegationCount
	}
	if depth <= 0 || depth > maxRedelegationCount {
		return httpapi.Forbidden("Remaining redelegation depth of %d out of allowed range of [0..%d].", depth, maxRedelegationCount)
	}
	if child.RemainingUses != nil {
		return httpapi.Forbidden(`Field "remaining_uses" is set to %d while it must not be set in order to redelegate a trust.`, *child.RemainingUses)
	}
	if !child.ExpiresAt.IsZero() && !parent.ExpiresAt.IsZero() && parent.ExpiresAt.Before(child.ExpiresAt) {
		return httpapi.Forbidden("Requested expiration time is more than redelegated trust can provide.")
	}
	for _, r := range child.RoleIDs {
		if !slices.Contains(parent.RoleIDs, r) {
			return httpapi.Forbidden("Some of requested roles are not in redelegated trust.")
		}
	}
	if !parent.Impersonation && child.Impersonation {
		return httpapi.Forbidden("Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: %s.", parent.ID)
	}
	return nil
}

// trustPedigree returns t and the trusts it redelegates, nearest first,
// ending with the original trust. Every ancestor must be live, and the
// chain is at most maxRedelegationCount+1 long.
func (s *Service) trustPedigree(ctx context.Context, t *Trust) ([]*Trust, error) {
	chain := []*Trust{t}
	for cur := t; cur.RedelegatedTrustID != ""; {
		if len(chain) > maxRedelegationCount+1 {
			return nil, httpapi.Forbidden("The trust chain is longer than allowed.")
		}
		next, err := s.liveTrust(ctx, cur.RedelegatedTrustID)
		if err != nil {
			if errors.Is(err, errNotFound) {
				return nil, httpapi.Forbidden("A trust of the redelegation chain (%s) is deleted or expired.", cur.RedelegatedTrustID)
			}
			return nil, err
		}
		chain = append(chain, next)
		cur = next
	}
	return chain, nil
}

// checkTrustChain re-validates the redelegation chain above t, as Keystone
// does whenever it loads a redelegated trust: every link must still obey
// the redelegation rules and every intermediate trustee be enabled. It
// returns the original trust.
func (s *Service) checkTrustChain(ctx context.Context, t *Trust) (*Trust, error) {
	chain, err := s.trustPedigree(ctx, t)
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(chain); i++ {
		if err := checkRedelegation(chain[i], chain[i-1]); err != nil {
			return nil, err
		}
		u, err := s.user(ctx, chain[i].TrusteeUserID)
		if err != nil || !u.Enabled {
			if err != nil && !errors.Is(err, errNotFound) {
				return nil, err
			}
			return nil, httpapi.Forbidden("One of the trust agents is disabled or deleted.")
		}
	}
	return chain[len(chain)-1], nil
}

// trustRoles returns the roles a token scoped to t carries: the trust's
// roles and the roles they imply, global ones only. As in Keystone, the
// trust is void as soon as the original trustor lacks any of them.
func (s *Service) trustRoles(ctx context.Context, t *Trust) ([]*Role, error) {
	orig, err := s.checkTrustChain(ctx, t)
	if err != nil {
		return nil, err
	}
	all, implied, err := s.roleTable(ctx)
	if err != nil {
		return nil, err
	}
	have, err := s.EffectiveRoles(ctx, orig.TrustorUserID, Scope{ProjectID: t.ProjectID})
	if err != nil {
		return nil, err
	}
	global := map[string]bool{}
	for _, r := range have {
		global[r.ID] = true
	}
	var held map[string]bool // every held role, loaded only for domain-specific ones
	var out []*Role
	for id := range impliedClosure(t.RoleIDs, implied) {
		r := all[id]
		if r != nil && r.DomainID == "" {
			if !global[id] {
				return nil, httpapi.Forbidden("Trustee has no delegated roles.")
			}
			out = append(out, r)
			continue
		}
		if held == nil {
			if held, err = s.heldRoleIDs(ctx, orig.TrustorUserID, t.ProjectID); err != nil {
				return nil, err
			}
		}
		if !held[id] {
			return nil, httpapi.Forbidden("Trustee has no delegated roles.")
		}
	}
	slices.SortFunc(out, func(a, b *Role) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

// deleteTrust soft-deletes a trust and, first, every trust that redelegates
// it; tokens scoped to any of them are revoked.
func (s *Service) deleteTrust(ctx context.Context, id string, depth int) error {
	if depth <= maxRedelegationCount+1 {
		kids, err := s.store.ListTrusts(ctx, TrustFilter{RedelegatedTrustID: id})
		if err != nil {
			return err
		}
		for _, k := range kids {
			if err := s.deleteTrust(ctx, k.ID, depth+1); err != nil && !errors.Is(err, errNotFound) {
				return err
			}
		}
	}
	if err := s.store.DeleteTrust(ctx, id, time.Now()); err != nil {
		return err
	}
	return s.Revoke(ctx, RevocationEvent{TrustID: id})
}

// deleteTrustsOfUser soft-deletes every trust where userID is trustor or
// trustee (and the trusts redelegating them), as Keystone does when a user
// is deleted.
func (s *Service) deleteTrustsOfUser(ctx context.Context, userID string) error {
	return s.deleteTrustsWhere(ctx, TrustFilter{TrustorUserID: userID}, TrustFilter{TrusteeUserID: userID})
}

// deleteTrustsOfProject soft-deletes the trusts on a deleted project, as
// Keystone does.
func (s *Service) deleteTrustsOfProject(ctx context.Context, projectID string) error {
	return s.deleteTrustsWhere(ctx, TrustFilter{ProjectID: projectID})
}

func (s *Service) deleteTrustsWhere(ctx context.Context, filters ...TrustFilter) error {
	for _, f := range filters {
		ts, err := s.store.ListTrusts(ctx, f)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := s.deleteTrust(ctx, t.ID, 0); err != nil && !errors.Is(err, errNotFound) {
				return err
			}
		}
	}
	return nil
}
