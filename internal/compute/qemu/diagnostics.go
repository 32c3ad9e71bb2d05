package qemu

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"kumo/internal/compute/virt"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// Diagnostics implements virt.Driver from QMP (run state, vCPU threads,
// block statistics), /proc (vCPU thread CPU time) and the taps' counters
// in /sys/class/net. The guest has no balloon device, so the memory in
// use is the memory it was given.
func (d *Driver) Diagnostics(ctx context.Context, uuid string) (virt.Diagnostics, error) {
	var dg virt.Diagnostics
	err := d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		m, err := d.running(ctx, in)
		if err != nil {
			return err
		}
		st, err := m.QueryStatus(ctx)
		if err != nil {
			return fmt.Errorf("qemu: diagnostics of %s: %w", uuid, err)
		}
		// kumo's QEMU driver stands where Nova's libvirt driver does; the
		// API's enum of drivers has no other name for it.
		hv := "qemu"
		if d.accel == "kvm" {
			hv = "kvm"
		}
		mem := int64(r.MemoryMB)
		dg = virt.Diagnostics{State: runStatePower(st.Status), Driver: "libvirt", Hypervisor: hv,
			HypervisorOS: "linux", ConfigDrive: r.HasConfig, MemoryMaxMB: &mem, MemoryUsedMB: &mem}
		if fi, err := os.Stat(in.path(pidFile)); err == nil {
			up := int64(time.Since(fi.ModTime()) / time.Second)
			dg.Uptime = &up
		}
		pid, _ := in.pid()
		if dg.CPUs, err = vcpuDiagnostics(ctx, m.Execute, pid); err != nil {
			return fmt.Errorf("qemu: diagnostics of %s: %w", uuid, err)
		}
		if dg.Disks, err = diskDiagnostics(ctx, m.Execute); err != nil {
			return fmt.Errorf("qemu: diagnostics of %s: %w", uuid, err)
		}
		for _, n := range r.NICs {
			dg.NICs = append(dg.NICs, nicDiagnostics(n))
		}
		return nil
	})
	return dg, err
}

type execFunc func(ctx context.Context, command string, args, out any) error

// vcpuDiagnostics lists the vCPUs (query-cpus-fast) with the CPU time of
// their host threads.
func vcpuDiagnostics(ctx context.Context, exec execFunc, pid int) ([]virt.CPUDiagnostics, error) {
	var cpus []struct {
		Index  int `json:"cpu-index"`
		Thread int `json:"thread-id"`
	}
	if err := exec(ctx, "query-cpus-fast", nil, &cpus); err != nil {
		return nil, err
	}
	out := make([]virt.CPUDiagnostics, 0, len(cpus))
	for _, c := range cpus {
		cd := virt.CPUDiagnostics{ID: c.Index}
		if t, ok := threadCPUTime(pid, c.Thread); ok {
			cd.Time = &t
		}
		out = append(out, cd)
	}
	return out, nil
}

// threadCPUTime is a thread's user+system time in nanoseconds.
func threadCPUTime(pid, tid int) (int64, bool) {
	if pid <= 0 || tid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields count from ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (utime + stime) * int64(time.Second) / clockTicks, true
}

// diskDiagnostics is query-blockstats for the guest's disks, named as the
// guest sees virtio disks (vda, vdb...) in their order.
func diskDiagnostics(ctx context.Context, exec execFunc) ([]virt.DiskDiagnostics, error) {
	var stats []struct {
		Device string `json:"device"`
		QDev   string `json:"qdev"`
		Stats  struct {
			RdBytes    int64 `json:"rd_bytes"`
			WrBytes    int64 `json:"wr_bytes"`
			RdOps      int64 `json:"rd_operations"`
			WrOps      int64 `json:"wr_operations"`
			FailedRd   int64 `json:"failed_rd_operations"`
			FailedWr   int64 `json:"failed_wr_operations"`
			FailedUnmp int64 `json:"failed_unmap_operations"`
		} `json:"stats"`
	}
	if err := exec(ctx, "query-blockstats", nil, &stats); err != nil {
		return nil, err
	}
	var out []virt.DiskDiagnostics
	for _, s := range stats {
		if s.Device == "" && s.QDev == "" {
			continue // a node no device uses
		}
		st := s.Stats
		errs := st.FailedRd + st.FailedWr + st.FailedUnmp
		out = append(out, virt.DiskDiagnostics{Name: "vd" + string(rune('a'+len(out)%26)),
			ReadBytes: &st.RdBytes, ReadRequests: &st.RdOps, WriteBytes: &st.WrBytes, WriteRequests: &st.WrOps,
			ErrorsCount: &errs})
	}
	return out, nil
}

// nicDiagnostics reads the tap's counters. What the tap receives the guest
// sent, so rx and tx swap (as libvirt reports tap interfaces).
func nicDiagnostics(n virt.NIC) virt.NICDiagnostics {
	read := func(name string) *int64 {
		b, err := os.ReadFile("/sys/class/net/" + n.TapName + "/statistics/" + name)
		if err != nil {
			return nil
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return nil
		}
		return &v
	}
	return virt.NICDiagnostics{MAC: n.MAC, Name: n.TapName,
		RxOctets: read("tx_bytes"), RxErrors: read("tx_errors"), RxDrop: read("tx_dropped"), RxPackets: read("tx_packets"),
		TxOctets: read("rx_bytes"), TxErrors: read("rx_errors"), TxDrop: read("rx_dropped"), TxPackets: read("rx_packets")}
}
