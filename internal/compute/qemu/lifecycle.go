package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"kumo/internal/compute/virt"
)

// Resize implements virt.Driver on a stopped instance: new vCPUs, memory
// and root size (the disk only grows). The old spec is kept for
// RevertResize.
func (d *Driver) Resize(ctx context.Context, spec virt.InstanceSpec) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	return d.withInstance(ctx, spec.UUID, func(in *instance, r *record) error {
		if _, alive := in.pid(); alive {
			return fmt.Errorf("qemu: resize %s: power it off first", spec.UUID)
		}
		if err := growDisk(ctx, d.cfg.QEMUImg, in.path(rootDisk), sizeOf(spec.RootGB)); err != nil {
			return fmt.Errorf("qemu: resize %s: %w", spec.UUID, err)
		}
		prev := r.InstanceSpec
		r.Previous = &prev
		r.VCPUs, r.MemoryMB, r.RootGB = spec.VCPUs, spec.MemoryMB, spec.RootGB
		return in.save(r)
	})
}

// RevertResize implements virt.Driver: the spec from before the last
// Resize applies from the instance's next start; the disk keeps its size.
func (d *Driver) RevertResize(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if r.Previous == nil {
			return fmt.Errorf("qemu: revert resize %s: no resize to revert", uuid)
		}
		p := r.Previous
		r.VCPUs, r.MemoryMB, r.RootGB = p.VCPUs, p.MemoryMB, p.RootGB
		r.Previous = nil
		return in.save(r)
	})
}

// Rebuild implements virt.Driver: the old root disk is thrown away, so the
// guest is stopped hard; the new disk and config drive replace the old
// ones only once they are complete.
func (d *Driver) Rebuild(ctx context.Context, spec virt.InstanceSpec, img virt.Image) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	return d.withInstance(ctx, spec.UUID, func(in *instance, r *record) error {
		b, err := d.cache.get(ctx, img)
		if err != nil {
			return fmt.Errorf("qemu: rebuild %s: %w", spec.UUID, err)
		}
		if err := d.kill(in); err != nil {
			return err
		}
		os.Remove(in.path(suspendState))
		nr := &record{InstanceSpec: spec, Previous: r.Previous}
		if err := d.prepareDisks(ctx, in, nr, b, spec.ConfigDrive); err != nil {
			return fmt.Errorf("qemu: rebuild %s: %w", spec.UUID, err)
		}
		if err := in.save(nr); err != nil {
			return err
		}
		// Only now does no record name the rescue disk any more.
		os.Remove(in.path(rescueDisk))
		return d.start(ctx, in, nr, launchOpts{})
	})
}

// Rescue implements virt.Driver: the guest is shut down (cleanly when it
// cooperates) and booted from an overlay on img, with its own root disk
// second.
func (d *Driver) Rescue(ctx context.Context, uuid string, img virt.Image) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if r.Rescue {
			return fmt.Errorf("qemu: instance %s is already in rescue", uuid)
		}
		b, err := d.cache.get(ctx, img)
		if err != nil {
			return fmt.Errorf("qemu: rescue %s: %w", uuid, err)
		}
		if b.ISO {
			return fmt.Errorf("qemu: rescue %s: an iso cannot be a rescue disk", uuid)
		}
		if err := d.shutdown(ctx, in, d.cfg.ShutdownTimeout); err != nil {
			return err
		}
		os.Remove(in.path(suspendState))
		if err := createOverlay(ctx, d.cfg.QEMUImg, in.path(rescueDisk), b.Path, b.Format, 0); err != nil {
			return fmt.Errorf("qemu: rescue %s: %w", uuid, err)
		}
		r.Rescue = true
		if err := in.save(r); err != nil {
			os.Remove(in.path(rescueDisk))
			return err
		}
		if err := d.start(ctx, in, r, launchOpts{}); err != nil {
			// Put the instance back as it was, shut off on its own disk.
			r.Rescue = false
			in.save(r)
			os.Remove(in.path(rescueDisk))
			return err
		}
		return nil
	})
}

// Unrescue implements virt.Driver: the rescue guest is stopped, its
// overlay removed, and the instance boots from its own disk.
func (d *Driver) Unrescue(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if !r.Rescue {
			return fmt.Errorf("qemu: instance %s is not in rescue", uuid)
		}
		if err := d.kill(in); err != nil {
			return err
		}
		r.Rescue = false
		if err := in.save(r); err != nil {
			return err
		}
		os.Remove(in.path(rescueDisk))
		return d.start(ctx, in, r, launchOpts{})
	})
}

// Snapshot implements virt.Driver: the guest is paused (QEMU flushes its
// disk caches on stop) while its overlay chain is flattened into a new
// qcow2, then runs again while the copy streams to w.
func (d *Driver) Snapshot(ctx context.Context, uuid string, w io.Writer) error {
	var f *os.File
	err := d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		tmp := in.path("snapshot.tmp")
		os.Remove(tmp)
		defer os.Remove(tmp) // f keeps the data readable once opened
		if _, alive := in.pid(); alive {
			m, err := d.monitor(ctx, in)
			if err != nil {
				return err
			}
			st, err := m.QueryStatus(ctx)
			if err != nil {
				return err
			}
			if st.Running {
				if err := m.Stop(ctx); err != nil {
					return err
				}
				defer func() {
					cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					if err := m.Cont(cctx); err != nil {
						d.log.Error("cannot resume guest after snapshot", "instance", uuid, "err", err)
					}
				}()
			}
		}
		// -U: QEMU holds the image lock; the paused guest writes nothing.
		if _, err := runTool(ctx, d.cfg.QEMUImg, "convert", "-U", "-q", "-f", "qcow2", "-O", "qcow2",
			in.path(rootDisk), tmp); err != nil {
			return err
		}
		var err error
		f, err = os.Open(tmp)
		return err
	})
	if err != nil {
		if errors.Is(err, virt.ErrNotFound) {
			return err
		}
		return fmt.Errorf("qemu: snapshot %s: %w", uuid, err)
	}
	defer f.Close()
	if _, err := io.Copy(w, ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("qemu: snapshot %s: %w", uuid, err)
	}
	return nil
}
