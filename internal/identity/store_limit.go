package identity

import (
	"context"
	"database/sql"
	"errors"
)

// RegisteredLimit is the default limit of a resource of a service,
// optionally in one region (unified limits).
type RegisteredLimit struct {
	ID           string
	ServiceID    string
	RegionID     string
	ResourceName string
	DefaultLimit int64
	Description  string
}

// Limit overrides a registered limit for one project or one domain.
type Limit struct {
	ID            string
	ProjectID     string
	DomainID      string
	ServiceID     string
	RegionID      string
	ResourceName  string
	ResourceLimit int64
	Description   string
}

// Unified-limit rule violations, turned into Keystone's errors by the API.
var (
	errDuplicateLimit  = errors.New("duplicate limit")
	errLimitReferenced = errors.New("registered limit has limits")
	errNoRegistered    = errors.New("no registered limit")
)

// limitKey matches service, region ("" is NULL) and resource name.
func limitKey(w *where, serviceID, regionID, resource string) {
	w.add("service_id = ?", serviceID)
	if regionID == "" {
		w.add("region_id IS NULL")
	} else {
		w.add("region_id = ?", regionID)
	}
	w.add("resource_name = ?", resource)
}

func countRows(ctx context.Context, q queryer, table string, w where) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+w.sql(), w.args...).Scan(&n)
	return n, err
}

const registeredLimitCols = `id, service_id, region_id, resource_name, default_limit, description`

func scanRegisteredLimit(row interface{ Scan(...any) error }) (*RegisteredLimit, error) {
	var r RegisteredLimit
	var region sql.NullString
	if err := row.Scan(&r.ID, &r.ServiceID, &region, &r.ResourceName, &r.DefaultLimit, &r.Description); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	r.RegionID = region.String
	return &r, nil
}

// RegisteredLimitFilter selects registered limits; empty fields match
// anything.
type RegisteredLimitFilter struct {
	ServiceID, RegionID, ResourceName string
	ServiceIDs                        []string // when not nil, one of these
}

// ListRegisteredLimits returns the registered limits matching f.
func (s *Store) ListRegisteredLimits(ctx context.Context, f RegisteredLimitFilter) ([]*RegisteredLimit, error) {
	var w where
	if f.ServiceID != "" {
		w.add("service_id = ?", f.ServiceID)
	}
	if f.RegionID != "" {
		w.add("region_id = ?", f.RegionID)
	}
	if f.ResourceName != "" {
		w.add("resource_name = ?", f.ResourceName)
	}
	if f.ServiceIDs != nil {
		if len(f.ServiceIDs) == 0 {
			return []*RegisteredLimit{}, nil
		}
		w.add("service_id IN ("+placeholders(len(f.ServiceIDs))+")", anyArgs(f.ServiceIDs)...)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+registeredLimitCols+` FROM registered_limits`+w.sql()+` ORDER BY service_id, resource_name, id`, w.args...)
	if err != nil {
		return nil, wrap("list registered limits", err)
	}
	defer rows.Close()
	out := []*RegisteredLimit{}
	for rows.Next() {
		r, err := scanRegisteredLimit(rows)
		if err != nil {
			return nil, wrap("list registered limits", err)
		}
		out = append(out, r)
	}
	return out, wrap("list registered limits", rows.Err())
}

// GetRegisteredLimit returns a registered limit by id.
func (s *Store) GetRegisteredLimit(ctx context.Context, id string) (*RegisteredLimit, error) {
	r, err := scanRegisteredLimit(s.db.R.QueryRowContext(ctx, `SELECT `+registeredLimitCols+` FROM registered_limits WHERE id = ?`, id))
	return r, wrap("get registered limit", err)
}

// CreateRegisteredLimits inserts all of rls or none: each (service, region,
// resource) may be registered once (errDuplicateLimit).
func (s *Store) CreateRegisteredLimits(ctx context.Context, rls []*RegisteredLimit) error {
	return wrap("create registered limits", s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rls {
			var w where
			limitKey(&w, r.ServiceID, r.RegionID, r.ResourceName)
			n, err := countRows(ctx, tx, "registered_limits", w)
			if err != nil {
				return err
			}
			if n > 0 {
				return errDuplicateLimit
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO registered_limits (`+registeredLimitCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
				r.ID, r.ServiceID, nullStr(r.RegionID), r.ResourceName, r.DefaultLimit, r.Description); err != nil {
				return err
			}
		}
		return nil
	}))
}

// UpdateRegisteredLimit writes r unless limits refer to the registered
// limit as it was (errLimitReferenced) or r now duplicates another
// (errDuplicateLimit).
func (s *Store) UpdateRegisteredLimit(ctx context.Context, old, r *RegisteredLimit) error {
	return wrap("update registered limit", s.db.Tx(ctx, func(tx *sql.Tx) error {
		var w where
		limitKey(&w, old.ServiceID, old.RegionID, old.ResourceName)
		n, err := countRows(ctx, tx, "limits", w)
		if err != nil {
			return err
		}
		if n > 0 {
			return errLimitReferenced
		}
		w = where{}
		limitKey(&w, r.ServiceID, r.RegionID, r.ResourceName)
		w.add("id <> ?", r.ID)
		if n, err = countRows(ctx, tx, "registered_limits", w); err != nil {
			return err
		}
		if n > 0 {
			return errDuplicateLimit
		}
		res, err := tx.ExecContext(ctx, `UPDATE registered_limits SET service_id = ?, region_id = ?, resource_name = ?, default_limit = ?, description = ? WHERE id = ?`,
			r.ServiceID, nullStr(r.RegionID), r.ResourceName, r.DefaultLimit, r.Description, r.ID)
		return affected(res, err)
	}))
}

// DeleteRegisteredLimit removes a registered limit no limit refers to.
func (s *Store) DeleteRegisteredLimit(ctx context.Context, id string) error {
	return wrap("delete registered limit", s.db.Tx(ctx, func(tx *sql.Tx) error {
		r, err := scanRegisteredLimit(tx.QueryRowContext(ctx, `SELECT `+registeredLimitCols+` FROM registered_limits WHERE id = ?`, id))
		if err != nil {
			return err
		}
		var w where
		limitKey(&w, r.ServiceID, r.RegionID, r.ResourceName)
		n, err := countRows(ctx, tx, "limits", w)
		if err != nil {
			return err
		}
		if n > 0 {
			return errLimitReferenced
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM registered_limits WHERE id = ?`, id)
		return err
	}))
}

