package compute

import (
	"context"
	"fmt"

	"kumo/internal/compute/virt"
)

// DriverHost is one compute host as DriverHypervisors reads it.
type DriverHost struct {
	Host         string // the nova-compute service's host name
	ProviderUUID string // its resource provider in placement
	HostIP       string
	Driver       virt.Driver
	// Uptime, when set, returns the host's uptime line (LocalUptime for
	// this machine); nil means unknown.
	Uptime func(ctx context.Context) (string, error)
}

// DriverHypervisors is a HypervisorSource over the hosts' drivers
// (capacity, type, version, CPU info), placement's usages of each host's
// provider (vcpus_used, memory_mb_used, local_gb_used) and the instances
// table (running_vms, current_workload), as Nova's resource tracker fills
// the compute node.
type DriverHypervisors struct {
	s     *Service
	hosts []DriverHost
	usage func(ctx context.Context, providerUUID string) (map[string]int64, error)
}

// DriverHypervisors builds the source; usage is placement's per-provider
// usages (placement.Store.Usages).
func (s *Service) DriverHypervisors(hosts []DriverHost, usage func(ctx context.Context, providerUUID string) (map[string]int64, error)) *DriverHypervisors {
	return &DriverHypervisors{s: s, hosts: hosts, usage: usage}
}

var _ HypervisorSource = (*DriverHypervisors)(nil)

// Hypervisors reads every host now; a host whose driver fails is an
// error (the API answers 500 and logs it), not a silently missing node.
func (d *DriverHypervisors) Hypervisors(ctx context.Context) ([]Hypervisor, error) {
	out := make([]Hypervisor, 0, len(d.hosts))
	for _, h := range d.hosts {
		info, err := h.Driver.HostInfo(ctx)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Host, err)
		}
		hv := Hypervisor{HostInfo: info, Host: h.Host, UUID: h.ProviderUUID, HostIP: h.HostIP}
		if hv.Hostname == "" {
			hv.Hostname = h.Host
		}
		if d.usage != nil {
			u, err := d.usage(ctx, h.ProviderUUID)
			if err != nil {
				return nil, fmt.Errorf("host %s usages: %w", h.Host, err)
			}
			hv.VCPUsUsed, hv.MemoryMBUsed, hv.LocalGBUsed = int(u["VCPU"]), int(u["MEMORY_MB"]), int(u["DISK_GB"])
		}
		// Nova's running_vms counts the instances on the node; its
		// current_workload those with a task under way.
		if err := d.s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN task_state IS NOT NULL AND task_state <> '' THEN 1 ELSE 0 END), 0)
			FROM instances WHERE host = ? AND deleted = 0`, h.Host).Scan(&hv.RunningVMs, &hv.CurrentWorkload); err != nil {
			return nil, err
		}
		free := hv.LocalGB - hv.LocalGBUsed
		hv.DiskAvailableLeast = &free
		if h.Uptime != nil {
			if up, err := h.Uptime(ctx); err == nil {
				hv.Uptime = up
			}
		}
		out = append(out, hv)
	}
	return out, nil
}
