package compute

import "context"

// checkUnshelveQuota is Nova's quota check before unshelving an offloaded
// server (compute API unshelve → _check_quota_unshelve_offloaded, run
// when usage is counted from placement, as with unified limits): an
// offloaded server holds no allocation, so its cores, RAM and disk count
// again, while it still counts as a server (no new instance).
func (s *Service) checkUnshelveQuota(ctx context.Context, in *Instance) error {
	f := in.Flavor
	per := InstanceResources{VCPUs: int(f.VCPUs), MemoryMB: int(f.MemoryMB),
		DiskGB: int(diskGB(&Flavor{RootGB: f.RootGB, EphemeralGB: f.EphemeralGB, Swap: f.Swap}))}
	_, err := s.instanceQuotaCount(ctx, in.ProjectID, 0, 0, per)
	return err
}