const limitCols = `id, project_id, domain_id, service_id, region_id, resource_name, resource_limit, description`

func scanLimit(row interface{ Scan(...any) error }) (*Limit, error) {
	var l Limit
	var project, domain, region sql.NullString
	if err := row.Scan(&l.ID, &project, &domain, &l.ServiceID, &region, &l.ResourceName, &l.ResourceLimit, &l.Description); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	l.ProjectID, l.DomainID, l.RegionID = project.String, domain.String, region.String
	return &l, nil
}

// LimitFilter selects limits; empty fields match anything.
type LimitFilter struct {
	ServiceID, RegionID, ResourceName, ProjectID, DomainID string
	// ProjectsOrDomain, when not nil, keeps only the limits of these
	// projects and of the domain DomainOf.
	ProjectsOrDomain []string
	DomainOf         string
}

// ListLimits returns the limits matching f.
func (s *Store) ListLimits(ctx context.Context, f LimitFilter) ([]*Limit, error) {
	var w where
	for _, c := range []struct{ col, v string }{{"service_id", f.ServiceID}, {"region_id", f.RegionID},
		{"resource_name", f.ResourceName}, {"project_id", f.ProjectID}, {"domain_id", f.DomainID}} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if f.ProjectsOrDomain != nil {
		cond, args := "domain_id = ?", []any{f.DomainOf}
		if len(f.ProjectsOrDomain) > 0 {
			cond = "(" + cond + " OR project_id IN (" + placeholders(len(f.ProjectsOrDomain)) + "))"
			args = append(args, anyArgs(f.ProjectsOrDomain)...)
		}
		w.add(cond, args...)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+limitCols+` FROM limits`+w.sql()+` ORDER BY service_id, resource_name, id`, w.args...)
	if err != nil {
		return nil, wrap("list limits", err)
	}
	defer rows.Close()
	out := []*Limit{}
	for rows.Next() {
		l, err := scanLimit(rows)
		if err != nil {
			return nil, wrap("list limits", err)
		}
		out = append(out, l)
	}
	return out, wrap("list limits", rows.Err())
}

// GetLimit returns a limit by id.
func (s *Store) GetLimit(ctx context.Context, id string) (*Limit, error) {
	l, err := scanLimit(s.db.R.QueryRowContext(ctx, `SELECT `+limitCols+` FROM limits WHERE id = ?`, id))
	return l, wrap("get limit", err)
}

// CreateLimits inserts all of ls or none. Each must match a registered
// limit (errNoRegistered) and be the only limit of its project or domain
// for it (errDuplicateLimit).
func (s *Store) CreateLimits(ctx context.Context, ls []*Limit) error {
	return wrap("create limits", s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, l := range ls {
			var w where
			limitKey(&w, l.ServiceID, l.RegionID, l.ResourceName)
			n, err := countRows(ctx, tx, "registered_limits", w)
			if err != nil {
				return err
			}
			if n == 0 {
				return errNoRegistered
			}
			if l.ProjectID != "" {
				w.add("project_id = ?", l.ProjectID)
			} else {
				w.add("domain_id = ?", l.DomainID)
			}
			if n, err = countRows(ctx, tx, "limits", w); err != nil {
				return err
			}
			if n > 0 {
				return errDuplicateLimit
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO limits (`+limitCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				l.ID, nullStr(l.ProjectID), nullStr(l.DomainID), l.ServiceID, nullStr(l.RegionID), l.ResourceName, l.ResourceLimit, l.Description); err != nil {
				return err
			}
		}
		return nil
	}))
}

// UpdateLimit writes the mutable fields of l.
func (s *Store) UpdateLimit(ctx context.Context, l *Limit) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE limits SET resource_limit = ?, description = ? WHERE id = ?`, l.ResourceLimit, l.Description, l.ID)
	return wrap("update limit", affected(res, err))
}

// DeleteLimit removes a limit.
func (s *Store) DeleteLimit(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM limits WHERE id = ?`, id)
	return wrap("delete limit", affected(res, err))
}

// DeleteLimitsOf removes the limits of a deleted project or domain, as
// Keystone does when the project goes.
func (s *Store) DeleteLimitsOf(ctx context.Context, projectOrDomainID string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM limits WHERE project_id = ? OR domain_id = ?`, projectOrDomainID, projectOrDomainID)
	return wrap("delete limits", err)
}
