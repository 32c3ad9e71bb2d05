package compute

import (
	"context"
	"fmt"
)

// legacyQuota is one of Nova's quota resources (QUOTAS.resources, in its
// order) and the unified limit it reads; "" means none (the nova-network
// quotas, always -1).
type legacyQuota struct {
	name, limit string
}

var legacyQuotas = []legacyQuota{
	{"instances", resServers},
	{"cores", resVCPU},
	{"ram", resMemoryMB},
	{"metadata_items", resMetadataItems},
	{"injected_files", resInjectedFiles},
	{"injected_file_content_bytes", resInjectedContent},
	{"injected_file_path_bytes", resInjectedPath},
	{"key_pairs", resKeyPairs},
	{"server_groups", resServerGroups},
	{"server_group_members", resServerGroupMembs},
	{"fixed_ips", ""},
	{"floating_ips", ""},
	{"security_groups", ""},
	{"security_group_rules", ""},
}

// Quota names that microversions drop from quota sets and limits.
var (
	networkQuotas  = []string{"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}
	injectedQuotas = []string{"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}
)

// quotaValue is one resource's limit and usage (reserved is always 0).
type quotaValue struct {
	Limit, InUse int64
}

// RegisteredLimitReader, when the LimitReader also implements it, reads
// a registered default limit alone (os-quota-sets/defaults and quota
// classes); the identity service should.
type RegisteredLimitReader interface {
	RegisteredLimit(ctx context.Context, serviceType, region, resource string) (int64, bool, error)
}

// noProject is a project id Keystone never issues (its ids are hex), so a
// ProjectLimit lookup with it finds only the registered default.
const noProject = "-"

// defaultLimit is resource's registered default: 0 when none is
// registered, -1 for unlimited.
func (s *Service) defaultLimit(ctx context.Context, resource string) (int64, error) {
	if s.cfg.Limits == nil {
		return -1, nil
	}
	var n int64
	var ok bool
	var err error
	if rr, isRR := s.cfg.Limits.(RegisteredLimitReader); isRR {
		n, ok, err = rr.RegisteredLimit(ctx, "compute", s.cfg.LimitRegion, resource)
	} else {
		n, ok, err = s.cfg.Limits.ProjectLimit(ctx, noProject, "compute", s.cfg.LimitRegion, resource)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("compute: registered limit %s: %w", resource, err)
	case !ok:
		return 0, nil
	case n < 0:
		return -1, nil
	}
	return n, nil
}

// projectQuotas is Nova's UnifiedLimitsDriver.get_project_quotas: every
// legacy quota with the project's limit and, with usages, what the
// project uses (instances, cores, ram and server groups are counted; the
// others are per user, per group or per request, so 0 as in Nova).
func (s *Service) projectQuotas(ctx context.Context, project string, usages bool) (map[string]quotaValue, error) {
	out := make(map[string]quotaValue, len(legacyQuotas))
	for _, q := range legacyQuotas {
		v := quotaValue{Limit: -1}
		if q.limit != "" {
			n, err := s.quotaLimit(ctx, project, q.limit)
			if err != nil {
				return nil, err
			}
			v.Limit = n
		}
		out[q.name] = v
	}
	if !usages {
		return out, nil
	}
	u, err := s.instanceUsage(ctx, s.db.R, project)
	if err != nil {
		return nil, err
	}
	groups, err := s.serverGroups().count(ctx, s.db.R, project)
	if err != nil {
		return nil, err
	}
	for name, used := range map[string]int64{"instances": u.Servers, "cores": u.VCPUs, "ram": u.MemoryMB, "server_groups": groups} {
		v := out[name]
		v.InUse = used
		out[name] = v
	}
	return out, nil
}

// defaultQuotas is get_defaults: the registered limits.
func (s *Service) defaultQuotas(ctx context.Context) (map[string]quotaValue, error) {
	out := make(map[string]quotaValue, len(legacyQuotas))
	for _, q := range legacyQuotas {
		v := quotaValue{Limit: -1}
		if q.limit != "" {
			n, err := s.defaultLimit(ctx, q.limit)
			if err != nil {
				return nil, err
			}
			v.Limit = n
		}
		out[q.name] = v
	}
	return out, nil
}
