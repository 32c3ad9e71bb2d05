package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kumo/internal/platform/db"
)

// Flavor is a Nova flavor (the API database's flavors row).
type Flavor struct {
	internalID  int64
	ID          string // flavorid, the API id
	Name        string
	MemoryMB    int64
	VCPUs       int64
	RootGB      int64
	EphemeralGB int64
	Swap        int64 // MiB
	RxtxFactor  float64
	Disabled    bool
	IsPublic    bool
	Description *string
	ExtraSpecs  map[string]string // loaded on demand
	CreatedAt   time.Time
	UpdatedAt   *time.Time
}

var (
	errNotFound  = errors.New("not found")
	errNameTaken = errors.New("flavor name exists")
	errIDTaken   = errors.New("flavor id exists")
	errExists    = errors.New("exists")
)

const flavorColumns = `id, flavorid, name, memory_mb, vcpus, root_gb, ephemeral_gb, swap, rxtx_factor, disabled, is_public, description, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanFlavor(row scanner) (*Flavor, error) {
	f := &Flavor{}
	var desc, updated sql.NullString
	var created string
	if err := row.Scan(&f.internalID, &f.ID, &f.Name, &f.MemoryMB, &f.VCPUs, &f.RootGB, &f.EphemeralGB, &f.Swap,
		&f.RxtxFactor, &f.Disabled, &f.IsPublic, &desc, &created, &updated); err != nil {
		return nil, err
	}
	if desc.Valid {
		f.Description = &desc.String
	}
	f.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	if updated.Valid {
		t, _ := time.Parse(time.RFC3339Nano, updated.String)
		f.UpdatedAt = &t
	}
	return f, nil
}

// flavorStore is the flavors' persistence.
type flavorStore struct{ db *db.DB }

// get returns the flavor with API id id. A project other than "" (a
// non-admin caller) sees only public flavors and those shared with it, as
// Nova's _flavor_get_query_from_db.
func (st flavorStore) get(ctx context.Context, id, project string) (*Flavor, error) {
	q := `SELECT ` + flavorColumns + ` FROM flavors WHERE flavorid = ?`
	args := []any{id}
	if project != "" {
		q += ` AND (is_public = 1 OR id IN (SELECT flavor_id FROM flavor_projects WHERE project_id = ?))`
		args = append(args, project)
	}
	f, err := scanFlavor(st.db.R.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return f, err
}

// create inserts f; a taken name or id is errNameTaken or errIDTaken.
func (st flavorStore) create(ctx context.Context, f *Flavor) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavors WHERE flavorid = ?`, f.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errIDTaken
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavors WHERE name = ?`, f.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errNameTaken
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb, ephemeral_gb, swap,
			rxtx_factor, disabled, is_public, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.Name, f.MemoryMB, f.VCPUs, f.RootGB, f.EphemeralGB, f.Swap, f.RxtxFactor, f.Disabled, f.IsPublic,
			f.Description, f.CreatedAt.Format(time.RFC3339Nano))
		if err != nil {
			return err
		}
		f.internalID, err = res.LastInsertId()
		return err
	})
}

// setDescription updates a flavor's description.
func (st flavorStore) setDescription(ctx context.Context, f *Flavor, desc *string, now time.Time) error {
	res, err := st.db.W.ExecContext(ctx, `UPDATE flavors SET description = ?, updated_at = ? WHERE id = ?`, desc, now.Format(time.RFC3339Nano), f.internalID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	f.Description, f.UpdatedAt = desc, &now
	return nil
}

// delete removes a flavor with its access list and extra specs.
func (st flavorStore) delete(ctx context.Context, id string) error {
	res, err := st.db.W.ExecContext(ctx, `DELETE FROM flavors WHERE flavorid = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// flavorFilter is what a flavor list selects.
type flavorFilter struct {
	isPublic   *bool  // nil: public and private
	project    string // non-admin caller: public flavors plus those shared with it
	minMemory  *int64
	minDisk    *int64
	noDisabled bool
	sortKey    string // a column of flavors (validated by the API)
	sortDir    string // "asc" or "desc"
	limit      int
	marker     *Flavor
}

