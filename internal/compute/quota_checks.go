package compute

import (
	"context"
	"database/sql"
	"fmt"
)

// Quota checks for the servers and key pairs APIs. Each returns nil or
// Nova's 403 (oslo.limit's "Project P is over a limit for [...]").

// instanceUsage is a project's servers and the resources they hold, as
// Nova counts them for unified limits: every instance not deleted counts
// as a server; shelved-offloaded ones hold no resources (they have no
// allocation in placement).
type instanceUsage struct {
	Servers, VCPUs, MemoryMB, DiskGB int64
}

func (s *Service) instanceUsage(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, project string) (instanceUsage, error) {
	var u instanceUsage
	err := q.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN vm_state = 'shelved_offloaded' THEN 0 ELSE vcpus END), 0),
		COALESCE(SUM(CASE WHEN vm_state = 'shelved_offloaded' THEN 0 ELSE memory_mb END), 0),
		COALESCE(SUM(CASE WHEN vm_state = 'shelved_offloaded' THEN 0 ELSE root_gb + ephemeral_gb END), 0)
		FROM instances WHERE project_id = ? AND deleted = 0`, project).Scan(&u.Servers, &u.VCPUs, &u.MemoryMB, &u.DiskGB)
	return u, err
}

func (u instanceUsage) byResource() map[string]int64 {
	return map[string]int64{resServers: u.Servers, resVCPU: u.VCPUs, resMemoryMB: u.MemoryMB, resDiskGB: u.DiskGB}
}

// InstanceResources is what one instance of a flavor holds: Nova's
// resources_for_limits (DISK_GB is root + ephemeral + swap, 0 when booted
// from volume).
type InstanceResources struct {
	VCPUs, MemoryMB, DiskGB int
}

// deltas are the usage count instances of r add; count 0 is a resize:
// r (the growth) once, and no new server.
func (r InstanceResources) deltas(count int) map[string]int64 {
	d := map[string]int64{}
	times := int64(max(count, 1))
	if count > 0 {
		d[resServers] = int64(count)
	}
	for name, v := range map[string]int{resVCPU: r.VCPUs, resMemoryMB: r.MemoryMB, resDiskGB: r.DiskGB} {
		if v > 0 {
			d[name] = int64(v) * times
		}
	}
	return d
}

// resizeGrowth is what a resize from old to f adds to the project's usage
// (class:VCPU, class:MEMORY_MB, class:DISK_GB; a shrink adds nothing), for
// instanceQuotaCount with count 0.
func resizeGrowth(old instFlavor, f *Flavor) InstanceResources {
	oldDisk := diskGB(&Flavor{RootGB: old.RootGB, EphemeralGB: old.EphemeralGB, Swap: old.Swap})
	return InstanceResources{
		VCPUs:    int(max(f.VCPUs-old.VCPUs, 0)),
		MemoryMB: int(max(f.MemoryMB-old.MemoryMB, 0)),
		DiskGB:   int(max(diskGB(f)-oldDisk, 0)),
	}
}

// checkInstanceQuota checks that projectID may have count more instances
// of vcpus and memoryMB each (servers, class:VCPU, class:MEMORY_MB).
// userID is accepted for Nova's signature; unified limits are per
// project.
func (s *Service) checkInstanceQuota(ctx context.Context, projectID, userID string, count, vcpus, memoryMB int) error {
	_, err := s.instanceQuotaCount(ctx, projectID, count, count, InstanceResources{VCPUs: vcpus, MemoryMB: memoryMB})
	return err
}

// instanceQuotaCount is Nova's enforce_num_instances_and_flavor: the
// largest count in [minCount, maxCount] of instances of per that fits the
// project's limits, or the 403 for maxCount when not even minCount fits.
// With minCount = maxCount = 0 (a resize), per is the growth of the
// flavor and only the resources are checked.
func (s *Service) instanceQuotaCount(ctx context.Context, projectID string, minCount, maxCount int, per InstanceResources) (int, error) {
	if minCount < 0 || minCount > maxCount {
		return 0, fmt.Errorf("compute: instance quota: invalid count range %d..%d", minCount, maxCount)
	}
	if s.cfg.Limits == nil {
		return maxCount, nil
	}
	// Unlimited resources never refuse: with every one of them unlimited
	// the usage need not be counted (the count is the costly part).
	limits, err := s.quotaLimits(ctx, projectID, deltaNames(per.deltas(maxCount)))
	if err != nil {
		return 0, err
	}
	if allUnlimited(limits) {
		return maxCount, nil
	}
	u, err := s.instanceUsage(ctx, s.db.R, projectID)
	if err != nil {
		return 0, err
	}
	usage := u.byResource()
	var first []overLimitInfo
	for n := maxCount; n >= minCount && n >= 0; n-- {
		deltas := per.deltas(n)
		if len(deltas) == 0 {
			return n, nil
		}
		overs, err := s.enforceLimitsWith(ctx, projectID, limits, usage, deltas)
		if err != nil {
			return 0, err
		}
		if len(overs) == 0 {
			return n, nil
		}
		if first == nil {
			first = overs
		}
	}
	return 0, quotaExceeded(projectID, first)
}

// allUnlimited reports whether every limit is -1 (unlimited).
func allUnlimited(limits map[string]int64) bool {
	for _, l := range limits {
		if l >= 0 {
			return false
		}
	}
	return true
}

// checkMetadataQuota checks a server's metadata item count (server create,
// rebuild, metadata set/update) against server_metadata_items.
func (s *Service) checkMetadataQuota(ctx context.Context, projectID string, items int) error {
	if items == 0 {
		return nil // no limit refuses none: 0 > limit never holds for limit >= 0
	}
	return s.enforceQuota(ctx, projectID, map[string]int64{resMetadataItems: 0}, map[string]int64{resMetadataItems: int64(items)})
}

// checkInjectedFilesQuota checks personality files (server create and
// rebuild before 2.57): their number, and each path's and content's size.
func (s *Service) checkInjectedFilesQuota(ctx context.Context, projectID string, files, maxPathBytes, maxContentBytes int) error {
	for _, c := range []struct {
		res string
		n   int
	}{{resInjectedFiles, files}, {resInjectedPath, maxPathBytes}, {resInjectedContent, maxContentBytes}} {
		if err := s.enforceQuota(ctx, projectID, map[string]int64{c.res: 0}, map[string]int64{c.res: int64(c.n)}); err != nil {
			return err
		}
	}
	return nil
}

// checkKeypairQuota checks that userID may create one more key pair
// (server_key_pairs, counted per user). The key pair store checks again
// in its insert transaction through keypairLimit.
func (s *Service) checkKeypairQuota(ctx context.Context, projectID, userID string) error {
	var n int64
	if err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return err
	}
	return s.enforceQuota(ctx, projectID, map[string]int64{resKeyPairs: n}, map[string]int64{resKeyPairs: 1})
}

// checkServerGroupQuota checks that projectID may create one more server
// group (the create handler checks again in its insert transaction).
func (s *Service) checkServerGroupQuota(ctx context.Context, projectID string) error {
	n, err := s.serverGroups().count(ctx, s.db.R, projectID)
	if err != nil {
		return err
	}
	return s.enforceQuota(ctx, projectID, map[string]int64{resServerGroups: n}, map[string]int64{resServerGroups: 1})
}
