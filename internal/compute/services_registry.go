package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"kumo/internal/compute/scheduler"
	"kumo/internal/platform/db"
)

// ServiceRegistry is Nova's services table: each compute host's
// nova-compute and the control services register, then heartbeat; a
// service whose last heartbeat is older than DownTime (or that an admin
// forced down) is down. It is the HostLister for availability zones and,
// through SchedulerHosts, the scheduler's view of which hosts may take
// instances. The compute API's os-services uses the same table.
type ServiceRegistry struct {
	db *db.DB
	// DownTime is Nova's service_down_time (default 60s).
	DownTime time.Duration
	// Hypervisors, when set, feeds os-hypervisors (the registry carries
	// it so that Config needs no new field).
	Hypervisors HypervisorSource
	// ComputeDeleted, when set, is called after an admin deletes a
	// nova-compute service, to remove what Nova removes with it (the
	// host's resource provider in placement); its error is logged by the
	// API, the service stays deleted.
	ComputeDeleted func(ctx context.Context, host string) error
	now            func() time.Time
	hostList       hostListCache // SchedulerHosts with Static
	cache          serviceCache
}

// NewServiceRegistry returns the registry over the compute database. Its
// table is created by the compute migrations (compute.New or Migrate), so
// it may be built before compute.New and passed in Config.Hosts.
func NewServiceRegistry(d *db.DB) *ServiceRegistry {
	return &ServiceRegistry{db: d, DownTime: 60 * time.Second, now: func() time.Time { return time.Now().UTC() }}
}

var _ HostLister = (*ServiceRegistry)(nil)

// computeService is one row of the registry.
type computeService struct {
	ID             int64
	UUID           string
	Host, Binary   string
	Zone           string
	Disabled       bool
	DisabledReason *string
	ForcedDown     bool
	CreatedAt      time.Time
	UpdatedAt      *time.Time
}

// lastSeen is the heartbeat time (created_at before the first one).
func (cs *computeService) lastSeen() time.Time {
	if cs.UpdatedAt != nil {
		return *cs.UpdatedAt
	}
	return cs.CreatedAt
}

// up is Nova's DB servicegroup driver's is_up.
func (r *ServiceRegistry) up(cs *computeService) bool {
	return r.upAt(cs, r.now())
}

// upAt is up at time now: callers checking many services read the clock
// once.
func (r *ServiceRegistry) upAt(cs *computeService, now time.Time) bool {
	return !cs.ForcedDown && now.Sub(cs.lastSeen()) <= r.DownTime
}

func (cs *computeService) hostService(up bool) HostService {
	seen := cs.lastSeen()
	return HostService{Host: cs.Host, Binary: cs.Binary, Zone: cs.Zone, Disabled: cs.Disabled, Up: up, UpdatedAt: &seen}
}

const serviceColumns = `id, uuid, host, service_binary, zone, disabled, disabled_reason, forced_down, created_at, updated_at`

func scanService(row scanner) (*computeService, error) {
	cs := &computeService{}
	var reason, updated sql.NullString
	var created string
	if err := row.Scan(&cs.ID, &cs.UUID, &cs.Host, &cs.Binary, &cs.Zone, &cs.Disabled, &reason, &cs.ForcedDown, &created, &updated); err != nil {
		return nil, err
	}
	if reason.Valid {
		cs.DisabledReason = &reason.String
	}
	cs.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	if updated.Valid {
		t, _ := time.Parse(time.RFC3339Nano, updated.String)
		cs.UpdatedAt = &t
	}
	return cs, nil
}

// RegisterService records that binary runs on host in zone ("" for the
// default zone), as a Nova service does when it starts; registering again
// updates the zone and counts as a heartbeat. A new service is enabled.
func (r *ServiceRegistry) RegisterService(ctx context.Context, host, binary, zone string) error {
	if host == "" || binary == "" {
		return errors.New("compute: register service: host and binary are required")
	}
	now := r.now().Format(time.RFC3339Nano)
	_, err := r.db.W.ExecContext(ctx, `INSERT INTO compute_services (uuid, host, service_binary, zone, created_at, updated_at, report_count)
		VALUES (?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (host, service_binary) DO UPDATE SET zone = excluded.zone, updated_at = excluded.updated_at, report_count = compute_services.report_count + 1`,
		newUUID(), host, binary, zone, now, now)
	r.cache.invalidate()
	if err != nil {
		return fmt.Errorf("compute: register service %s on %s: %w", binary, host, err)
	}
	return nil
}

