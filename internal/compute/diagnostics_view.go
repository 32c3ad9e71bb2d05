package compute

import (
	"fmt"

	"kumo/internal/compute/virt"
)

// diagnosticsView is Nova's instance_diagnostics view (2.48): every key
// present, counters the driver cannot read as null.
func diagnosticsView(dg virt.Diagnostics) map[string]any {
	cpus := make([]map[string]any, 0, len(dg.CPUs))
	for _, c := range dg.CPUs {
		cpus = append(cpus, map[string]any{"id": c.ID, "time": c.Time, "utilisation": c.Utilisation})
	}
	nics := make([]map[string]any, 0, len(dg.NICs))
	for _, n := range dg.NICs {
		var mac any
		if n.MAC != "" {
			mac = n.MAC
		}
		nics = append(nics, map[string]any{"mac_address": mac,
			"rx_octets": n.RxOctets, "rx_errors": n.RxErrors, "rx_drop": n.RxDrop, "rx_packets": n.RxPackets,
			"rx_rate": n.RxRate, "tx_octets": n.TxOctets, "tx_errors": n.TxErrors, "tx_drop": n.TxDrop,
			"tx_packets": n.TxPackets, "tx_rate": n.TxRate})
	}
	disks := make([]map[string]any, 0, len(dg.Disks))
	for _, d := range dg.Disks {
		disks = append(disks, map[string]any{"read_bytes": d.ReadBytes, "read_requests": d.ReadRequests,
			"write_bytes": d.WriteBytes, "write_requests": d.WriteRequests, "errors_count": d.ErrorsCount})
	}
	return map[string]any{
		"state":          powerStateName(dg.State),
		"driver":         dg.Driver,
		"hypervisor":     nullIfEmpty(dg.Hypervisor),
		"hypervisor_os":  nullIfEmpty(dg.HypervisorOS),
		"uptime":         dg.Uptime,
		"config_drive":   dg.ConfigDrive,
		"num_cpus":       len(cpus),
		"num_nics":       len(nics),
		"num_disks":      len(disks),
		"memory_details": map[string]any{"maximum": dg.MemoryMaxMB, "used": dg.MemoryUsedMB},
		"cpu_details":    cpus,
		"nic_details":    nics,
		"disk_details":   disks,
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// legacyDiagnostics is what Nova's libvirt driver answered before 2.48:
// cpuN_time (ns), memory (KiB), <disk>_read/_read_req/_write/_write_req/
// _errors and <nic>_rx/_rx_drop/_rx_errors/_rx_packets/_tx... Counters the
// driver cannot read are left out.
func legacyDiagnostics(dg virt.Diagnostics) map[string]any {
	out := map[string]any{}
	put := func(key string, v *int64) {
		if v != nil {
			out[key] = *v
		}
	}
	for _, c := range dg.CPUs {
		put(fmt.Sprintf("cpu%d_time", c.ID), c.Time)
	}
	if dg.MemoryMaxMB != nil {
		out["memory"] = *dg.MemoryMaxMB * 1024
	}
	if dg.MemoryUsedMB != nil {
		out["memory-actual"] = *dg.MemoryUsedMB * 1024
	}
	for _, d := range dg.Disks {
		put(d.Name+"_read", d.ReadBytes)
		put(d.Name+"_read_req", d.ReadRequests)
		put(d.Name+"_write", d.WriteBytes)
		put(d.Name+"_write_req", d.WriteRequests)
		put(d.Name+"_errors", d.ErrorsCount)
	}
	for _, n := range dg.NICs {
		put(n.Name+"_rx", n.RxOctets)
		put(n.Name+"_rx_drop", n.RxDrop)
		put(n.Name+"_rx_errors", n.RxErrors)
		put(n.Name+"_rx_packets", n.RxPackets)
		put(n.Name+"_tx", n.TxOctets)
		put(n.Name+"_tx_drop", n.TxDrop)
		put(n.Name+"_tx_errors", n.TxErrors)
		put(n.Name+"_tx_packets", n.TxPackets)
	}
	return out
}
