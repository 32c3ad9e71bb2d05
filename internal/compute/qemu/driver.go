// Package qemu is kumo's hypervisor driver: one QEMU process per instance,
// daemonized so that guests outlive kumo, and driven over QMP. Everything
// of an instance lives in StateDir/instances/<uuid>/, so a restarted
// driver finds its guests again from the files alone.
package qemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kumo/internal/compute/qemu/qmp"
	"kumo/internal/compute/virt"
)

var _ virt.Driver = (*Driver)(nil)

// Config is the driver's configuration.
type Config struct {
	StateDir string // instances live in StateDir/instances/<uuid>/
	CacheDir string // base images live in CacheDir/_base/<image id>
	// Accel is "auto" (KVM only when a probe guest really runs under it),
	// "kvm" or "tcg". Default auto.
	Accel      string
	QEMUBinary string // default qemu-system-x86_64
	QEMUImg    string // default qemu-img
	// TBSizeMB is TCG's translation cache size; 32 saves ~40 MiB of RSS per
	// guest against QEMU's default. Default 32.
	TBSizeMB        int
	Hostname        string // default os.Hostname()
	Log             *slog.Logger
	ShutdownTimeout time.Duration // ACPI shutdown wait for soft reboot; default 60s
	Now             func() time.Time
}

// Driver runs QEMU guests on this host. It implements virt.Driver.
type Driver struct {
	cfg   Config
	accel string // "kvm" or "tcg", decided once in New
	log   *slog.Logger
	inst  string // StateDir/instances
	cache *imageCache

	mu       sync.Mutex
	locks    map[string]chan struct{} // per-instance operation lock
	monitors map[string]*qmp.Monitor  // open QMP connections, by uuid
}

// New prepares the state and cache directories, settles the accelerator
// and re-attaches to the guests still running from an earlier driver.
func New(cfg Config) (*Driver, error) {
	if cfg.StateDir == "" || cfg.CacheDir == "" {
		return nil, errors.New("qemu: StateDir and CacheDir are required")
	}
	if cfg.Accel == "" {
		cfg.Accel = "auto"
	}
	if cfg.QEMUBinary == "" {
		cfg.QEMUBinary = "qemu-system-x86_64"
	}
	if cfg.QEMUImg == "" {
		cfg.QEMUImg = "qemu-img"
	}
	if cfg.TBSizeMB == 0 {
		cfg.TBSizeMB = 32
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 60 * time.Second
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var err error
	if cfg.StateDir, err = filepath.Abs(cfg.StateDir); err != nil {
		return nil, err
	}
	if cfg.CacheDir, err = filepath.Abs(cfg.CacheDir); err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:      cfg,
		log:      cfg.Log.With("component", "qemu"),
		inst:     filepath.Join(cfg.StateDir, "instances"),
		locks:    map[string]chan struct{}{},
		monitors: map[string]*qmp.Monitor{},
	}
	if err := os.MkdirAll(d.inst, 0o750); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	// Probe directories of a driver that crashed mid-probe.
	if stale, _ := filepath.Glob(filepath.Join(cfg.StateDir, "kvm-probe-*")); len(stale) > 0 {
		for _, p := range stale {
			os.RemoveAll(p)
		}
	}
	d.cache, err = newImageCache(filepath.Join(cfg.CacheDir, "_base"), cfg.QEMUImg, d.log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if d.accel, err = chooseAccel(ctx, cfg, d.log); err != nil {
		return nil, err
	}
	d.reattach(ctx)
	return d, nil
}

// Accel reports the accelerator guests run under: "kvm" or "tcg".
func (d *Driver) Accel() string { return d.accel }

// Close drops the driver's QMP connections. Guests keep running.
func (d *Driver) Close() error {
	d.mu.Lock()
	ms := d.monitors
	d.monitors = map[string]*qmp.Monitor{}
	d.mu.Unlock()
	for _, m := range ms {
		m.Close()
	}
	return nil
}

// lock serialises operations on one instance; unlock with the returned
// func. Different instances proceed in parallel.
func (d *Driver) lock(ctx context.Context, uuid string) (func(), error) {
	d.mu.Lock()
	l, ok := d.locks[uuid]
	if !ok {
		l = make(chan struct{}, 1)
		d.locks[uuid] = l
	}
	d.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("qemu: instance %s is busy: %w", uuid, ctx.Err())
	}
}

// reattach connects to every guest whose QEMU is still alive; dead ones are
// simply shut off, which PowerState reports from the files.
func (d *Driver) reattach(ctx context.Context) {
	uuids, err := d.Instances(ctx)
	if err != nil {
		d.log.Warn("list instances", "err", err)
		return
	}
	for _, id := range uuids {
		in := d.instance(id)
		if _, alive := in.pid(); !alive {
			continue
		}
		if _, err := d.monitor(ctx, in); err != nil {
			d.log.Warn("re-attach to guest", "instance", id, "err", err)
			continue
		}
		d.log.Info("re-attached to running guest", "instance", id)
	}
}

// monitor returns the open QMP connection to a running guest, connecting
// (again) when there is none or the last one ended.
func (d *Driver) monitor(ctx context.Context, in *instance) (*qmp.Monitor, error) {
	d.mu.Lock()
	m := d.monitors[in.uuid]
	d.mu.Unlock()
	if m != nil && m.Err() == nil {
		return m, nil
	}
	m, err := dialQMP(ctx, in.path(qmpSock))
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if old := d.monitors[in.uuid]; old != nil && old != m {
		go old.Close()
	}
	d.monitors[in.uuid] = m
	d.mu.Unlock()
	return m, nil
}

// dropMonitor closes and forgets an instance's QMP connection.
func (d *Driver) dropMonitor(uuid string) {
	d.mu.Lock()
	m := d.monitors[uuid]
	delete(d.monitors, uuid)
	d.mu.Unlock()
	if m != nil {
		m.Close()
	}
}
