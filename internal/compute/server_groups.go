package compute

import (
	"context"

	"kumo/internal/compute/scheduler"
	"kumo/internal/platform/httpapi"
)

// Server group calls for the servers API (the "group" scheduler hint).

// serverGroupForSchedule returns the group an instance is booted into,
// with its policy, rules, and its members and their hosts. A group that
// does not exist, or (projectID != "") belongs to another project, is
// errNotFound (the servers API answers 400 for a bad hint).
func (s *Service) serverGroupForSchedule(ctx context.Context, groupID, projectID string) (*ServerGroup, error) {
	g, err := s.serverGroups().get(ctx, groupID)
	if err != nil {
		return nil, err
	}
	if projectID != "" && g.ProjectID != projectID {
		return nil, errNotFound
	}
	return g, nil
}

// addServerGroupMember puts an instance in a group, as Nova does when an
// instance is created with the group hint. The group's
// server_group_members quota is checked in the same transaction: over it
// is Nova's 403. Adding a member twice is a no-op; an instance already in
// another group is errExists; an unknown group is errNotFound.
func (s *Service) addServerGroupMember(ctx context.Context, groupID, instanceUUID string) error {
	return s.serverGroups().addMember(ctx, groupID, instanceUUID, s.now(), func(g *ServerGroup, count int64) error {
		return s.enforceQuota(ctx, g.ProjectID, map[string]int64{resServerGroupMembs: count}, map[string]int64{resServerGroupMembs: 1})
	})
}

// checkServerGroupMembersQuota checks, before any instance of a create
// request is stored, that the group may take n more members, as Nova's
// _provision_instances: over the limit is its 403 "Quota exceeded, too
// many servers in group". addServerGroupMember checks again when adding.
func (s *Service) checkServerGroupMembersQuota(ctx context.Context, groupID string, n int) error {
	g, err := s.serverGroups().get(ctx, groupID)
	if err != nil {
		return err
	}
	overs, err := s.enforceLimits(ctx, g.ProjectID, map[string]int64{resServerGroupMembs: int64(len(g.Members))}, map[string]int64{resServerGroupMembs: int64(n)})
	if err != nil {
		return err
	}
	if len(overs) > 0 {
		return httpapi.Forbidden("Quota exceeded, too many servers in group")
	}
	return nil
}

// serverGroupOf returns the uuid of the group an instance is in ("" if
// none), for the server show view's server_groups (2.71).
func (s *Service) serverGroupOf(ctx context.Context, instanceUUID string) (string, error) {
	return s.serverGroups().groupOf(ctx, instanceUUID)
}

// SchedulerGroup is the group as the scheduler takes it, excluding the
// instances being scheduled (they may be members already).
func (g *ServerGroup) SchedulerGroup(exclude ...string) *scheduler.Group {
	skip := map[string]bool{}
	for _, u := range exclude {
		skip[u] = true
	}
	sg := &scheduler.Group{Policy: g.Policy, MaxServerPerHost: g.MaxServerPerHost()}
	for _, m := range g.Members {
		if h, ok := g.Hosts[m]; ok && !skip[m] {
			sg.MemberHosts = append(sg.MemberHosts, h)
		}
	}
	return sg
}