// list returns the flavors matching f, sorted by f.sortKey then the
// internal id (Nova's paginate_query with [sort_key, 'id']).
func (st flavorStore) list(ctx context.Context, f flavorFilter) ([]*Flavor, error) {
	var where []string
	var args []any
	switch {
	case f.project != "" && (f.isPublic == nil || *f.isPublic):
		where = append(where, `(is_public = 1 OR id IN (SELECT flavor_id FROM flavor_projects WHERE project_id = ?))`)
		args = append(args, f.project)
	case f.isPublic != nil:
		where = append(where, `is_public = ?`)
		args = append(args, *f.isPublic)
	}
	if f.noDisabled {
		where = append(where, `disabled = 0`)
	}
	if f.minMemory != nil {
		where = append(where, `memory_mb >= ?`)
		args = append(args, *f.minMemory)
	}
	if f.minDisk != nil {
		where = append(where, `root_gb >= ?`)
		args = append(args, *f.minDisk)
	}
	dir, cmp := "ASC", ">"
	if f.sortDir == "desc" {
		dir, cmp = "DESC", "<"
	}
	key := f.sortKey
	// The nullable keys (description, updated_at, vcpu_weight) sort with
	// NULL as the smallest value, in the ORDER BY and the marker test alike.
	col := key
	switch key {
	case "description", "updated_at":
		col = "COALESCE(" + key + ", '')"
	case "vcpu_weight":
		col = "COALESCE(vcpu_weight, -1)"
	}
	if f.marker != nil {
		// Rows after the marker in (key, id) order.
		mv := flavorSortValue(f.marker, key)
		where = append(where, fmt.Sprintf(`(%s %s ? OR (%s = ? AND id %s ?))`, col, cmp, col, cmp))
		args = append(args, mv, mv, f.marker.internalID)
	}
	q := `SELECT ` + flavorColumns + ` FROM flavors`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += fmt.Sprintf(` ORDER BY %s %s, id %s LIMIT ?`, col, dir, dir)
	args = append(args, f.limit)
	rows, err := st.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Flavor
	for rows.Next() {
		fl, err := scanFlavor(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, fl)
	}
	return out, rows.Err()
}

// flavorSortValue is the marker's value of a sort column, as stored.
func flavorSortValue(f *Flavor, key string) any {
	switch key {
	case "created_at":
		return f.CreatedAt.Format(time.RFC3339Nano)
	case "description":
		if f.Description == nil {
			return ""
		}
		return *f.Description
	case "disabled":
		return f.Disabled
	case "ephemeral_gb":
		return f.EphemeralGB
	case "flavorid":
		return f.ID
	case "id":
		return f.internalID
	case "is_public":
		return f.IsPublic
	case "memory_mb":
		return f.MemoryMB
	case "name":
		return f.Name
	case "root_gb":
		return f.RootGB
	case "rxtx_factor":
		return f.RxtxFactor
	case "swap":
		return f.Swap
	case "updated_at":
		if f.UpdatedAt == nil {
			return ""
		}
		return f.UpdatedAt.Format(time.RFC3339Nano)
	case "vcpu_weight":
		return -1
	case "vcpus":
		return f.VCPUs
	}
	return f.ID
}

// extraSpecs returns a flavor's extra specs.
func (st flavorStore) extraSpecs(ctx context.Context, f *Flavor) (map[string]string, error) {
	rows, err := st.db.R.QueryContext(ctx, `SELECT spec_key, spec_value FROM flavor_extra_specs WHERE flavor_id = ?`, f.internalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// setExtraSpecs creates or replaces the given extra specs.
func (st flavorStore) setExtraSpecs(ctx context.Context, f *Flavor, specs map[string]string) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		for k, v := range specs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO flavor_extra_specs (flavor_id, spec_key, spec_value) VALUES (?, ?, ?)
				ON CONFLICT (flavor_id, spec_key) DO UPDATE SET spec_value = excluded.spec_value`, f.internalID, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleteExtraSpec removes one extra spec.
func (st flavorStore) deleteExtraSpec(ctx context.Context, f *Flavor, key string) error {
	res, err := st.db.W.ExecContext(ctx, `DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND spec_key = ?`, f.internalID, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// access returns the projects a flavor is shared with, sorted.
func (st flavorStore) access(ctx context.Context, f *Flavor) ([]string, error) {
	rows, err := st.db.R.QueryContext(ctx, `SELECT project_id FROM flavor_projects WHERE flavor_id = ? ORDER BY project_id`, f.internalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// addAccess shares a flavor with a project (errExists if it already is).
func (st flavorStore) addAccess(ctx context.Context, f *Flavor, project string) error {
	_, err := st.db.W.ExecContext(ctx, `INSERT INTO flavor_projects (flavor_id, project_id) VALUES (?, ?)`, f.internalID, project)
	if db.IsUniqueViolation(err) {
		return errExists
	}
	return err
}

// removeAccess stops sharing a flavor with a project.
func (st flavorStore) removeAccess(ctx context.Context, f *Flavor, project string) error {
	res, err := st.db.W.ExecContext(ctx, `DELETE FROM flavor_projects WHERE flavor_id = ? AND project_id = ?`, f.internalID, project)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}