// Heartbeat marks the service alive now (Nova's report_state every
// report_interval). An unknown service is an error: register it first.
func (r *ServiceRegistry) Heartbeat(ctx context.Context, host, binary string) error {
	now := r.now().Format(time.RFC3339Nano)
	// Grouped with other writes: a thousand hosts heartbeat together.
	var n int64
	err := committerOf(r.db).do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE compute_services SET updated_at = ?, report_count = report_count + 1 WHERE host = ? AND service_binary = ?`,
			now, host, binary)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	seen, _ := time.Parse(time.RFC3339Nano, now)
	r.cache.seen(host, binary, seen)
	if err != nil {
		return fmt.Errorf("compute: heartbeat %s on %s: %w", binary, host, err)
	}
	if n == 0 {
		return fmt.Errorf("compute: heartbeat %s on %s: service not registered", binary, host)
	}
	return nil
}

// HeartbeatAll is Heartbeat for many hosts of one binary in one write
// and one cache update (the simulated cloud beats a thousand hosts every
// report interval). It returns the first error; hosts not registered are
// reported after the others are beaten.
func (r *ServiceRegistry) HeartbeatAll(ctx context.Context, hosts []string, binary string) error {
	if len(hosts) == 0 {
		return nil
	}
	now := r.now().Format(time.RFC3339Nano)
	var missing []string
	err := committerOf(r.db).do(ctx, func(tx *sql.Tx) error {
		missing = missing[:0]
		st, err := tx.PrepareContext(ctx, `UPDATE compute_services SET updated_at = ?, report_count = report_count + 1 WHERE host = ? AND service_binary = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, h := range hosts {
			res, err := st.ExecContext(ctx, now, h, binary)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				missing = append(missing, h)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("compute: heartbeat %s on %d hosts: %w", binary, len(hosts), err)
	}
	seen, _ := time.Parse(time.RFC3339Nano, now)
	r.cache.seenAll(hosts, binary, seen)
	if len(missing) > 0 {
		return fmt.Errorf("compute: heartbeat %s on %s: service not registered", binary, strings.Join(missing, ", "))
	}
	return nil
}

// list returns the services, by id, filtered by host and binary when not
// "": copies of the cached rows, so callers may change them.
func (r *ServiceRegistry) list(ctx context.Context, host, binary string) ([]*computeService, error) {
	all, err := r.cache.get(func() ([]*computeService, error) { return r.load(ctx) })
	if err != nil {
		return nil, err
	}
	copies := make([]computeService, 0, len(all))
	for _, cs := range all {
		if host != "" && cs.Host != host || binary != "" && cs.Binary != binary {
			continue
		}
		copies = append(copies, *cs)
	}
	out := make([]*computeService, len(copies))
	for i := range copies {
		out[i] = &copies[i]
	}
	return out, nil
}

