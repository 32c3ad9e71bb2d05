// Package simulated is an in-memory virt.Driver: a SIMULATION for
// scheduler-scale tests and benchmarks only. No guest runs; each instance
// is a record that obeys the state rules a real hypervisor does (a stopped
// instance cannot be paused, a disk cannot shrink...), and its console
// says plainly that it is simulated. `kumo up` never uses it unless the
// configuration asks for it explicitly.
package simulated

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"kumo/internal/compute/virt"
)

// Config configures the simulation.
type Config struct {
	// Host is what HostInfo reports; zero fields get defaults (a 64-vCPU,
	// 256 GiB, 2 TB host named sim-host).
	Host virt.HostInfo
}

// Driver is the simulated hypervisor. It is safe for concurrent use.
type Driver struct {
	host virt.HostInfo

	mu     sync.Mutex
	insts  map[string]*instance
	faults []*injected
	delays map[Op]time.Duration
}

type instance struct {
	spec    virt.InstanceSpec
	old     *virt.InstanceSpec // spec before the last Resize
	imageID string
	power   virt.PowerState
	rescued bool
	boots   int
	console []string
}

var _ virt.Driver = (*Driver)(nil)

// New returns an empty simulated host.
func New(cfg Config) *Driver {
	h := cfg.Host
	if h.Hostname == "" {
		h.Hostname = "sim-host"
	}
	if h.HypervisorType == "" {
		h.HypervisorType = "QEMU"
	}
	if h.HypervisorVersion == 0 {
		h.HypervisorVersion = 7002000
	}
	if h.VCPUs == 0 {
		h.VCPUs = 64
	}
	if h.MemoryMB == 0 {
		h.MemoryMB = 256 * 1024
	}
	if h.LocalGB == 0 {
		h.LocalGB = 2000
	}
	if h.CPUInfo == "" {
		h.CPUInfo = `{"arch": "x86_64", "model": "simulated", "vendor": "kumo", "topology": {"cells": 1, "sockets": 1, "cores": ` +
			fmt.Sprint(h.VCPUs) + `, "threads": 1}, "features": []}`
	}
	return &Driver{host: h, insts: map[string]*instance{}, delays: map[Op]time.Duration{}}
}

// HostInfo reports the configured host.
func (d *Driver) HostInfo(ctx context.Context) (virt.HostInfo, error) {
	if err := d.enter(ctx, OpHostInfo, ""); err != nil {
		return virt.HostInfo{}, err
	}
	return d.host, nil
}

// errState is the error for an operation the instance's state forbids.
func errState(op Op, uuid string, p virt.PowerState) error {
	return fmt.Errorf("simulated: cannot %s instance %s while it is %s", op, uuid, p)
}

// with runs fn on an existing instance under the lock.
func (d *Driver) with(ctx context.Context, op Op, uuid string, fn func(in *instance) error) error {
	if err := d.enter(ctx, op, uuid); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.insts[uuid]
	if !ok {
		return fmt.Errorf("simulated: %s %s: %w", op, uuid, virt.ErrNotFound)
	}
	return fn(in)
}

// boot starts the simulated guest and writes its marker line.
func (in *instance) boot() {
	in.power = virt.Running
	in.boots++
	hostname := in.spec.Name
	if hostname == "" {
		hostname = "none"
	}
	disk := "root"
	if in.rescued {
		disk = "rescue"
	}
	in.print(
		fmt.Sprintf("[simulated] kumo simulated driver: no real guest runs; boot %d from the %s disk", in.boots, disk),
		fmt.Sprintf("KUMO-GUEST-READY instance-id=%s hostname=%s boot=%d mem_kb=%d cpus=%d ip=none uptime=0 simulated=1",
			in.spec.UUID, hostname, in.boots, in.spec.MemoryMB*1024, in.spec.VCPUs))
}

// maxConsoleLines bounds an instance's console: a simulated cloud runs for
// long with many instances, and every boot adds lines.
const maxConsoleLines = 1000

// print appends lines to the console, dropping the oldest past the bound.
func (in *instance) print(lines ...string) {
	in.console = append(in.console, lines...)
	if n := len(in.console) - maxConsoleLines; n > 0 {
		in.console = append(in.console[:0], in.console[n:]...)
	}
}

func (in *instance) stop(why string) {
	in.power = virt.Shutdown
	in.print("[simulated] " + why)
}

