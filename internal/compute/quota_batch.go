package compute

import (
	"context"
	"fmt"
	"sort"
)

// limitsBatcher is the identity service's ProjectLimits: all of a create's
// limits in one query instead of three per resource.
type limitsBatcher interface {
	ProjectLimits(ctx context.Context, projectID, serviceType, region string, resources []string) (map[string]int64, error)
}

// quotaLimits is quotaLimit for several resources: -1 unlimited, and 0 for
// a resource with no registered limit (oslo.limit).
func (s *Service) quotaLimits(ctx context.Context, project string, names []string) (map[string]int64, error) {
	out := make(map[string]int64, len(names))
	if s.cfg.Limits == nil {
		for _, n := range names {
			out[n] = -1
		}
		return out, nil
	}
	b, ok := s.cfg.Limits.(limitsBatcher)
	if !ok {
		for _, n := range names {
			l, err := s.quotaLimit(ctx, project, n)
			if err != nil {
				return nil, err
			}
			out[n] = l
		}
		return out, nil
	}
	got, err := b.ProjectLimits(ctx, project, "compute", s.cfg.LimitRegion, names)
	if err != nil {
		return nil, fmt.Errorf("compute: limits: %w", err)
	}
	for _, n := range names {
		l, ok := got[n]
		switch {
		case !ok:
			out[n] = 0
		case l < 0:
			out[n] = -1
		default:
			out[n] = l
		}
	}
	return out, nil
}

// enforceLimitsWith is enforceLimits with the limits already read (a
// resource missing from limits is read on its own).
func (s *Service) enforceLimitsWith(ctx context.Context, project string, limits, usage, deltas map[string]int64) ([]overLimitInfo, error) {
	names := make([]string, 0, len(deltas))
	for k := range deltas {
		names = append(names, k)
	}
	sort.Strings(names)
	var overs []overLimitInfo
	for _, name := range names {
		limit, ok := limits[name]
		if !ok {
			var err error
			if limit, err = s.quotaLimit(ctx, project, name); err != nil {
				return nil, err
			}
		}
		if limit >= 0 && usage[name]+deltas[name] > limit {
			overs = append(overs, overLimitInfo{name, limit, usage[name], deltas[name]})
		}
	}
	return overs, nil
}

// deltaNames are the resources of deltas.
func deltaNames(deltas map[string]int64) []string {
	names := make([]string, 0, len(deltas))
	for k := range deltas {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
