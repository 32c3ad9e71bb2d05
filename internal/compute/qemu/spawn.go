package qemu

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"kumo/internal/compute/virt"
)

// Spawn implements virt.Driver: base image into the cache, overlay root
// disk, config drive, QEMU. On error nothing of the instance is left.
func (d *Driver) Spawn(ctx context.Context, spec virt.InstanceSpec, img virt.Image) (err error) {
	if err := validSpec(spec); err != nil {
		return err
	}
	unlock, err := d.lock(ctx, spec.UUID)
	if err != nil {
		return err
	}
	defer unlock()
	in := d.instance(spec.UUID)
	if in.exists() {
		return fmt.Errorf("qemu: instance %s already exists", spec.UUID)
	}
	// A directory without spec.json is debris of a spawn that crashed.
	os.RemoveAll(in.dir)
	if err := os.Mkdir(in.dir, 0o750); err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	defer func() {
		if err != nil {
			d.kill(in)
			os.RemoveAll(in.dir)
		}
	}()
	b, err := d.cache.get(ctx, img)
	if err != nil {
		return fmt.Errorf("qemu: spawn %s: %w", spec.UUID, err)
	}
	if spec.Name == "" {
		spec.Name = spec.UUID
	}
	r := &record{InstanceSpec: spec}
	if err := d.prepareDisks(ctx, in, r, b, spec.ConfigDrive); err != nil {
		return fmt.Errorf("qemu: spawn %s: %w", spec.UUID, err)
	}
	if err := in.save(r); err != nil {
		return err
	}
	if err := d.start(ctx, in, r, launchOpts{}); err != nil {
		return err
	}
	d.log.Info("spawned guest", "instance", spec.UUID, "image", img.ID, "accel", d.accel)
	return nil
}

// prepareDisks (re)creates the root disk on base b and the config drive,
// and records them in r. An ISO boots as a CD-ROM above a blank root disk.
func (d *Driver) prepareDisks(ctx context.Context, in *instance, r *record, b base, configDrive []byte) error {
	tmp := in.path(rootDisk + ".new")
	os.Remove(tmp)
	defer os.Remove(tmp)
	if b.ISO {
		size := sizeOf(r.RootGB)
		if size == 0 {
			size = gib // an ISO has no size to keep; give the installer a disk
		}
		if err := createBlank(ctx, d.cfg.QEMUImg, tmp, size); err != nil {
			return err
		}
		r.BootISO, r.BaseFormat = b.Path, ""
	} else {
		if err := createOverlay(ctx, d.cfg.QEMUImg, tmp, b.Path, b.Format, sizeOf(r.RootGB)); err != nil {
			return err
		}
		r.BootISO, r.BaseFormat = "", b.Format
	}
	if err := os.Rename(tmp, in.path(rootDisk)); err != nil {
		return err
	}
	r.HasConfig = len(configDrive) > 0
	if !r.HasConfig {
		os.Remove(in.path(configDisk))
		return nil
	}
	return writeFileAtomic(in.path(configDisk), configDrive)
}

func validSpec(s virt.InstanceSpec) error {
	if err := validUUID(s.UUID); err != nil {
		return err
	}
	if s.VCPUs < 1 || s.VCPUs > 255 {
		return fmt.Errorf("qemu: instance %s: vcpus %d out of range", s.UUID, s.VCPUs)
	}
	if s.MemoryMB < 16 {
		return fmt.Errorf("qemu: instance %s: memory %d MiB too small", s.UUID, s.MemoryMB)
	}
	if s.RootGB < 0 {
		return fmt.Errorf("qemu: instance %s: negative root_gb", s.UUID)
	}
	for _, n := range s.NICs {
		// QEMU wants colons; ParseMAC alone would also pass dashes and dots.
		if _, err := net.ParseMAC(n.MAC); err != nil || len(n.MAC) != 17 || strings.Count(n.MAC, ":") != 5 {
			return fmt.Errorf("qemu: instance %s: bad MAC %q", s.UUID, n.MAC)
		}
		if n.TapName == "" || len(n.TapName) > 15 {
			return fmt.Errorf("qemu: instance %s: bad tap name %q", s.UUID, n.TapName)
		}
	}
	return nil
}

// Destroy implements virt.Driver: stop at once, remove everything.
func (d *Driver) Destroy(ctx context.Context, uuid string) error {
	if err := validUUID(uuid); err != nil {
		return err
	}
	unlock, err := d.lock(ctx, uuid)
	if err != nil {
		return err
	}
	defer unlock()
	in := d.instance(uuid)
	if err := d.kill(in); err != nil {
		return err
	}
	if err := os.RemoveAll(in.dir); err != nil {
		return fmt.Errorf("qemu: destroy %s: %w", uuid, err)
	}
	return nil
}

// tapsExist checks that networking created the NICs' taps. QEMU running as
// root would otherwise create a missing tap itself, attached to nothing.
func tapsExist(nics []virt.NIC) error {
	for _, n := range nics {
		if _, err := os.Stat("/sys/class/net/" + n.TapName); err != nil {
			return fmt.Errorf("tap device %s does not exist", n.TapName)
		}
	}
	return nil
}
