package identity

import (
	"context"
	"errors"
	"slices"

	"kumo/internal/platform/httpapi"
)

// This file computes GET /v3/role_assignments the way Keystone's assignment
// manager does: either the stored (direct) assignments matching the
// filters, or, in effective mode, what actually reaches users: group grants
// expanded into their members, inherited grants expanded onto the projects
// below them, implied roles added and domain-specific roles dropped.

// assignmentQuery is the filter set of a role assignment listing.
type assignmentQuery struct {
	RoleID, UserID, GroupID string
	DomainID, ProjectID     string
	System                  bool  // scope.system=all
	Inherited               *bool // nil: both; else only (non-)inherited
	Effective               bool
	Subtree                 bool // include the projects below ProjectID
}

// assignmentRef is one listed assignment. Via records where an effective
// assignment came from: the group, the domain or project it was inherited
// from, the prior role that implied it. It is comparable, so the implied
// role expansion can tell refs it has already seen.
type assignmentRef struct {
	UserID, GroupID     string
	ProjectID, DomainID string
	System              bool
	RoleID              string
	Inherited           bool
	Via                 assignmentVia
}

type assignmentVia struct {
	GroupID, ProjectID, DomainID, RoleID string
}

func refOf(a Assignment) assignmentRef {
	r := assignmentRef{RoleID: a.RoleID, Inherited: a.Inherited}
	switch a.Type {
	case UserProject, UserDomain, UserSystem:
		r.UserID = a.ActorID
	default:
		r.GroupID = a.ActorID
	}
	switch a.Type {
	case UserProject, GroupProject:
		r.ProjectID = a.TargetID
	case UserDomain, GroupDomain:
		r.DomainID = a.TargetID
	default:
		r.System = true
	}
	return r
}

// assignmentTypes narrows the project and domain assignment types to an
// actor kind and a target kind, as Keystone's SQL driver does.
func assignmentTypes(user, group, project, domain bool) []string {
	var actor, target []string
	switch {
	case user:
		actor = []string{UserProject, UserDomain}
	case group:
		actor = []string{GroupProject, GroupDomain}
	}
	switch {
	case project:
		target = []string{UserProject, GroupProject}
	case domain:
		target = []string{UserDomain, GroupDomain}
	}
	switch {
	case actor != nil && target != nil:
		var both []string
		for _, t := range actor {
			if slices.Contains(target, t) {
				both = append(both, t)
			}
		}
		return both
	case actor != nil:
		return actor
	case target != nil:
		return target
	}
	return []string{UserProject, GroupProject, UserDomain, GroupDomain}
}

// listRoleAssignments answers a role assignment listing.
func (s *Service) listRoleAssignments(ctx context.Context, q assignmentQuery) ([]assignmentRef, error) {
	var subtree []string
	if q.ProjectID != "" && q.Subtree {
		var err error
		if subtree, err = s.descendants(ctx, q.ProjectID); err != nil {
			return nil, err
		}
	}
	if q.Effective {
		return s.effectiveAssignments(ctx, q, subtree)
	}
	return s.directAssignments(ctx, q, subtree)
}

func (s *Service) directAssignments(ctx context.Context, q assignmentQuery, subtree []string) ([]assignmentRef, error) {
	var out []assignmentRef
	if !q.System {
		f := AssignmentFilter{Types: assignmentTypes(q.UserID != "", q.GroupID != "", q.ProjectID != "", q.DomainID != ""),
			RoleID: q.RoleID, Inherited: q.Inherited}
		switch {
		case q.GroupID != "":
			f.ActorIDs = []string{q.GroupID}
		case q.UserID != "":
			f.ActorIDs = []string{q.UserID}
		}
		switch {
		case q.ProjectID != "":
			f.TargetIDs = append([]string{q.ProjectID}, subtree...)
		case q.DomainID != "":
			f.TargetIDs = []string{q.DomainID}
		}
		as, err := s.store.ListAssignments(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			out = append(out, refOf(a))
		}
	}
	if q.System || (q.ProjectID == "" && q.DomainID == "") {
		f := AssignmentFilter{Types: []string{UserSystem, GroupSystem}, TargetIDs: []string{SystemTarget}, RoleID: q.RoleID}
		switch {
		case q.UserID != "":
			f.Types, f.ActorIDs = []string{UserSystem}, []string{q.UserID}
		case q.GroupID != "":
			f.Types, f.ActorIDs = []string{GroupSystem}, []string{q.GroupID}
		}
		as, err := s.store.ListAssignments(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			out = append(out, refOf(a))
		}
	}
	return out, nil
}

