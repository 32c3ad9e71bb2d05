// Package virt is the contract between compute and a hypervisor driver
// (Nova's virt driver API, reduced to what kumo uses). The QEMU driver
// (internal/compute/qemu) implements it for real guests; a simulated
// driver implements it for scheduler-scale tests only.
//
// Instances are named by their UUID. A driver keeps what it needs to
// restart an instance (its InstanceSpec) on its own host, so PowerOn,
// Reboot and Resume need only the UUID, also after kumo restarts.
package virt

import (
	"context"
	"errors"
	"io"
	"time"
)

// PowerState is Nova's power_state, as reported in OS-EXT-STS:power_state.
type PowerState int

const (
	NoState   PowerState = 0 // unknown to the driver, or gone
	Running   PowerState = 1
	Paused    PowerState = 3
	Shutdown  PowerState = 4
	Crashed   PowerState = 6
	Suspended PowerState = 7
)

func (p PowerState) String() string {
	switch p {
	case Running:
		return "running"
	case Paused:
		return "paused"
	case Shutdown:
		return "shutdown"
	case Crashed:
		return "crashed"
	case Suspended:
		return "suspended"
	}
	return "nostate"
}

// ErrNotFound is returned for an instance the driver does not have.
var ErrNotFound = errors.New("virt: instance not found")

// NIC is one virtual network card, plugged into a tap device that
// networking created (virtio-net).
type NIC struct {
	MAC     string `json:"mac"`      // e.g. fa:16:3e:12:34:56
	TapName string `json:"tap_name"` // host tap device; must exist
}

// InstanceSpec is what a driver needs to run an instance. It is stored by
// the driver (as JSON) beside the instance's disk.
type InstanceSpec struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"` // e.g. instance-0000002a (QEMU -name)
	VCPUs    int    `json:"vcpus"`
	MemoryMB int    `json:"memory_mb"`
	// RootGB is the root disk size; the overlay grows to it when the image
	// is smaller. 0 keeps the image's virtual size.
	RootGB int   `json:"root_gb"`
	NICs   []NIC `json:"nics,omitempty"`
	// ConfigDrive is an ISO9660 "config-2" image (internal/compute/configdrive);
	// the driver stores it as the instance's disk.config and attaches it
	// read-only. Empty means no config drive.
	ConfigDrive []byte `json:"-"`
	HasConfig   bool   `json:"has_config_drive,omitempty"` // set by the driver
}

