package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"kumo/internal/compute/qemu/qmp"
	"kumo/internal/compute/virt"
)

// acpiRetry is how often the power button is pressed again while waiting
// for a guest to shut down: a guest still booting may miss the first press.
const acpiRetry = 10 * time.Second

// withInstance runs fn on an existing instance under its lock.
func (d *Driver) withInstance(ctx context.Context, uuid string, fn func(in *instance, r *record) error) error {
	if err := validUUID(uuid); err != nil {
		return err
	}
	unlock, err := d.lock(ctx, uuid)
	if err != nil {
		return err
	}
	defer unlock()
	in := d.instance(uuid)
	r, err := in.load()
	if err != nil {
		return err
	}
	return fn(in, r)
}

// PowerOff implements virt.Driver. A timeout <= 0 stops the guest hard at
// once. A suspended instance loses its saved memory.
func (d *Driver) PowerOff(ctx context.Context, uuid string, timeout time.Duration) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if err := d.shutdown(ctx, in, timeout); err != nil {
			return err
		}
		os.Remove(in.path(suspendState))
		return nil
	})
}

// shutdown presses the ACPI power button and waits up to timeout for QEMU
// to exit (the guest powers itself off; QEMU runs without -no-shutdown),
// then stops it hard.
func (d *Driver) shutdown(ctx context.Context, in *instance, timeout time.Duration) error {
	pid, alive := in.pid()
	if !alive {
		return nil
	}
	if timeout > 0 {
		if m, err := d.monitor(ctx, in); err == nil {
			// A paused guest cannot react to the button.
			if st, err := m.QueryStatus(ctx); err == nil && st.Running {
				deadline := time.Now().Add(timeout)
				for time.Now().Before(deadline) && ctx.Err() == nil {
					if err := m.SystemPowerdown(ctx); err != nil {
						break
					}
					wait := min(time.Until(deadline), acpiRetry)
					if waitExitCtx(ctx, pid, in.uuid, wait) {
						d.dropMonitor(in.uuid)
						return nil
					}
				}
				d.log.Warn("guest did not shut down in time; stopping it", "instance", in.uuid, "timeout", timeout)
			}
		}
	}
	return d.kill(in)
}

// PowerOn implements virt.Driver. A suspended instance is resumed from its
// saved memory, as libvirt does with a managed save.
func (d *Driver) PowerOn(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if _, alive := in.pid(); alive {
			return nil
		}
		if _, err := os.Stat(in.path(suspendState)); err == nil {
			return d.resume(ctx, in, r)
		}
		return d.start(ctx, in, r, launchOpts{})
	})
}

// Reboot implements virt.Driver. Either way the instance ends up running.
func (d *Driver) Reboot(ctx context.Context, uuid string, hard bool) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if _, alive := in.pid(); alive {
			if hard {
				return d.reset(ctx, in)
			}
			if err := d.shutdown(ctx, in, d.cfg.ShutdownTimeout); err != nil {
				return err
			}
		}
		// Rebooting discards a suspended state, as Nova's reboot does.
		os.Remove(in.path(suspendState))
		return d.start(ctx, in, r, launchOpts{})
	})
}

// reset presses the reset button, and lets a paused guest run again.
func (d *Driver) reset(ctx context.Context, in *instance) error {
	m, err := d.monitor(ctx, in)
	if err != nil {
		return err
	}
	if err := m.SystemReset(ctx); err != nil {
		return err
	}
	st, err := m.QueryStatus(ctx)
	if err != nil {
		return err
	}
	if !st.Running {
		return m.Cont(ctx)
	}
	return nil
}

// Pause implements virt.Driver (QMP stop).
func (d *Driver) Pause(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		m, err := d.running(ctx, in)
		if err != nil {
			return err
		}
		return m.Stop(ctx)
	})
}

// Unpause implements virt.Driver (QMP cont).
func (d *Driver) Unpause(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		m, err := d.running(ctx, in)
		if err != nil {
			return err
		}
		return m.Cont(ctx)
	})
}

// PowerState implements virt.Driver: the process and QEMU's run state say
// it, or a saved state file when the process is gone.
func (d *Driver) PowerState(ctx context.Context, uuid string) (virt.PowerState, error) {
	if err := validUUID(uuid); err != nil {
		return virt.NoState, err
	}
	unlock, err := d.lock(ctx, uuid)
	if err != nil {
		return virt.NoState, err
	}
	defer unlock()
	in := d.instance(uuid)
	if !in.exists() {
		return virt.NoState, virt.ErrNotFound
	}
	if _, alive := in.pid(); !alive {
		if _, err := os.Stat(in.path(suspendState)); err == nil {
			return virt.Suspended, nil
		}
		return virt.Shutdown, nil
	}
	m, err := d.monitor(ctx, in)
	if err != nil {
		return virt.NoState, fmt.Errorf("qemu: power state of %s: %w", uuid, err)
	}
	st, err := m.QueryStatus(ctx)
	if err != nil {
		return virt.NoState, fmt.Errorf("qemu: power state of %s: %w", uuid, err)
	}
	return runStatePower(st.Status), nil
}

// runStatePower maps QEMU's RunState to Nova's power_state.
func runStatePower(status string) virt.PowerState {
	switch status {
	case "running":
		return virt.Running
	case "shutdown":
		return virt.Shutdown
	case "guest-panicked", "internal-error":
		return virt.Crashed
	}
	// paused, suspended (guest S3), prelaunch, inmigrate, postmigrate,
	// finish-migrate, save-vm, restore-vm, io-error, watchdog, debug: the
	// vCPUs are not running.
	return virt.Paused
}

// running returns the QMP connection of a running instance.
func (d *Driver) running(ctx context.Context, in *instance) (*qmp.Monitor, error) {
	if _, alive := in.pid(); !alive {
		return nil, fmt.Errorf("%w: %s", errNotRunning, in.uuid)
	}
	return d.monitor(ctx, in)
}

// IsNotRunning reports whether err says the instance has no QEMU process.
func IsNotRunning(err error) bool { return errors.Is(err, errNotRunning) }
