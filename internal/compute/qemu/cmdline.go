package qemu

import (
	"encoding/json"
	"strconv"
)

// launchOpts are what differs between starts of one instance.
type launchOpts struct {
	// incoming, when set, restores the guest from this saved state file
	// (resume after suspend); the guest stays paused until cont.
	incoming string
}

// commandLine builds QEMU's arguments for an instance. Sockets are given
// relative to the instance directory (QEMU's working directory while it
// starts) so that a long StateDir never overflows a unix socket address;
// everything QEMU opens after it daemonized (and chdir'ed to /) is absolute.
func (d *Driver) commandLine(in *instance, r *record, o launchOpts) []string {
	accel := "tcg,tb-size=" + strconv.Itoa(d.cfg.TBSizeMB)
	if d.accel == "kvm" {
		accel = "kvm"
	}
	args := []string{
		"-name", "guest=" + qemuOptEscape(r.Name),
		"-uuid", r.UUID,
		"-machine", "pc",
		"-accel", accel,
		"-m", strconv.Itoa(r.MemoryMB),
		"-smp", strconv.Itoa(r.VCPUs),
		"-nodefaults", "-no-user-config", "-display", "none",
		"-chardev", "socket,id=ser0,path=" + consoleSock + ",server=on,wait=off,logfile=" +
			qemuOptEscape(in.path(consoleLog)) + ",logappend=on",
		"-serial", "chardev:ser0",
		"-qmp", "unix:" + qmpSock + ",server=on,wait=off",
		"-vnc", "unix:" + vncSock,
		"-device", "virtio-rng-pci",
	}
	if d.accel == "kvm" {
		args = append(args, "-cpu", "host")
	}
	boot := 0
	if r.Rescue {
		// The rescue image boots first; the instance's own disk is second.
		args = append(args, diskArgs("rescue", in.path(rescueDisk), "qcow2", false, boot)...)
		boot++
	}
	if r.BootISO != "" {
		args = append(args, blockdev("iso", r.BootISO, "raw", true)...)
		args = append(args, "-device", "ide-cd,drive=iso,bootindex="+strconv.Itoa(boot))
		boot++
	}
	args = append(args, diskArgs("root", in.path(rootDisk), "qcow2", false, boot)...)
	if r.HasConfig {
		// virtio, read-only: Debian cloud images and the cloud kernel (no
		// ahci) both find it by its config-2 label.
		args = append(args, diskArgs("config", in.path(configDisk), "raw", true, -1)...)
	}
	for i, nic := range r.NICs {
		id := "net" + strconv.Itoa(i)
		args = append(args,
			"-netdev", "tap,id="+id+",ifname="+qemuOptEscape(nic.TapName)+",script=no,downscript=no",
			"-device", "virtio-net-pci,netdev="+id+",mac="+nic.MAC)
	}
	if o.incoming != "" {
		args = append(args, "-S", "-incoming", "exec:cat "+shellQuote(o.incoming))
	}
	args = append(args, "-daemonize", "-pidfile", in.path(pidFile))
	return args
}

// diskArgs attaches an image as a virtio disk; bootindex < 0 means none.
func diskArgs(name, path, format string, readOnly bool, bootindex int) []string {
	args := blockdev(name, path, format, readOnly)
	dev := "virtio-blk-pci,drive=" + name + ",id=" + name + "-disk"
	if bootindex >= 0 {
		dev += ",bootindex=" + strconv.Itoa(bootindex)
	}
	return append(args, "-device", dev)
}

// blockdev is a file node and a format node named name.
func blockdev(name, path, format string, readOnly bool) []string {
	file := map[string]any{"driver": "file", "filename": path, "node-name": name + "-file"}
	fmtNode := map[string]any{"driver": format, "file": name + "-file", "node-name": name}
	if readOnly {
		file["read-only"] = true
		fmtNode["read-only"] = true
	}
	fb, _ := json.Marshal(file)
	mb, _ := json.Marshal(fmtNode)
	return []string{"-blockdev", string(fb), "-blockdev", string(mb)}
}

// qemuOptEscape doubles commas, QEMU's option separator.
func qemuOptEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// shellQuote quotes s for /bin/sh (QEMU runs exec: migration URIs with it).
func shellQuote(s string) string {
	q := "'"
	for _, c := range s {
		if c == '\'' {
			q += `'\''`
		} else {
			q += string(c)
		}
	}
	return q + "'"
}

func sizeOf(gb int) int64 { return int64(gb) * gib }
