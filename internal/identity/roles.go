package identity

import (
	"context"
	"errors"
	"sort"
)

// ancestors returns the ids above project id, nearest first, ending with its
// domain (top-level projects have the domain as parent, as in Keystone).
func (s *Service) ancestors(ctx context.Context, id string) ([]string, error) {
	var out []string
	seen := map[string]bool{id: true}
	for {
		p, err := s.project(ctx, id)
		if err != nil {
			return nil, err
		}
		next := p.ParentID
		if next == "" && !p.IsDomain {
			next = p.DomainID
		}
		if next == "" || seen[next] {
			return out, nil
		}
		seen[next] = true
		out = append(out, next)
		id = next
	}
}

// directRoleIDs returns the ids of the roles userID holds on scope directly,
// through its groups, and by inheritance from the domain or the projects
// above a project scope, before implied roles are expanded.
func (s *Service) directRoleIDs(ctx context.Context, userID string, sc Scope) ([]string, error) {
	groups, err := s.store.GroupIDsOfUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	actors := append([]string{userID}, groups...)
	var as []Assignment
	switch {
	case sc.System != "":
		as, err = s.store.ListAssignments(ctx, AssignmentFilter{Types: []string{UserSystem, GroupSystem}, ActorIDs: actors, TargetIDs: []string{SystemTarget}})
	case sc.DomainID != "":
		no := false
		as, err = s.store.ListAssignments(ctx, AssignmentFilter{Types: []string{UserDomain, GroupDomain}, ActorIDs: actors, TargetIDs: []string{sc.DomainID}, Inherited: &no})
	case sc.ProjectID != "":
		var up []string
		if up, err = s.ancestors(ctx, sc.ProjectID); err != nil {
			return nil, err
		}
		var all []Assignment
		if all, err = s.store.ListAssignments(ctx, AssignmentFilter{ActorIDs: actors, TargetIDs: append([]string{sc.ProjectID}, up...)}); err != nil {
			return nil, err
		}
		for _, a := range all {
			// On the project itself only direct grants count; above it only
			// inherited ones.
			if (a.TargetID == sc.ProjectID) != a.Inherited {
				as = append(as, a)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.RoleID)
	}
	return ids, nil
}

// expandRoles adds every role implied (transitively) by ids. Keystone puts
// only global roles in tokens: domain-specific roles only imply others.
func expandRoles(ids []string, roles map[string]*Role, implied map[string][]string) []*Role {
	seen := impliedClosure(ids, implied)
	out := make([]*Role, 0, len(seen))
	for id := range seen {
		if r, ok := roles[id]; ok && r.DomainID == "" {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// impliedClosure returns ids with every role they imply, transitively.
func impliedClosure(ids []string, implied map[string][]string) map[string]bool {
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, next := range implied[id] {
			walk(next)
		}
	}
	for _, id := range ids {
		walk(id)
	}
	return seen
}

// EffectiveRoles returns the global roles userID has on scope, including
// group, inherited and implied roles, through the cache.
func (s *Service) EffectiveRoles(ctx context.Context, userID string, sc Scope) ([]*Role, error) {
	key := userID + "|" + sc.ProjectID + "|" + sc.DomainID + "|" + sc.System
	c := s.cache.Load()
	if rs, ok := cached(c, c.roleSets, key); ok {
		return rs, nil
	}
	ids, err := s.directRoleIDs(ctx, userID, sc)
	if errors.Is(err, errNotFound) {
		ids, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	roles, implied, err := s.roleTable(ctx)
	if err != nil {
		return nil, err
	}
	rs := expandRoles(ids, roles, implied)
	remember(c, c.roleSets, key, rs)
	return rs, nil
}
