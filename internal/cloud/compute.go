package cloud

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kumo/internal/compute"
	"kumo/internal/compute/manager"
	"kumo/internal/compute/qemu"
	"kumo/internal/compute/scheduler"
	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
	"kumo/internal/placement"
	"kumo/internal/platform/config"
)

// computeHost is one compute host run by this process: its driver, its
// manager and its resource provider.
type computeHost struct {
	name     string
	provider string // placement resource provider uuid
	driver   virt.Driver
	manager  *manager.Manager
	// hvVersion is the hypervisor version HostInfo reported at start.
	hvVersion int
}

// computeParts is what startCompute builds beside the compute API.
type computeParts struct {
	placement *placement.Store
	registry  *compute.ServiceRegistry
	hosts     []*computeHost
	qemu      *qemu.Driver // nil with the simulated driver
	// hvVersions is each host's hypervisor version, for the scheduler.
	hvVersions map[string]int
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// providerUUID is a compute node's resource provider: stable for a host
// name, so a restart finds its inventory and allocations again.
func providerUUID(host string) string {
	h := sha1.Sum([]byte("kumo compute node " + host))
	h[6] = h[6]&0x0f | 0x50 // version 5
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// startCompute opens placement, the compute API, the hypervisor hosts
// (real QEMU, or simulated ones when configured) with their managers and
// the scheduler, and wires them together.
func (c *Cloud) startCompute(ctx context.Context, glance *glanceClient) error {
	cc := c.cfg.Compute
	p := &computeParts{registry: compute.NewServiceRegistry(c.db)}
	c.compute = p
	var err error
	if p.placement, err = placement.Open(ctx, c.db); err != nil {
		return err
	}
	c.Compute, err = compute.New(ctx, compute.Config{DataDir: c.cfg.DataDir, PolicyFile: cc.PolicyFile,
		IdentityURL: c.IdentityURL, PublicURL: c.computeRoot, Limits: c.Identity, LimitRegion: "RegionOne",
		Projects: c.Identity, Hosts: p.registry, ImageURL: c.ImageURL}, c.db, c.Identity, c.log)
	if err != nil {
		return err
	}
	stateDir := filepath.Join(c.cfg.DataDir, "compute")
	switch cc.Driver {
	case "qemu":
		d, err := qemu.New(qemu.Config{StateDir: stateDir, CacheDir: stateDir, Accel: cc.Accel, QEMUBinary: cc.QEMUBinary, Log: c.log})
		if err != nil {
			return err
		}
		p.qemu = d
		info, err := d.HostInfo(ctx)
		if err != nil {
			return err
		}
		p.hosts = append(p.hosts, &computeHost{name: info.Hostname, driver: d})
	case "simulated":
		// A simulation for scheduler-scale tests and benchmarks: nothing runs.
		c.log.Warn("compute: simulated hosts, no guest will run", "hosts", cc.SimulatedHosts)
		for i := range max(cc.SimulatedHosts, 1) {
			name := fmt.Sprintf("sim-host-%04d", i)
			p.hosts = append(p.hosts, &computeHost{name: name,
				driver: simulated.New(simulated.Config{Host: virt.HostInfo{Hostname: name}})})
		}
	}
	claims := c.Compute.PlacementClaims(p.placement)
	deps := compute.Deps{Hosts: map[string]compute.ComputeHost{}, Claims: claims, Images: glance}
	for _, h := range p.hosts {
		h.provider = providerUUID(h.name)
		if err := p.setInventory(ctx, h, cc); err != nil {
			return err
		}
		if err := p.registry.RegisterService(ctx, h.name, "nova-compute", ""); err != nil {
			return err
		}
		h.manager = manager.New(h.driver, c.Compute.InstanceStore(), glance, claims, manager.Config{Host: h.name,
			MaxConcurrentBuilds: cc.MaxConcurrentBuilds, SnapshotDir: filepath.Join(stateDir, "snapshots"),
			ShelvedOffloadTime: time.Duration(cc.ShelvedOffloadTime) * time.Second, Log: c.log})
		deps.Hosts[h.name] = compute.ComputeHost{Manager: h.manager, Driver: h.driver}
	}
	if err := os.MkdirAll(filepath.Join(stateDir, "snapshots"), 0o700); err != nil {
		return err
	}
	for _, binary := range []string{"nova-scheduler", "nova-conductor"} {
		if err := p.registry.RegisterService(ctx, "kumo", binary, "internal"); err != nil {
			return err
		}
	}
	byName := map[string]string{}
	p.hvVersions = map[string]int{}
	for _, h := range p.hosts {
		byName[h.name] = h.provider
		p.hvVersions[h.name] = h.hvVersion
	}
	deps.Scheduler = scheduler.New(compute.SchedulerHosts{Registry: p.registry, Provider: func(host string) string { return byName[host] },
		Describe: p.describeHost, Static: true}, p.placement, scheduler.Config{Weigher: cc.Weigher})
	var dh []compute.DriverHost
	for _, h := range p.hosts {
		dh = append(dh, compute.DriverHost{Host: h.name, ProviderUUID: h.provider, HostIP: "127.0.0.1", Driver: h.driver,
			Uptime: func(context.Context) (string, error) { return compute.LocalUptime(time.Now()) }})
	}
	p.registry.Hypervisors = c.Compute.DriverHypervisors(dh, p.placement.Usages)
	p.registry.ComputeDeleted = func(ctx context.Context, host string) error {
		if rp := byName[host]; rp != "" {
			return p.placement.DeleteProvider(ctx, rp)
		}
		return nil
	}
	c.Compute.UseCompute(deps)
	for _, h := range p.hosts {
		if err := h.manager.Reconcile(ctx); err != nil {
			return fmt.Errorf("compute: reconcile %s: %w", h.name, err)
		}
	}
	hb, stop := context.WithCancel(context.Background())
	p.stop = stop
	p.wg.Add(1)
	go p.heartbeat(hb, c)
	return nil
}

// setInventory publishes a host's resources to placement with the
// configured allocation ratios (Nova's resource tracker).
func (p *computeParts) setInventory(ctx context.Context, h *computeHost, cc config.Compute) error {
	info, err := h.driver.HostInfo(ctx)
	if err != nil {
		return err
	}
	h.hvVersion = info.HypervisorVersion
	inv := map[string]placement.Inventory{
		"VCPU":      {Total: int64(info.VCPUs), AllocationRatio: cc.CPUAllocationRatio},
		"MEMORY_MB": {Total: int64(info.MemoryMB), Reserved: int64(min(cc.ReservedHostMemMB, info.MemoryMB)), AllocationRatio: cc.RAMAllocationRatio},
		"DISK_GB":   {Total: int64(max(info.LocalGB, 1)), AllocationRatio: cc.DiskAllocationRatio},
	}
	return p.placement.SetInventory(ctx, h.provider, h.name, inv)
}

// heartbeat keeps the compute services up (Nova's report_interval, 10 s).
func (p *computeParts) heartbeat(ctx context.Context, c *Cloud) {
	defer p.wg.Done()
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// One write for every host: beaten one by one, a thousand
		// simulated hosts each waited for a commit.
		names := make([]string, len(p.hosts))
		for i, h := range p.hosts {
			names[i] = h.name
		}
		if err := p.registry.HeartbeatAll(ctx, names, "nova-compute"); err != nil && ctx.Err() == nil {
			c.log.Warn("compute: heartbeat", "err", err)
		}
		for _, binary := range []string{"nova-scheduler", "nova-conductor"} {
			_ = p.registry.Heartbeat(ctx, "kumo", binary)
		}
	}
}

// close stops the heartbeats and waits for running instance actions; the
// guests themselves keep running.
func (p *computeParts) close(ctx context.Context) {
	if p == nil {
		return
	}
	if p.stop != nil {
		p.stop()
		p.wg.Wait()
	}
	for _, h := range p.hosts {
		if h.manager != nil {
			_ = h.manager.Close(ctx)
		}
	}
	if p.qemu != nil {
		_ = p.qemu.Close()
	}
	if p.placement != nil {
		_ = p.placement.Close()
	}
}

// computeReady is the URL waitReady polls for compute.
func computeReady(root string) string { return root + "/v2.1/" }

// closeCompute lets running instance actions finish, for at most 30 s.
func (c *Cloud) closeCompute() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.compute.close(ctx)
	c.compute = nil
}

