package simulated

import (
	"context"
	"fmt"

	"kumo/internal/compute/virt"
)

// OpDiagnostics is the Diagnostics operation, for injected failures.
const OpDiagnostics Op = "diagnostics"

// Diagnostics describes the simulated instance from its spec: no guest
// runs, so counters are zero and the driver says it is simulated.
func (d *Driver) Diagnostics(ctx context.Context, uuid string) (virt.Diagnostics, error) {
	var dg virt.Diagnostics
	err := d.with(ctx, OpDiagnostics, uuid, func(in *instance) error {
		if in.power != virt.Running {
			return errState(OpDiagnostics, uuid, in.power)
		}
		zero := func() *int64 { v := int64(0); return &v }
		mem := int64(in.spec.MemoryMB)
		dg = virt.Diagnostics{State: in.power, Driver: "simulated", Hypervisor: "simulated",
			HypervisorOS: "simulated", Uptime: zero(), ConfigDrive: in.spec.HasConfig,
			MemoryMaxMB: &mem, MemoryUsedMB: &mem}
		for i := range in.spec.VCPUs {
			dg.CPUs = append(dg.CPUs, virt.CPUDiagnostics{ID: i, Time: zero()})
		}
		for i, n := range in.spec.NICs {
			dg.NICs = append(dg.NICs, virt.NICDiagnostics{MAC: n.MAC, Name: fmt.Sprintf("tap%d", i),
				RxOctets: zero(), RxErrors: zero(), RxDrop: zero(), RxPackets: zero(),
				TxOctets: zero(), TxErrors: zero(), TxDrop: zero(), TxPackets: zero()})
		}
		disks := []string{"vda"}
		if dg.ConfigDrive {
			disks = append(disks, "vdb")
		}
		for _, name := range disks {
			dg.Disks = append(dg.Disks, virt.DiskDiagnostics{Name: name, ReadBytes: zero(), ReadRequests: zero(),
				WriteBytes: zero(), WriteRequests: zero(), ErrorsCount: zero()})
		}
		return nil
	})
	return dg, err
}