func (s *Service) effectiveAssignments(ctx context.Context, q assignmentQuery, subtree []string) ([]assignmentRef, error) {
	inherited := q.Inherited
	if q.GroupID != "" || (q.DomainID != "" && inherited != nil && *inherited) {
		return nil, nil // group grants and inherited domain grants never reach a user as such
	}
	if q.DomainID != "" {
		no := false
		inherited = &no // a domain inherits nothing
	}
	refs, err := s.assignmentsAffecting(ctx, q.UserID, nil, q.ProjectID, subtree, q.DomainID, inherited)
	if err != nil {
		return nil, err
	}
	if q.UserID != "" {
		groups, err := s.store.GroupIDsOfUser(ctx, q.UserID)
		if err != nil {
			return nil, err
		}
		if len(groups) > 0 {
			more, err := s.assignmentsAffecting(ctx, "", groups, q.ProjectID, subtree, q.DomainID, inherited)
			if err != nil {
				return nil, err
			}
			refs = append(refs, more...)
		}
	}
	var expanded []assignmentRef
	for _, r := range refs {
		more, err := s.expandAssignment(ctx, r, q.UserID, q.ProjectID, subtree)
		if err != nil {
			return nil, err
		}
		expanded = append(expanded, more...)
	}
	roles, implied, err := s.roleTable(ctx)
	if err != nil {
		return nil, err
	}
	var out []assignmentRef
	for _, r := range addImpliedRoles(expanded, implied) {
		// Domain-specific roles only imply others; they never reach a token.
		if role, ok := roles[r.RoleID]; !ok || role.DomainID != "" {
			continue
		}
		if q.RoleID != "" && r.RoleID != q.RoleID {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// assignmentsAffecting returns the stored assignments of a user (or of
// groups) that can affect the given project (and subtree) or domain:
// direct ones there, and inherited ones from its domain or the projects
// above it. With no target it returns all of the actor's assignments.
func (s *Service) assignmentsAffecting(ctx context.Context, userID string, groupIDs []string, projectID string, subtree []string, domainID string, inherited *bool) ([]assignmentRef, error) {
	hasUser, hasGroups := userID != "", groupIDs != nil
	var actors []string
	switch {
	case hasGroups:
		actors = groupIDs
	case hasUser:
		actors = []string{userID}
	}
	var interest []string
	if projectID != "" {
		interest = append(slices.Clone(subtree), projectID)
	}
	var as []Assignment
	list := func(f AssignmentFilter) error {
		more, err := s.store.ListAssignments(ctx, f)
		as = append(as, more...)
		return err
	}
	yes, no := true, false
	if inherited == nil || !*inherited {
		f := AssignmentFilter{Types: assignmentTypes(hasUser, hasGroups, projectID != "", domainID != ""), ActorIDs: actors, Inherited: &no}
		switch {
		case interest != nil:
			f.TargetIDs = interest
		case domainID != "":
			f.TargetIDs = []string{domainID}
		}
		if err := list(f); err != nil {
			return nil, err
		}
	}
	if inherited == nil || *inherited {
		if projectID != "" {
			p, err := s.project(ctx, projectID)
			if errors.Is(err, errNotFound) {
				return nil, httpapi.NotFound("Could not find project: %s.", projectID)
			}
			if err != nil {
				return nil, err
			}
			if err := list(AssignmentFilter{Types: assignmentTypes(hasUser, hasGroups, false, true), ActorIDs: actors,
				TargetIDs: []string{p.DomainID}, Inherited: &yes}); err != nil {
				return nil, err
			}
			sources, err := s.ancestors(ctx, projectID)
			if err != nil {
				return nil, err
			}
			if len(subtree) > 0 {
				sources = append(sources, interest...)
			}
			if len(sources) > 0 {
				if err := list(AssignmentFilter{Types: assignmentTypes(hasUser, hasGroups, true, false), ActorIDs: actors,
					TargetIDs: sources, Inherited: &yes}); err != nil {
					return nil, err
				}
			}
		} else if err := list(AssignmentFilter{Types: assignmentTypes(hasUser, hasGroups, false, false), ActorIDs: actors, Inherited: &yes}); err != nil {
			return nil, err
		}
	}
	out := make([]assignmentRef, 0, len(as))
	for _, a := range as {
		out = append(out, refOf(a))
	}
	return out, nil
}

// expandAssignment turns a group assignment into one per member (only
// userID's when the listing is for one user) and an inherited assignment
// into one per project it reaches (only the projects of interest when the
// listing is for a project).
func (s *Service) expandAssignment(ctx context.Context, r assignmentRef, userID, projectID string, subtree []string) ([]assignmentRef, error) {
	members := func() ([]assignmentRef, error) {
		if r.GroupID == "" {
			return []assignmentRef{r}, nil
		}
		ids := []string{userID}
		if userID == "" {
			users, err := s.store.ListUsers(ctx, UserFilter{GroupID: r.GroupID})
			if err != nil {
				return nil, err
			}
			ids = ids[:0]
			for _, u := range users {
				ids = append(ids, u.ID)
			}
		}
		out := make([]assignmentRef, 0, len(ids))
		for _, id := range ids {
			m := r
			m.UserID, m.GroupID, m.Via.GroupID = id, "", r.GroupID
			out = append(out, m)
		}
		return out, nil
	}
	if !r.Inherited {
		return members()
	}
	var projects []string
	switch {
	case projectID != "":
		projects = append([]string{projectID}, subtree...)
		if len(subtree) > 0 && r.ProjectID != "" && slices.Contains(projects, r.ProjectID) {
			// Inherited from inside the subtree: it reaches only the
			// projects below its own target.
			var err error
			if projects, err = s.descendants(ctx, r.ProjectID); err != nil {
				return nil, err
			}
		}
	case r.DomainID != "":
		ps, err := s.store.ListProjects(ctx, ProjectFilter{DomainID: r.DomainID})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			projects = append(projects, p.ID)
		}
	default:
		var err error
		if projects, err = s.descendants(ctx, r.ProjectID); err != nil {
			return nil, err
		}
	}
	base, err := members()
	if err != nil {
		return nil, err
	}
	var out []assignmentRef
	for _, b := range base {
		for _, pid := range projects {
			n := b
			if b.ProjectID != "" {
				n.Via.ProjectID = b.ProjectID
			} else {
				n.Via.DomainID = b.DomainID
			}
			n.ProjectID, n.DomainID, n.Inherited = pid, "", false
			out = append(out, n)
		}
	}
	return out, nil
}

// addImpliedRoles appends, for every assignment, one per role its role
// implies (transitively), recording the prior role in Via.RoleID.
func addImpliedRoles(refs []assignmentRef, implied map[string][]string) []assignmentRef {
	out := slices.Clone(refs)
	pending := slices.Clone(refs)
	checked := map[assignmentRef]bool{}
	for len(pending) > 0 {
		next := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		checked[next] = true
		for _, id := range implied[next.RoleID] {
			n := next
			n.RoleID, n.Via.RoleID = id, next.RoleID
			if checked[n] {
				continue // a cycle
			}
			out = append(out, n)
			pending = append(pending, n)
		}
	}
	return out
}