// describeHost tells the scheduler what a host's hypervisor runs, as Nova's
// libvirt driver reports it, so the ImagePropertiesFilter can match an
// image's hw_architecture, img_hv_type and hw_vm_mode: x86_64 HVM guests
// under QEMU, and under KVM too when the host really uses it.
func (p *computeParts) describeHost(_ context.Context, h *scheduler.Host) error {
	h.HypervisorType = "QEMU"
	h.HypervisorVersion = p.hvVersions[h.Name]
	// Shared, read-only slices: the scheduler describes every host on
	// every request.
	h.SupportedInstances = qemuInstances[:1:1]
	if p.qemu != nil && p.qemu.Accel() == "kvm" {
		h.SupportedInstances = qemuInstances
	}
	return nil
}

// qemuInstances is what QEMU runs: x86_64 HVM guests, and under KVM too
// when the host uses it (the second entry).
var qemuInstances = []scheduler.InstanceType{
	{Architecture: "x86_64", HypervisorType: "qemu", VMMode: "hvm"},
	{Architecture: "x86_64", HypervisorType: "kvm", VMMode: "hvm"},
}

// ImageStatus implements the servers API's one-lookup image check: a
// create reads the image once (Image), and only an image that is not
// active (rare: the create is refused) costs a second GET for its status.
func (g *glanceClient) ImageStatus(ctx context.Context, projectID, imageID string) (manager.ImageInfo, string, error) {
	info, err := g.Image(ctx, projectID, imageID)
	if err == nil {
		return info, "active", nil
	}
	if errors.Is(err, compute.ErrImageNotFound) {
		return manager.ImageInfo{}, "", err
	}
	status, serr := g.Status(ctx, projectID, imageID)
	if serr != nil {
		return manager.ImageInfo{}, "", serr
	}
	if status == "active" { // it became active between the two reads
		return manager.ImageInfo{}, "", err
	}
	return manager.ImageInfo{}, status, nil
}