// load reads every service, by id.
func (r *ServiceRegistry) load(ctx context.Context) ([]*computeService, error) {
	rows, err := r.db.R.QueryContext(ctx, `SELECT `+serviceColumns+` FROM compute_services ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*computeService
	for rows.Next() {
		cs, err := scanService(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, rows.Err()
}

// Services lists every service (HostLister).
func (r *ServiceRegistry) Services(ctx context.Context) ([]HostService, error) {
	list, err := r.list(ctx, "", "")
	if err != nil {
		return nil, err
	}
	out := make([]HostService, len(list))
	for i, cs := range list {
		out[i] = cs.hostService(r.up(cs))
	}
	return out, nil
}

// get finds a service by its API id: the uuid, or (byInt) the integer id.
func (r *ServiceRegistry) get(ctx context.Context, id string, byInt bool) (*computeService, error) {
	col := "uuid"
	if byInt {
		col = "id"
	}
	cs, err := scanService(r.db.R.QueryRowContext(ctx, `SELECT `+serviceColumns+` FROM compute_services WHERE `+col+` = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return cs, err
}

// getByHost finds host's binary.
func (r *ServiceRegistry) getByHost(ctx context.Context, host, binary string) (*computeService, error) {
	cs, err := scanService(r.db.R.QueryRowContext(ctx, `SELECT `+serviceColumns+` FROM compute_services WHERE host = ? AND service_binary = ?`, host, binary))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return cs, err
}

// update writes the admin-set fields of cs.
func (r *ServiceRegistry) update(ctx context.Context, cs *computeService) error {
	_, err := r.db.W.ExecContext(ctx, `UPDATE compute_services SET disabled = ?, disabled_reason = ?, forced_down = ? WHERE id = ?`,
		cs.Disabled, cs.DisabledReason, cs.ForcedDown, cs.ID)
	r.cache.invalidate()
	return err
}

// deleteService removes a service; a nova-compute that still hosts
// instances (not deleted) is errInUse, checked in the same transaction.
func (r *ServiceRegistry) deleteService(ctx context.Context, cs *computeService) error {
	defer r.cache.invalidate()
	return r.db.Tx(ctx, func(tx *sql.Tx) error {
		if cs.Binary == "nova-compute" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE host = ? AND deleted = 0`, cs.Host).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errInUse
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM compute_services WHERE id = ?`, cs.ID)
		return err
	})
}

var errInUse = errors.New("in use")

// serviceCache keeps the services table in memory so that the scheduler
// (one Hosts call per placement) does not read it from SQLite each time.
// Every write goes through the registry and drops it, after the write;
// gen keeps a load that raced with a write from being kept.
type serviceCache struct {
	mu   sync.Mutex
	gen  uint64
	rows []*computeService // nil: not loaded; never changed in place
}

// get returns the cached rows (not to be changed), loading them if needed.
func (c *serviceCache) get(load func() ([]*computeService, error)) ([]*computeService, error) {
	c.mu.Lock()
	if c.rows != nil {
		rows := c.rows
		c.mu.Unlock()
		return rows, nil
	}
	gen := c.gen
	c.mu.Unlock()
	rows, err := load()
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []*computeService{}
	}
	c.mu.Lock()
	if c.gen == gen {
		c.rows = rows
	}
	c.mu.Unlock()
	return rows, nil
}

func (c *serviceCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.rows = nil
	c.mu.Unlock()
}

// seen records a heartbeat in the cache: only the last-seen time changes,
// so the row is replaced by a copy with the new time rather than reloaded
// (readers may still hold the old slice and rows).
func (c *serviceCache) seen(host, binary string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.rows == nil {
		return
	}
	rows := slices.Clone(c.rows)
	for i := range rows {
		if rows[i].Host == host && rows[i].Binary == binary {
			cs := *rows[i]
			cs.UpdatedAt = &t
			rows[i] = &cs
		}
	}
	c.rows = rows
}

// seenAll is seen for many hosts of one binary: one copy of the rows.
func (c *serviceCache) seenAll(hosts []string, binary string, t time.Time) {
	set := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		set[h] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.rows == nil {
		return
	}
	rows := slices.Clone(c.rows)
	for i := range rows {
		if rows[i].Binary == binary && set[rows[i].Host] {
			cs := *rows[i]
			cs.UpdatedAt = &t
			rows[i] = &cs
		}
	}
	c.rows = rows
}

// SchedulerHosts adapts the registry to the scheduler's HostSource: one
// scheduler.Host per nova-compute service whose host has a placement
// resource provider.
type SchedulerHosts struct {
	Registry *ServiceRegistry
	// Provider maps a host name to its resource provider UUID; "" leaves
	// the host out (not yet in placement).
	Provider func(host string) string
	// Describe, when set, fills what the hypervisor reports (type,
	// version, supported instances, traits) for a host.
	Describe func(ctx context.Context, h *scheduler.Host) error
	// Static says Provider and Describe answer the same for a host for
	// the registry's life: the list is then built once and kept until the
	// services, the aggregates' zones or a host's up/down state change,
	// instead of once per request.
	Static bool
}

