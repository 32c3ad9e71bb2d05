package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	return !cs.ForcedDown && r.now().Sub(cs.lastSeen()) <= r.DownTime
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
	if err != nil {
		return fmt.Errorf("compute: register service %s on %s: %w", binary, host, err)
	}
	return nil
}

// Heartbeat marks the service alive now (Nova's report_state every
// report_interval). An unknown service is an error: register it first.
func (r *ServiceRegistry) Heartbeat(ctx context.Context, host, binary string) error {
	res, err := r.db.W.ExecContext(ctx, `UPDATE compute_services SET updated_at = ?, report_count = report_count + 1 WHERE host = ? AND service_binary = ?`,
		r.now().Format(time.RFC3339Nano), host, binary)
	if err != nil {
		return fmt.Errorf("compute: heartbeat %s on %s: %w", binary, host, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("compute: heartbeat %s on %s: service not registered", binary, host)
	}
	return nil
}

// list returns the services, by id, filtered by host and binary when not "".
func (r *ServiceRegistry) list(ctx context.Context, host, binary string) ([]*computeService, error) {
	q := `SELECT ` + serviceColumns + ` FROM compute_services WHERE 1 = 1`
	var args []any
	if host != "" {
		q += ` AND host = ?`
		args = append(args, host)
	}
	if binary != "" {
		q += ` AND service_binary = ?`
		args = append(args, binary)
	}
	rows, err := r.db.R.QueryContext(ctx, q+` ORDER BY id`, args...)
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
	return err
}

// deleteService removes a service; a nova-compute that still hosts
// instances (not deleted) is errInUse, checked in the same transaction.
func (r *ServiceRegistry) deleteService(ctx context.Context, cs *computeService) error {
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
}

var _ scheduler.HostSource = SchedulerHosts{}

// Hosts lists the compute hosts; a disabled or down service is not
// Enabled (Nova's ComputeFilter) and carries the COMPUTE_STATUS_DISABLED
// trait when disabled, as Nova sets on its provider.
func (a SchedulerHosts) Hosts(ctx context.Context) ([]scheduler.Host, error) {
	list, err := a.Registry.list(ctx, "", "nova-compute")
	if err != nil {
		return nil, err
	}
	var out []scheduler.Host
	for _, cs := range list {
		rp := a.Provider(cs.Host)
		if rp == "" {
			continue
		}
		h := scheduler.Host{Name: cs.Host, ProviderUUID: rp, AvailabilityZone: cs.Zone,
			Enabled: !cs.Disabled && a.Registry.up(cs), Traits: map[string]bool{}}
		if a.Describe != nil {
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