// Spawn reads and verifies the image, as a real driver fetching it into
// its cache, and starts the instance.
func (d *Driver) Spawn(ctx context.Context, spec virt.InstanceSpec, img virt.Image) error {
	if spec.UUID == "" || spec.VCPUs <= 0 || spec.MemoryMB <= 0 || spec.RootGB < 0 {
		return fmt.Errorf("simulated: spawn: spec needs a uuid, vcpus and memory, and a root size of 0 or more")
	}
	if err := d.enter(ctx, OpSpawn, spec.UUID); err != nil {
		return err
	}
	if err := fetch(ctx, img); err != nil {
		return fmt.Errorf("simulated: spawn %s: %w", spec.UUID, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.insts[spec.UUID]; ok {
		return fmt.Errorf("simulated: spawn: instance %s already exists", spec.UUID)
	}
	spec.HasConfig = len(spec.ConfigDrive) > 0
	spec.ConfigDrive = nil
	in := &instance{spec: spec, imageID: img.ID}
	in.boot()
	d.insts[spec.UUID] = in
	return nil
}

// Destroy forgets the instance; an unknown one is not an error.
func (d *Driver) Destroy(ctx context.Context, uuid string) error {
	if err := d.enter(ctx, OpDestroy, uuid); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.insts, uuid)
	d.mu.Unlock()
	return nil
}

// PowerOff stops a running, paused, crashed or suspended instance (a
// suspended one loses its saved memory); stopping a stopped one is a
// no-op.
func (d *Driver) PowerOff(ctx context.Context, uuid string, timeout time.Duration) error {
	return d.with(ctx, OpPowerOff, uuid, func(in *instance) error {
		if in.power != virt.Shutdown {
			in.stop("power off")
		}
		return nil
	})
}

// PowerOn starts a stopped or crashed instance.
func (d *Driver) PowerOn(ctx context.Context, uuid string) error {
	return d.with(ctx, OpPowerOn, uuid, func(in *instance) error {
		if in.power != virt.Shutdown && in.power != virt.Crashed {
			return errState(OpPowerOn, uuid, in.power)
		}
		in.boot()
		return nil
	})
}

// Reboot restarts a running instance (hard also a paused one).
func (d *Driver) Reboot(ctx context.Context, uuid string, hard bool) error {
	return d.with(ctx, OpReboot, uuid, func(in *instance) error {
		if in.power != virt.Running && !(hard && in.power == virt.Paused) {
			return errState(OpReboot, uuid, in.power)
		}
		in.print(fmt.Sprintf("[simulated] reboot (hard=%t)", hard))
		in.boot()
		return nil
	})
}

func (d *Driver) transition(ctx context.Context, op Op, uuid string, from []virt.PowerState, to virt.PowerState) error {
	return d.with(ctx, op, uuid, func(in *instance) error {
		if !slices.Contains(from, in.power) {
			return errState(op, uuid, in.power)
		}
		in.power = to
		in.print("[simulated] " + string(op))
		return nil
	})
}

// Pause pauses a running instance.
func (d *Driver) Pause(ctx context.Context, uuid string) error {
	return d.transition(ctx, OpPause, uuid, []virt.PowerState{virt.Running}, virt.Paused)
}

// Unpause resumes a paused instance.
func (d *Driver) Unpause(ctx context.Context, uuid string) error {
	return d.transition(ctx, OpUnpause, uuid, []virt.PowerState{virt.Paused}, virt.Running)
}

// Suspend saves a running or paused instance.
func (d *Driver) Suspend(ctx context.Context, uuid string) error {
	return d.transition(ctx, OpSuspend, uuid, []virt.PowerState{virt.Running, virt.Paused}, virt.Suspended)
}

// Resume restores a suspended instance.
func (d *Driver) Resume(ctx context.Context, uuid string) error {
	return d.transition(ctx, OpResume, uuid, []virt.PowerState{virt.Suspended}, virt.Running)
}

// Resize applies spec's size to a stopped instance; the disk only grows.
func (d *Driver) Resize(ctx context.Context, spec virt.InstanceSpec) error {
	return d.with(ctx, OpResize, spec.UUID, func(in *instance) error {
		if in.power != virt.Shutdown {
			return errState(OpResize, spec.UUID, in.power)
		}
		if spec.RootGB < in.spec.RootGB {
			return fmt.Errorf("simulated: resize %s: the root disk cannot shrink from %d GB to %d GB",
				spec.UUID, in.spec.RootGB, spec.RootGB)
		}
		old := in.spec
		in.old = &old
		in.spec.VCPUs, in.spec.MemoryMB, in.spec.RootGB = spec.VCPUs, spec.MemoryMB, spec.RootGB
		return nil
	})
}

// RevertResize puts back the vCPUs and memory from before the last Resize
// of a stopped instance; the disk keeps its grown size.
func (d *Driver) RevertResize(ctx context.Context, uuid string) error {
	return d.with(ctx, OpRevertResize, uuid, func(in *instance) error {
		if in.old == nil {
			return fmt.Errorf("simulated: revert resize %s: it was never resized", uuid)
		}
		if in.power != virt.Shutdown {
			return errState(OpRevertResize, uuid, in.power)
		}
		in.spec.VCPUs, in.spec.MemoryMB = in.old.VCPUs, in.old.MemoryMB
		return nil
	})
}

// Rebuild gives the instance a fresh root disk from img and boots it.
func (d *Driver) Rebuild(ctx context.Context, spec virt.InstanceSpec, img virt.Image) error {
	if err := fetch(ctx, img); err != nil {
		return fmt.Errorf("simulated: rebuild %s: %w", spec.UUID, err)
	}
	return d.with(ctx, OpRebuild, spec.UUID, func(in *instance) error {
		if in.rescued {
			return fmt.Errorf("simulated: rebuild %s: instance is rescued", spec.UUID)
		}
		in.imageID = img.ID
		in.spec.HasConfig = len(spec.ConfigDrive) > 0
		in.stop("rebuild: root disk replaced")
		in.boot()
		return nil
	})
}

// Rescue boots a running or stopped instance from img.
func (d *Driver) Rescue(ctx context.Context, uuid string, img virt.Image) error {
	if err := fetch(ctx, img); err != nil {
		return fmt.Errorf("simulated: rescue %s: %w", uuid, err)
	}
	return d.with(ctx, OpRescue, uuid, func(in *instance) error {
		if in.rescued {
			return fmt.Errorf("simulated: rescue %s: already rescued", uuid)
		}
		if in.power != virt.Running && in.power != virt.Shutdown && in.power != virt.Crashed {
			return errState(OpRescue, uuid, in.power)
		}
		in.rescued = true
		in.boot()
		return nil
	})
}

// Unrescue boots a rescued instance from its own disk again.
func (d *Driver) Unrescue(ctx context.Context, uuid string) error {
	return d.with(ctx, OpUnrescue, uuid, func(in *instance) error {
		if !in.rescued {
			return fmt.Errorf("simulated: unrescue %s: not rescued", uuid)
		}
		in.rescued = false
		in.boot()
		return nil
	})
}

// Snapshot writes an empty, valid qcow2 image of the root disk's size:
// the simulation has no disk content to copy.
func (d *Driver) Snapshot(ctx context.Context, uuid string, w io.Writer) error {
	var size int64
	err := d.with(ctx, OpSnapshot, uuid, func(in *instance) error {
		size = int64(in.spec.RootGB) << 30
		if size>>30 != int64(in.spec.RootGB) {
			return fmt.Errorf("simulated: snapshot %s: root disk of %d GB is too large", uuid, in.spec.RootGB)
		}
		if size == 0 {
			size = 1 << 30
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeEmptyQcow2(w, size)
}

// PowerState reports the instance's state; an unknown one is NoState with
// ErrNotFound.
func (d *Driver) PowerState(ctx context.Context, uuid string) (virt.PowerState, error) {
	p := virt.NoState
	err := d.with(ctx, OpPowerState, uuid, func(in *instance) error {
		p = in.power
		return nil
	})
	return p, err
}

// ConsoleOutput returns the simulated console's last lines.
func (d *Driver) ConsoleOutput(ctx context.Context, uuid string, lines int) (string, error) {
	var out string
	err := d.with(ctx, OpConsoleOutput, uuid, func(in *instance) error {
		c := in.console
		if lines > 0 && len(c) > lines {
			c = c[len(c)-lines:]
		}
		out = strings.Join(c, "\n") + "\n"
		return nil
	})
	return out, err
}

// Instances lists every instance the simulated host holds.
func (d *Driver) Instances(ctx context.Context) ([]string, error) {
	if err := d.enter(ctx, OpInstances, ""); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.insts))
	for id := range d.insts {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// Spec returns the spec the simulation holds for an instance (tests check
// resizes with it).
func (d *Driver) Spec(uuid string) (virt.InstanceSpec, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.insts[uuid]
	if !ok {
		return virt.InstanceSpec{}, false
	}
	return in.spec, true
}

// Rescued reports whether an instance runs from its rescue image.
func (d *Driver) Rescued(uuid string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.insts[uuid]
	return ok && in.rescued
}

// SetPowerState changes an instance's power state behind compute's back,
// as a guest shutting itself down or crashing would (reconcile tests).
func (d *Driver) SetPowerState(uuid string, p virt.PowerState) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.insts[uuid]
	if !ok {
		return virt.ErrNotFound
	}
	in.power = p
	in.print("[simulated] power state set to " + p.String())
	return nil
}

// errInjected marks failures the test injected.
var errInjected = errors.New("simulated: injected failure")