var _ scheduler.HostSource = SchedulerHosts{}

// Hosts lists the compute hosts; a disabled or down service is not
// Enabled (Nova's ComputeFilter) and carries the COMPUTE_STATUS_DISABLED
// trait when disabled, as Nova sets on its provider.
func (a SchedulerHosts) Hosts(ctx context.Context) ([]scheduler.Host, error) {
	// The cached rows themselves: read only here, so not copied.
	list, err := a.Registry.cache.get(func() ([]*computeService, error) { return a.Registry.load(ctx) })
	if err != nil {
		return nil, err
	}
	// An aggregate's availability zone puts its hosts in it.
	zones, err := aggregateStore{db: a.Registry.db}.hostZones(ctx)
	if err != nil {
		return nil, err
	}
	now := a.Registry.now()
	if !a.Static {
		return a.build(ctx, list, zones, now)
	}
	return a.Registry.hostList.hosts(list, zones, now, a.Registry.DownTime, func() ([]scheduler.Host, error) {
		return a.build(ctx, list, zones, now)
	})
}

// build makes the scheduler's hosts from the registry's rows.
func (a SchedulerHosts) build(ctx context.Context, list []*computeService, zones map[string]string, now time.Time) ([]scheduler.Host, error) {
	out := make([]scheduler.Host, 0, len(list))
	for _, cs := range list {
		if cs.Binary != "nova-compute" {
			continue
		}
		rp := a.Provider(cs.Host)
		if rp == "" {
			continue
		}
		zone := cs.Zone
		if z, ok := zones[cs.Host]; ok {
			zone = z
		}
		h := scheduler.Host{Name: cs.Host, ProviderUUID: rp, AvailabilityZone: zone,
			Enabled: !cs.Disabled && a.Registry.upAt(cs, now)}
		if a.Describe != nil {
			h.Traits = map[string]bool{}
			if err := a.Describe(ctx, &h); err != nil {
				return nil, err
			}
		}
		if cs.Disabled {
			if h.Traits == nil {
				h.Traits = map[string]bool{}
			}
			h.Traits["COMPUTE_STATUS_DISABLED"] = true
		}
		out = append(out, h)
	}
	return out, nil
}

// hostListCache keeps a Static SchedulerHosts list while what it was built
// from holds: the same registry rows and zone map (both caches replace,
// never change, them on a write, so identity tells a change), a clock
// that has not gone back, and no host's up state due to flip (a host is
// up while now - last seen <= DownTime).
type hostListCache struct {
	mu         sync.Mutex
	rows       []*computeService
	zones      map[string]string
	from, till time.Time
	list       []scheduler.Host
}

func (c *hostListCache) hosts(rows []*computeService, zones map[string]string, now time.Time, down time.Duration, build func() ([]scheduler.Host, error)) ([]scheduler.Host, error) {
	c.mu.Lock()
	if c.list != nil && sameRows(c.rows, rows) && sameZones(c.zones, zones) && !now.Before(c.from) && !now.After(c.till) {
		// A copy: the scheduler takes pointers into its list.
		out := slices.Clone(c.list)
		c.mu.Unlock()
		return out, nil
	}
	c.mu.Unlock()
	list, err := build()
	if err != nil {
		return nil, err
	}
	till := now.Add(24 * time.Hour) // bounded even with every host down
	for _, cs := range rows {
		if flip := cs.lastSeen().Add(down); !cs.ForcedDown && !now.After(flip) && flip.Before(till) {
			till = flip
		}
	}
	c.mu.Lock()
	c.rows, c.zones, c.from, c.till, c.list = rows, zones, now, till, slices.Clone(list)
	c.mu.Unlock()
	return list, nil
}

func sameRows(a, b []*computeService) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameZones(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
