package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"kumo/internal/compute/qemu/qmp"
	"kumo/internal/compute/virt"
)

// Files of an instance directory.
const (
	specFile     = "spec.json"
	rootDisk     = "disk.qcow2"
	configDisk   = "disk.config"
	rescueDisk   = "disk.rescue"
	qmpSock      = "qmp.sock"
	consoleSock  = "console.sock"
	vncSock      = "vnc.sock"
	consoleLog   = "console.log"
	pidFile      = "qemu.pid"
	qemuLog      = "qemu.log" // QEMU's stderr while it starts
	suspendState = "suspend.state"
)

// record is spec.json: the instance's spec plus what the driver needs to
// start it again.
type record struct {
	virt.InstanceSpec
	BaseFormat string `json:"base_format,omitempty"` // format of the backing image
	// BootISO is the cached ISO the instance boots from (iso images),
	// attached as a CD-ROM before the root disk.
	BootISO string `json:"boot_iso,omitempty"`
	// Rescue is set while the instance boots from disk.rescue.
	Rescue bool `json:"rescue,omitempty"`
	// Previous is the spec before the last Resize, for RevertResize.
	Previous *virt.InstanceSpec `json:"previous,omitempty"`
}

// instance is an instance directory.
type instance struct {
	uuid string
	dir  string
}

func (d *Driver) instance(uuid string) *instance {
	return &instance{uuid: uuid, dir: filepath.Join(d.inst, uuid)}
}

func (in *instance) path(name string) string { return filepath.Join(in.dir, name) }

func (in *instance) exists() bool {
	_, err := os.Stat(in.path(specFile))
	return err == nil
}

// validUUID keeps instance names from escaping the instances directory.
func validUUID(s string) error {
	if s == "" || len(s) > 64 || strings.ContainsAny(s, "/\\\x00") || s == "." || s == ".." {
		return fmt.Errorf("qemu: invalid instance uuid %q", s)
	}
	return nil
}

func (in *instance) load() (*record, error) {
	b, err := os.ReadFile(in.path(specFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, virt.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("qemu: %s: %w", in.path(specFile), err)
	}
	return &r, nil
}

// save writes spec.json durably (temp file, fsync, rename, fsync of the
// directory).
func (in *instance) save(r *record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(in.path(specFile), b)
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("qemu: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("qemu: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	// Without this the rename may not survive a power loss: a spawned
	// instance would lose its spec.json and count as debris.
	if err := syncFile(filepath.Dir(path)); err != nil {
		return fmt.Errorf("qemu: sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}

// pid returns the QEMU process of the instance and whether it is alive.
// The pid file alone is not trusted: the process must be a QEMU started
// with this instance's -uuid (pids are reused), and not a zombie (the
// daemonized QEMU is reparented to a pid 1 that may not reap it).
func (in *instance) pid() (int, bool) {
	b, err := os.ReadFile(in.path(pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, processIsGuest(pid, in.uuid)
}

func processIsGuest(pid int, uuid string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("\x00-uuid\x00"+uuid+"\x00")) {
		return false
	}
	return !processIsZombie(pid)
}

func processIsZombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	// The state follows the parenthesised command name, which may itself
	// contain spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	return stat[i+2] == 'Z' || stat[i+2] == 'X'
}

// maxSockPath is sun_path's size on Linux less the terminating NUL.
const maxSockPath = 107

// dialQMP connects to a QMP socket. A path too long for a unix socket
// address is reached through /proc/self/fd of its opened directory.
func dialQMP(ctx context.Context, path string) (*qmp.Monitor, error) {
	if len(path) <= maxSockPath {
		return qmp.Dial(ctx, path)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	defer dir.Close()
	return qmp.Dial(ctx, fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)))
}
