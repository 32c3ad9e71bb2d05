package identity

import (
	"context"
	"database/sql"
	"errors"
)

const roleCols = `id, name, domain_id, description, options, extra`

func scanRole(row interface{ Scan(...any) error }) (*Role, error) {
	var r Role
	var options, extra string
	if err := row.Scan(&r.ID, &r.Name, &r.DomainID, &r.Description, &options, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	r.Options, r.Extra = decodeJSON(options), decodeJSON(extra)
	return &r, nil
}

// GetRole returns a role by id.
func (s *Store) GetRole(ctx context.Context, id string) (*Role, error) {
	r, err := scanRole(s.db.R.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles WHERE id = ?`, id))
	return r, wrap("get role", err)
}

// GetRoleByName returns the role named name in domainID ("" = global).
func (s *Store) GetRoleByName(ctx context.Context, domainID, name string) (*Role, error) {
	r, err := scanRole(s.db.R.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles WHERE domain_id = ? AND name = ?`, domainID, name))
	return r, wrap("get role by name", err)
}

// ListRoles returns roles; domainID nil lists global roles only, a value
// lists that domain's roles; name filters by name when not empty.
func (s *Store) ListRoles(ctx context.Context, domainID *string, name string) ([]*Role, error) {
	var w where
	d := ""
	if domainID != nil {
		d = *domainID
	}
	w.add("domain_id = ?", d)
	if name != "" {
		w.add("name = ?", name)
	}
	return s.queryRoles(ctx, `SELECT `+roleCols+` FROM roles`+w.sql()+` ORDER BY name, id`, w.args...)
}

// AllRoles returns every role, global and domain-specific, keyed by id.
func (s *Store) AllRoles(ctx context.Context) (map[string]*Role, error) {
	roles, err := s.queryRoles(ctx, `SELECT `+roleCols+` FROM roles`)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Role, len(roles))
	for _, r := range roles {
		m[r.ID] = r
	}
	return m, nil
}

func (s *Store) queryRoles(ctx context.Context, q string, args ...any) ([]*Role, error) {
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("list roles", err)
	}
	defer rows.Close()
	out := []*Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, wrap("list roles", err)
		}
		out = append(out, r)
	}
	return out, wrap("list roles", rows.Err())
}

// CreateRole inserts r.
func (s *Store) CreateRole(ctx context.Context, r *Role) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO roles (`+roleCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.Name, r.DomainID, r.Description, encodeJSON(r.Options), encodeJSON(r.Extra))
	return wrap("create role", err)
}

// UpdateRole writes the mutable fields of r.
func (s *Store) UpdateRole(ctx context.Context, r *Role) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE roles SET name = ?, description = ?, options = ?, extra = ? WHERE id = ?`,
		r.Name, r.Description, encodeJSON(r.Options), encodeJSON(r.Extra), r.ID)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = errNotFound
		}
	}
	return wrap("update role", err)
}

// DeleteRole removes a role with its assignments and implied-role rules
// (cascade), and its uses by trusts and application credentials.
func (s *Store) DeleteRole(ctx context.Context, id string) error {
	return wrap("delete role", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM application_credential_roles WHERE role_id = ?`, id)
		return err
	}))
}

// ImpliedRoleRules returns every prior -> implied rule.
func (s *Store) ImpliedRoleRules(ctx context.Context) (map[string][]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT prior_role_id, implied_role_id FROM implied_roles ORDER BY prior_role_id, implied_role_id`)
	if err != nil {
		return nil, wrap("implied roles", err)
	}
	defer rows.Close()
	m := map[string][]string{}
	for rows.Next() {
		var p, i string
		if err := rows.Scan(&p, &i); err != nil {
			return nil, wrap("implied roles", err)
		}
		m[p] = append(m[p], i)
	}
	return m, wrap("implied roles", rows.Err())
}

// AddImpliedRole records that prior implies implied.
func (s *Store) AddImpliedRole(ctx context.Context, prior, implied string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO implied_roles (prior_role_id, implied_role_id) VALUES (?, ?)`, prior, implied)
	return wrap("add implied role", err)
}

// DeleteImpliedRole removes the rule prior -> implied.
func (s *Store) DeleteImpliedRole(ctx context.Context, prior, implied string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?`, prior, implied)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = errNotFound
		}
	}
	return wrap("delete implied role", err)
}

// HasImpliedRole reports whether the rule prior -> implied exists.
func (s *Store) HasImpliedRole(ctx context.Context, prior, implied string) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM implied_roles WHERE prior_role_id = ? AND implied_role_id = ?`, prior, implied).Scan(&n)
	return n > 0, wrap("get implied role", err)
}