// Image is a Glance image the driver can fetch into its base-image cache.
type Image struct {
	ID         string
	DiskFormat string // raw, qcow2, vmdk, vdi, vhd, vhdx, iso
	Size       int64
	// Checksum (MD5) and the multihash (HashAlgo, HashValue) as Glance
	// reports them; the driver verifies what it downloads against them.
	Checksum  string
	HashAlgo  string
	HashValue string
	// Open streams the image's data (GET /v2/images/{id}/file).
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// HostInfo describes the host for os-hypervisors and the resource
// inventory.
type HostInfo struct {
	Hostname          string
	HypervisorType    string // "QEMU" (Nova reports QEMU for both kvm and tcg guests)
	HypervisorVersion int    // e.g. 7002000 for 7.2.0, as Nova encodes it
	VCPUs             int
	MemoryMB          int
	LocalGB           int
	CPUInfo           string // JSON, as os-hypervisors' cpu_info
}

// Driver is a hypervisor on one host. Every method is safe for concurrent
// use; calls for the same instance are serialised by the driver.
type Driver interface {
	HostInfo(ctx context.Context) (HostInfo, error)

	// Spawn fetches img into the cache (verified), creates the root disk as
	// an overlay on it, and starts the guest. It returns once the guest's
	// virtual machine is running (not once its OS has booted). On error
	// nothing of the instance is left behind.
	Spawn(ctx context.Context, spec InstanceSpec, img Image) error
	// Destroy stops the guest at once and removes everything of it
	// (process, disks, sockets, logs). Destroying an unknown instance is
	// not an error.
	Destroy(ctx context.Context, uuid string) error

	// PowerOff asks the guest to shut down (ACPI) and stops it hard after
	// timeout. PowerOn starts a stopped instance from its disk.
	PowerOff(ctx context.Context, uuid string, timeout time.Duration) error
	PowerOn(ctx context.Context, uuid string) error
	// Reboot: soft is a guest shutdown then a start (hard if the guest does
	// not stop within the driver's timeout); hard is a reset.
	Reboot(ctx context.Context, uuid string, hard bool) error
	Pause(ctx context.Context, uuid string) error
	Unpause(ctx context.Context, uuid string) error
	// Suspend saves the guest's memory to disk and stops its process;
	// Resume restores it.
	Suspend(ctx context.Context, uuid string) error
	Resume(ctx context.Context, uuid string) error

	// Resize applies spec's vCPUs, memory and root size to a stopped
	// instance (the disk only grows); the caller powers it on afterwards.
	// RevertResize puts back the spec (not the disk) from before the last
	// Resize.
	Resize(ctx context.Context, spec InstanceSpec) error
	RevertResize(ctx context.Context, uuid string) error
	// Rebuild replaces the root disk with a fresh overlay on img (and the
	// config drive with spec's), keeping the instance's identity, and
	// leaves it running.
	Rebuild(ctx context.Context, spec InstanceSpec, img Image) error
	// Rescue boots the instance from img with its own root disk attached
	// as the second disk; Unrescue boots it from its own disk again.
	Rescue(ctx context.Context, uuid string, img Image) error
	Unrescue(ctx context.Context, uuid string) error

	// Snapshot writes the root disk, flattened (no backing file), to w as
	// qcow2. The guest is paused while the disk is copied.
	Snapshot(ctx context.Context, uuid string, w io.Writer) error

	PowerState(ctx context.Context, uuid string) (PowerState, error)
	// ConsoleOutput is the tail of the serial console log (all of it when
	// lines <= 0), with terminal escape sequences removed.
	ConsoleOutput(ctx context.Context, uuid string, lines int) (string, error)
	// Instances lists the UUIDs of every instance the driver holds on this
	// host (running or not), for reconciliation at start-up.
	Instances(ctx context.Context) ([]string, error)
	// Diagnostics reports a running instance's state and counters (Nova's
	// get_instance_diagnostics).
	Diagnostics(ctx context.Context, uuid string) (Diagnostics, error)
}

// Diagnostics is Nova's standard diagnostics object (server diagnostics
// from microversion 2.48). A nil counter is one the driver cannot read.
type Diagnostics struct {
	State        PowerState
	Driver       string // Nova's driver name: libvirt for QEMU guests
	Hypervisor   string // e.g. qemu or kvm
	HypervisorOS string // e.g. linux
	Uptime       *int64 // seconds since the guest's process started
	ConfigDrive  bool
	MemoryMaxMB  *int64
	MemoryUsedMB *int64
	CPUs         []CPUDiagnostics
	NICs         []NICDiagnostics
	Disks        []DiskDiagnostics
}

// CPUDiagnostics is one vCPU; Time is in nanoseconds.
type CPUDiagnostics struct {
	ID          int
	Time        *int64
	Utilisation *int64
}

// NICDiagnostics is one NIC's counters, seen from the guest.
type NICDiagnostics struct {
	MAC                                   string
	Name                                  string // host device (tap)
	RxOctets, RxErrors, RxDrop, RxPackets *int64
	TxOctets, TxErrors, TxDrop, TxPackets *int64
	RxRate, TxRate                        *int64
}

// DiskDiagnostics is one disk's counters; Name is its guest device (vda).
type DiskDiagnostics struct {
	Name                      string
	ReadBytes, ReadRequests   *int64
	WriteBytes, WriteRequests *int64
	ErrorsCount               *int64
}
