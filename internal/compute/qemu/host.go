package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"kumo/internal/compute/virt"
)

// HostInfo implements virt.Driver.
func (d *Driver) HostInfo(ctx context.Context) (virt.HostInfo, error) {
	ver, err := d.qemuVersion(ctx)
	if err != nil {
		return virt.HostInfo{}, err
	}
	memKB, err := memTotalKB()
	if err != nil {
		return virt.HostInfo{}, err
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(d.cfg.StateDir, &fs); err != nil {
		return virt.HostInfo{}, fmt.Errorf("qemu: statfs %s: %w", d.cfg.StateDir, err)
	}
	return virt.HostInfo{
		Hostname:          d.cfg.Hostname,
		HypervisorType:    "QEMU",
		HypervisorVersion: ver,
		VCPUs:             runtime.NumCPU(),
		MemoryMB:          int(memKB / 1024),
		LocalGB:           int(uint64(fs.Blocks) * uint64(fs.Bsize) / uint64(gib)),
		CPUInfo:           cpuInfo(),
	}, nil
}

var versionRE = regexp.MustCompile(`version (\d+)\.(\d+)(?:\.(\d+))?`)

// qemuVersion encodes QEMU's version as Nova does: 7.2.22 is 7002022.
func (d *Driver) qemuVersion(ctx context.Context) (int, error) {
	out, err := runTool(ctx, d.cfg.QEMUBinary, "--version")
	if err != nil {
		return 0, err
	}
	return parseVersion(string(out))
}

func parseVersion(s string) (int, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("qemu: no version in %q", s)
	}
	v := 0
	for _, p := range m[1:] {
		n, _ := strconv.Atoi(p) // a missing micro is 0
		v = v*1000 + n
	}
	return v, nil
}

func memTotalKB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("qemu: no MemTotal in /proc/meminfo")
}

// cpuInfo is os-hypervisors' cpu_info as Nova's libvirt driver fills it.
func cpuInfo() string {
	info := map[string]any{
		"arch":     runtime.GOARCH,
		"model":    "",
		"vendor":   "",
		"topology": map[string]int{"cells": 1, "sockets": 1, "cores": runtime.NumCPU(), "threads": 1},
		"features": []string{},
	}
	if runtime.GOARCH == "amd64" {
		info["arch"] = "x86_64"
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			switch k {
			case "vendor_id":
				info["vendor"] = strings.TrimPrefix(strings.TrimPrefix(v, "Genuine"), "Authentic")
			case "model name":
				info["model"] = v
			case "flags":
				fl := strings.Fields(v)
				sort.Strings(fl)
				info["features"] = fl
			}
			if k == "flags" {
				break // the first CPU tells enough
			}
		}
	}
	b, _ := json.Marshal(info)
	return string(b)
}

// Instances implements virt.Driver: every directory with a spec.json.
func (d *Driver) Instances(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(d.inst)
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(d.instance(e.Name()).path(specFile)); err == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}
