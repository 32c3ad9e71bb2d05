package qmp

import (
	"context"
	"encoding/json"
)

// Status is query-status's answer.
type Status struct {
	Status  string `json:"status"` // running, paused, inmigrate, postmigrate, shutdown, guest-panicked, ...
	Running bool   `json:"running"`
}

// QueryStatus reports the VM's run state.
func (m *Monitor) QueryStatus(ctx context.Context) (Status, error) {
	var st Status
	err := m.Execute(ctx, "query-status", nil, &st)
	return st, err
}

// Stop pauses the vCPUs (a STOP event follows).
func (m *Monitor) Stop(ctx context.Context) error { return m.Execute(ctx, "stop", nil, nil) }

// Cont resumes the vCPUs (a RESUME event follows).
func (m *Monitor) Cont(ctx context.Context) error { return m.Execute(ctx, "cont", nil, nil) }

// SystemPowerdown presses the ACPI power button.
func (m *Monitor) SystemPowerdown(ctx context.Context) error {
	return m.Execute(ctx, "system_powerdown", nil, nil)
}

// SystemReset resets the machine, as the reset button does.
func (m *Monitor) SystemReset(ctx context.Context) error {
	return m.Execute(ctx, "system_reset", nil, nil)
}

// Quit makes QEMU exit at once. The reply may be lost when QEMU closes the
// socket first, so callers wait for the process to end instead.
func (m *Monitor) Quit(ctx context.Context) error { return m.Execute(ctx, "quit", nil, nil) }

// KVM is query-kvm's answer.
type KVM struct {
	Enabled bool `json:"enabled"`
	Present bool `json:"present"`
}

// QueryKVM reports whether the guest runs under KVM.
func (m *Monitor) QueryKVM(ctx context.Context) (KVM, error) {
	var k KVM
	err := m.Execute(ctx, "query-kvm", nil, &k)
	return k, err
}

// HumanCommand runs a human monitor command and returns its text output.
func (m *Monitor) HumanCommand(ctx context.Context, cmd string) (string, error) {
	var out string
	err := m.Execute(ctx, "human-monitor-command", map[string]string{"command-line": cmd}, &out)
	return out, err
}

// Migration is query-migrate's answer (the parts kumo reads).
type Migration struct {
	Status    string `json:"status"` // setup, active, completed, failed, cancelled, ...
	ErrorDesc string `json:"error-desc"`
}

// Migrate starts an outgoing migration to uri (e.g. "exec:cat > file").
func (m *Monitor) Migrate(ctx context.Context, uri string) error {
	return m.Execute(ctx, "migrate", map[string]string{"uri": uri}, nil)
}

// QueryMigrate reports the state of the current migration.
func (m *Monitor) QueryMigrate(ctx context.Context) (Migration, error) {
	var mi Migration
	err := m.Execute(ctx, "query-migrate", nil, &mi)
	return mi, err
}

// SetMigrationBandwidth lifts QEMU's default 32 MiB/s throttle, which only
// matters across a network; a save to a local file should go at disk speed.
func (m *Monitor) SetMigrationBandwidth(ctx context.Context, bytesPerSec int64) error {
	return m.Execute(ctx, "migrate-set-parameters", map[string]int64{"max-bandwidth": bytesPerSec}, nil)
}

// BlockdevAddQcow2 opens a qcow2 file as block node nodeName (volume
// attach, step one).
func (m *Monitor) BlockdevAddQcow2(ctx context.Context, nodeName, path string, readOnly bool) error {
	return m.Execute(ctx, "blockdev-add", map[string]any{
		"driver": "qcow2", "node-name": nodeName, "read-only": readOnly,
		"file": map[string]any{"driver": "file", "filename": path, "read-only": readOnly},
	}, nil)
}

// DeviceAddVirtioBlk plugs block node drive into the guest as a virtio
// disk with device id id; serial is what the guest sees in
// /sys/block/*/serial (Nova uses the volume id).
func (m *Monitor) DeviceAddVirtioBlk(ctx context.Context, id, drive, serial string) error {
	return m.Execute(ctx, "device_add", map[string]any{
		"driver": "virtio-blk-pci", "id": id, "drive": drive, "serial": serial,
	}, nil)
}

// DeviceDel asks the guest to release device id (ACPI hotplug); the
// device is gone only once DEVICE_DELETED arrives, so subscribe first.
func (m *Monitor) DeviceDel(ctx context.Context, id string) error {
	return m.Execute(ctx, "device_del", map[string]string{"id": id}, nil)
}

// BlockdevDel closes block node nodeName, once no device uses it.
func (m *Monitor) BlockdevDel(ctx context.Context, nodeName string) error {
	return m.Execute(ctx, "blockdev-del", map[string]string{"node-name": nodeName}, nil)
}

// BlockNode is one entry of query-named-block-nodes.
type BlockNode struct {
	NodeName string `json:"node-name"`
	File     string `json:"file"`
	Driver   string `json:"drv"`
	ReadOnly bool   `json:"ro"`
}

// QueryBlockNodes lists the open block nodes.
func (m *Monitor) QueryBlockNodes(ctx context.Context) ([]BlockNode, error) {
	var nodes []BlockNode
	err := m.Execute(ctx, "query-named-block-nodes", map[string]bool{"flat": true}, &nodes)
	return nodes, err
}

// DeviceDeletedID returns the device id of a DEVICE_DELETED event.
func DeviceDeletedID(ev Event) string {
	var d struct {
		Device string `json:"device"`
	}
	json.Unmarshal(ev.Data, &d)
	return d.Device
}
