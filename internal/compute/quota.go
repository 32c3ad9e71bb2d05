package compute

import (
	"context"
	"fmt"
	"strings"

	"kumo/internal/platform/httpapi"
)

// Quotas from Keystone's unified limits, as Nova with [quota] driver =
// nova.quota.UnifiedLimitsDriver (nova/limit/local.py, placement.py): the
// limits are registered for the service type "compute" under these
// resource names. As oslo.limit, a resource with no registered limit has a
// limit of 0 (nothing may be created), so `kumo up` registers defaults;
// kumo takes -1 as unlimited (Keystone's "unlimited"). With no LimitReader
// configured every limit is -1.
//
// Where kumo differs from Nova Zed: Nova checks the "local" limits
// (key pairs, server groups, members, metadata items) against the
// registered default only (oslo.limit enforce with project None); kumo
// honours a project's own limit for them too, and names the project.
const (
	resServers          = "servers"
	resVCPU             = "class:VCPU"
	resMemoryMB         = "class:MEMORY_MB"
	resDiskGB           = "class:DISK_GB"
	resMetadataItems    = "server_metadata_items"
	resInjectedFiles    = "server_injected_files"
	resInjectedContent  = "server_injected_file_content_bytes"
	resInjectedPath     = "server_injected_file_path_bytes"
	resKeyPairs         = "server_key_pairs"
	resServerGroups     = "server_groups"
	resServerGroupMembs = "server_group_members"
)

// DefaultLimits are Nova's legacy [quota] defaults under their unified
// limit names; `kumo up` registers them (class:DISK_GB has no Nova default:
// without one no server with a disk could be created).
var DefaultLimits = map[string]int64{
	resServers:          10,
	resVCPU:             20,
	resMemoryMB:         51200,
	resDiskGB:           1000,
	resMetadataItems:    128,
	resInjectedFiles:    5,
	resInjectedContent:  10240,
	resInjectedPath:     255,
	resKeyPairs:         100,
	resServerGroups:     10,
	resServerGroupMembs: 10,
}

// quotaLimit is project's limit of resource; -1 is unlimited.
func (s *Service) quotaLimit(ctx context.Context, project, resource string) (int64, error) {
	if s.cfg.Limits == nil {
		return -1, nil
	}
	n, ok, err := s.cfg.Limits.ProjectLimit(ctx, project, "compute", s.cfg.LimitRegion, resource)
	if err != nil {
		return 0, fmt.Errorf("compute: limit %s: %w", resource, err)
	}
	if !ok {
		return 0, nil // oslo.limit: no registered limit means 0
	}
	if n < 0 {
		return -1, nil
	}
	return n, nil
}

// overLimitInfo is oslo.limit's OverLimitInfo.
type overLimitInfo struct {
	resource            string
	limit, usage, delta int64
}

func (o overLimitInfo) String() string {
	return fmt.Sprintf("Resource %s is over limit of %d due to current usage %d and delta %d", o.resource, o.limit, o.usage, o.delta)
}

// quotaExceeded is Nova's 403 for an OverQuota raised from oslo.limit's
// ProjectOverLimit: the message is the oslo.limit one.
func quotaExceeded(project string, overs []overLimitInfo) error {
	parts := make([]string, len(overs))
	for i, o := range overs {
		parts[i] = o.String()
	}
	return httpapi.Forbidden("Project %s is over a limit for [%s]", project, strings.Join(parts, ", "))
}

// enforceLimits checks usage+delta against the project's limits for each
// resource in deltas, in name order as oslo.limit, and returns the
// resources over their limit (nil when none).
func (s *Service) enforceLimits(ctx context.Context, project string, usage, deltas map[string]int64) ([]overLimitInfo, error) {
	limits, err := s.quotaLimits(ctx, project, deltaNames(deltas))
	if err != nil {
		return nil, err
	}
	return s.enforceLimitsWith(ctx, project, limits, usage, deltas)
}

// enforceQuota is enforceLimits that returns Nova's 403 when over.
func (s *Service) enforceQuota(ctx context.Context, project string, usage, deltas map[string]int64) error {
	overs, err := s.enforceLimits(ctx, project, usage, deltas)
	if err != nil {
		return err
	}
	if len(overs) > 0 {
		return quotaExceeded(project, overs)
	}
	return nil
}
