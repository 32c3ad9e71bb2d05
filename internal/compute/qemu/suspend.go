package qemu

import (
	"context"
	"fmt"
	"os"
	"time"

	"kumo/internal/compute/qemu/qmp"
)

// Suspend implements virt.Driver: the guest's memory and device state go
// to suspend.state (an outgoing migration into a file; QEMU 7.2 has no
// file: URI, so exec: with cat), then QEMU exits.
func (d *Driver) Suspend(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		m, err := d.running(ctx, in)
		if err != nil {
			return err
		}
		final := in.path(suspendState)
		tmp := final + ".tmp"
		os.Remove(tmp)
		// The state becomes suspend.state only once it is whole and on disk.
		uri := fmt.Sprintf("exec:cat > %s && sync %s && mv %s %s",
			shellQuote(tmp), shellQuote(tmp), shellQuote(tmp), shellQuote(final))
		if err := m.SetMigrationBandwidth(ctx, 1<<40); err != nil {
			return err
		}
		if err := m.Migrate(ctx, uri); err != nil {
			return err
		}
		if err := waitMigrated(ctx, m.QueryMigrate); err != nil {
			// ctx may be what ended: the guest is put back with a context
			// of its own.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if aerr := abandonSave(actx, m); aerr != nil {
				d.log.Error("suspend abandoned: the guest may be left paused", "instance", uuid, "err", aerr)
			}
			os.Remove(tmp)
			os.Remove(final)
			return fmt.Errorf("qemu: suspend %s: %w", uuid, err)
		}
		if err := d.kill(in); err != nil {
			return err
		}
		for i := 0; i < 300; i++ {
			if _, err := os.Stat(final); err == nil {
				// mv's rename is durable only once the directory is synced.
				return syncFile(in.dir)
			}
			time.Sleep(100 * time.Millisecond)
		}
		os.Remove(tmp)
		return fmt.Errorf("qemu: suspend %s: saved state never appeared; the guest is shut off", uuid)
	})
}

// abandonSave stops an outgoing save that failed or whose caller gave up
// and lets the guest run on: a save still going would otherwise finish and
// leave the guest stopped in postmigrate, with nothing to resume it.
func abandonSave(ctx context.Context, m *qmp.Monitor) error {
	if err := m.Execute(ctx, "migrate_cancel", nil, nil); err != nil {
		return err
	}
	for {
		mi, err := m.QueryMigrate(ctx)
		if err != nil {
			return err
		}
		if !migrating[mi.Status] {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	st, err := m.QueryStatus(ctx)
	if err != nil {
		return err
	}
	if !st.Running && (st.Status == "postmigrate" || st.Status == "finish-migrate") {
		return m.Cont(ctx)
	}
	return nil
}

// migrating are query-migrate's states of a migration not yet ended.
var migrating = map[string]bool{"setup": true, "active": true, "cancelling": true, "device": true,
	"pre-switchover": true, "wait-unplug": true}

// waitMigrated polls an outgoing migration until it ends.
func waitMigrated(ctx context.Context, query func(context.Context) (qmp.Migration, error)) error {
	for {
		mi, err := query(ctx)
		if err != nil {
			return err
		}
		switch mi.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("migration %s: %s", mi.Status, mi.ErrorDesc)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Resume implements virt.Driver.
func (d *Driver) Resume(ctx context.Context, uuid string) error {
	return d.withInstance(ctx, uuid, func(in *instance, r *record) error {
		if _, alive := in.pid(); alive {
			return fmt.Errorf("qemu: resume %s: it is running, not suspended", uuid)
		}
		return d.resume(ctx, in, r)
	})
}

// resume starts QEMU on the saved state, lets the vCPUs run and drops the
// state file. The file stays when the restore fails, so nothing is lost.
func (d *Driver) resume(ctx context.Context, in *instance, r *record) error {
	state := in.path(suspendState)
	if _, err := os.Stat(state); err != nil {
		return fmt.Errorf("qemu: resume %s: no saved state", in.uuid)
	}
	if err := d.start(ctx, in, r, launchOpts{incoming: state}); err != nil {
		return err
	}
	m, err := d.monitor(ctx, in)
	if err != nil {
		return err
	}
	if err := m.Cont(ctx); err != nil {
		return err
	}
	return os.Remove(state)
}
