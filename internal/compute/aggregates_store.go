package compute

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"sync"
	"time"

	"kumo/internal/platform/db"
)

// Aggregate is a host aggregate: a named set of compute hosts with
// metadata; the "availability_zone" key makes it an availability zone.
type Aggregate struct {
	ID        int64
	UUID      string
	Name      string
	CreatedAt time.Time
	UpdatedAt *time.Time
	Hosts     []string
	Metadata  map[string]string
}

const azKey = "availability_zone"

// Zone is the aggregate's availability zone ("" if none).
func (a *Aggregate) Zone() string { return a.Metadata[azKey] }

type aggregateStore struct{ db *db.DB }

func (s *Service) aggregates() aggregateStore { return aggregateStore{db: s.db} }

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func (st aggregateStore) load(ctx context.Context, q querier, where string, args ...any) ([]*Aggregate, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, uuid, name, created_at, updated_at FROM aggregates `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	var out []*Aggregate
	byID := map[int64]*Aggregate{}
	for rows.Next() {
		a := &Aggregate{Hosts: []string{}, Metadata: map[string]string{}}
		var created string
		var updated sql.NullString
		if err := rows.Scan(&a.ID, &a.UUID, &a.Name, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		a.CreatedAt = parseTime(created)
		if updated.Valid && updated.String != "" {
			t := parseTime(updated.String)
			a.UpdatedAt = &t
		}
		out = append(out, a)
		byID[a.ID] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	hr, err := q.QueryContext(ctx, `SELECT aggregate_id, host FROM aggregate_hosts ORDER BY host`)
	if err != nil {
		return nil, err
	}
	for hr.Next() {
		var id int64
		var h string
		if err := hr.Scan(&id, &h); err != nil {
			hr.Close()
			return nil, err
		}
		if a := byID[id]; a != nil {
			a.Hosts = append(a.Hosts, h)
		}
	}
	hr.Close()
	mr, err := q.QueryContext(ctx, `SELECT aggregate_id, key, value FROM aggregate_metadata`)
	if err != nil {
		return nil, err
	}
	defer mr.Close()
	for mr.Next() {
		var id int64
		var k, v string
		if err := mr.Scan(&id, &k, &v); err != nil {
			return nil, err
		}
		if a := byID[id]; a != nil {
			a.Metadata[k] = v
		}
	}
	return out, mr.Err()
}

func (st aggregateStore) list(ctx context.Context) ([]*Aggregate, error) {
	return st.load(ctx, st.db.R, "")
}

// get returns the aggregate with the API id, or errNotFound.
func (st aggregateStore) get(ctx context.Context, q querier, id int64) (*Aggregate, error) {
	l, err := st.load(ctx, q, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, errNotFound
	}
	return l[0], nil
}

// create stores a new aggregate (errExists for a taken name).
func (st aggregateStore) create(ctx context.Context, name, zone string, now time.Time) (*Aggregate, error) {
	defer st.changed()
	var id int64
	err := st.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO aggregates (uuid, name, created_at) VALUES (?, ?, ?)`, newUUID(), name, dbTime(now))
		if db.IsUniqueViolation(err) {
			return errExists
		}
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if zone != "" {
			_, err = tx.ExecContext(ctx, `INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, ?, ?)`, id, azKey, zone)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return st.get(ctx, st.db.R, id)
}

// change runs fn on the aggregate inside a transaction, sets updated_at,
// and returns the aggregate as it is afterwards.
func (st aggregateStore) change(ctx context.Context, id int64, now time.Time, fn func(tx *sql.Tx, a *Aggregate) error) (*Aggregate, error) {
	defer st.changed()
	err := st.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := st.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, a); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE aggregates SET updated_at = ? WHERE id = ?`, dbTime(now), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return st.get(ctx, st.db.R, id)
}

// setMetadata applies set (nil values delete keys).
func setAggregateMetadata(ctx context.Context, tx *sql.Tx, id int64, set map[string]*string) error {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `DELETE FROM aggregate_metadata WHERE aggregate_id = ? AND key = ?`, id, k); err != nil {
			return err
		}
		if v := set[k]; v != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO aggregate_metadata (aggregate_id, key, value) VALUES (?, ?, ?)`, id, k, *v); err != nil {
				return err
			}
		}
	}
	return nil
}

// delete removes an empty aggregate; errConflict-like errNotEmpty if it
// still has hosts.
func (st aggregateStore) delete(ctx context.Context, id int64) error {
	defer st.changed()
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		a, err := st.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(a.Hosts) > 0 {
			return errAggregateNotEmpty
		}
		for _, q := range []string{`DELETE FROM aggregate_metadata WHERE aggregate_id = ?`, `DELETE FROM aggregates WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

var errAggregateNotEmpty = errors.New("aggregate not empty")

// hostZones maps each host in an aggregate with an availability zone to
// that zone (Nova's get_host_availability_zone).
func (st aggregateStore) hostZones(ctx context.Context) (map[string]string, error) {
	c := zonesOf(st.db)
	c.mu.Lock()
	gen, cached := c.gen, c.zones
	c.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	zones, err := st.loadHostZones(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.zones = zones
	}
	c.mu.Unlock()
	return zones, nil
}

// zoneCache holds hostZones between aggregate changes: the scheduler
// reads it for every request. The map is never written once cached.
type zoneCache struct {
	mu    sync.Mutex
	gen   uint64
	zones map[string]string
}

var zoneCaches sync.Map // *db.DB → *zoneCache

func zonesOf(d *db.DB) *zoneCache {
	c, _ := zoneCaches.LoadOrStore(d, &zoneCache{})
	return c.(*zoneCache)
}

// changed drops the cached host zones after a write to the aggregates
// (every one goes through create, change or delete).
func (st aggregateStore) changed() {
	c := zonesOf(st.db)
	c.mu.Lock()
	c.gen++
	c.zones = nil
	c.mu.Unlock()
}

// loadHostZones reads the host → zone map of hostZones.
func (st aggregateStore) loadHostZones(ctx context.Context) (map[string]string, error) {
	rows, err := st.db.R.QueryContext(ctx, `SELECT h.host, m.value FROM aggregate_hosts h
		JOIN aggregate_metadata m ON m.aggregate_id = h.aggregate_id AND m.key = ? ORDER BY h.aggregate_id`, azKey)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var h, z string
		if err := rows.Scan(&h, &z); err != nil {
			return nil, err
		}
		if _, ok := out[h]; !ok {
			out[h] = z
		}
	}
	return out, rows.Err()
}
