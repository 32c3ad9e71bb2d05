package identity

import (
	"context"
	"database/sql"
	"errors"
)

const appCredCols = `id, name, secret_hash, description, user_id, project_id, system, expires_at, unrestricted, created_at`

func scanAppCred(row interface{ Scan(...any) error }) (*AppCred, error) {
	var a AppCred
	var project, system sql.NullString
	var exp sql.NullInt64
	var unrestricted int
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.SecretHash, &a.Description, &a.UserID, &project, &system, &exp, &unrestricted, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	a.ProjectID, a.System, a.Unrestricted = project.String, system.String, unrestricted == 1
	a.ExpiresAt, a.CreatedAt = fromMicros(exp.Int64), fromMicros(created)
	return &a, nil
}

// GetAppCred returns an application credential with its roles and access
// rules.
func (s *Store) GetAppCred(ctx context.Context, id string) (*AppCred, error) {
	a, err := scanAppCred(s.db.R.QueryRowContext(ctx, `SELECT `+appCredCols+` FROM application_credentials WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("get application credential", err)
	}
	return a, wrap("get application credential", s.appCredDetails(ctx, a))
}

// GetAppCredByName returns the application credential name of userID.
func (s *Store) GetAppCredByName(ctx context.Context, userID, name string) (*AppCred, error) {
	a, err := scanAppCred(s.db.R.QueryRowContext(ctx, `SELECT `+appCredCols+` FROM application_credentials WHERE user_id = ? AND name = ?`, userID, name))
	if err != nil {
		return nil, wrap("get application credential", err)
	}
	return a, wrap("get application credential", s.appCredDetails(ctx, a))
}

func (s *Store) appCredDetails(ctx context.Context, a *AppCred) error {
	var err error
	if a.RoleIDs, err = s.strings(ctx, `SELECT role_id FROM application_credential_roles WHERE application_credential_id = ? ORDER BY role_id`, a.ID); err != nil {
		return err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT r.id, r.user_id, r.service, r.path, r.method FROM access_rules r
		JOIN application_credential_access_rules x ON x.access_rule_id = r.id WHERE x.application_credential_id = ? ORDER BY r.id`, a.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r AccessRule
		if err := rows.Scan(&r.ID, &r.UserID, &r.Service, &r.Path, &r.Method); err != nil {
			return err
		}
		a.AccessRules = append(a.AccessRules, r)
	}
	return rows.Err()
}

// ListAppCreds returns the application credentials of userID, optionally
// only the one named name, with their roles and access rules.
func (s *Store) ListAppCreds(ctx context.Context, userID, name string) ([]*AppCred, error) {
	var w where
	w.add("user_id = ?", userID)
	if name != "" {
		w.add("name = ?", name)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+appCredCols+` FROM application_credentials`+w.sql()+` ORDER BY created_at, id`, w.args...)
	if err != nil {
		return nil, wrap("list application credentials", err)
	}
	out := []*AppCred{}
	for rows.Next() {
		a, err := scanAppCred(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list application credentials", err)
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list application credentials", err)
	}
	for _, a := range out {
		if err := s.appCredDetails(ctx, a); err != nil {
			return nil, wrap("list application credentials", err)
		}
	}
	return out, nil
}

// CreateAppCred inserts a with its roles and access rules in one
// transaction. An access rule with an id that a.UserID already owns is
// reused; any other rule reuses the user's identical rule if there is one,
// and is created otherwise (with its id if it has one). a.AccessRules is
// replaced by the rules as stored. A duplicate name is a unique violation.
func (s *Store) CreateAppCred(ctx context.Context, a *AppCred) error {
	return wrap("create application credential", s.db.Tx(ctx, func(tx *sql.Tx) error {
		var project, system, exp any
		if a.ProjectID != "" {
			project = a.ProjectID
		}
		if a.System != "" {
			system = a.System
		}
		if !a.ExpiresAt.IsZero() {
			exp = micros(a.ExpiresAt)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_credentials (`+appCredCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Name, a.SecretHash, a.Description, a.UserID, project, system, exp, boolInt(a.Unrestricted), micros(a.CreatedAt)); err != nil {
			return err
		}
		for _, r := range a.RoleIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_credential_roles (application_credential_id, role_id) VALUES (?, ?)`, a.ID, r); err != nil {
				return err
			}
		}
		stored := make([]AccessRule, 0, len(a.AccessRules))
		linked := map[string]bool{}
		for _, r := range a.AccessRules {
			r, err := storeAccessRule(ctx, tx, a.UserID, r)
			if err != nil {
				return err
			}
			if linked[r.ID] {
				continue
			}
			linked[r.ID] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_credential_access_rules (application_credential_id, access_rule_id) VALUES (?, ?)`, a.ID, r.ID); err != nil {
				return err
			}
			stored = append(stored, r)
		}
		a.AccessRules = stored
		return nil
	}))
}

// storeAccessRule finds or creates the access rule r of userID.
func storeAccessRule(ctx context.Context, tx *sql.Tx, userID string, r AccessRule) (AccessRule, error) {
	scan := func(row *sql.Row) (AccessRule, error) {
		var out AccessRule
		err := row.Scan(&out.ID, &out.UserID, &out.Service, &out.Path, &out.Method)
		return out, err
	}
	if r.ID != "" {
		found, err := scan(tx.QueryRowContext(ctx, `SELECT id, user_id, service, path, method FROM access_rules WHERE id = ? AND user_id = ?`, r.ID, userID))
		if err == nil {
			return found, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return AccessRule{}, err
		}
	}
	found, err := scan(tx.QueryRowContext(ctx, `SELECT id, user_id, service, path, method FROM access_rules
		WHERE user_id = ? AND service = ? AND path = ? AND method = ?`, userID, r.Service, r.Path, r.Method))
	if err == nil {
		return found, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return AccessRule{}, err
	}
	r.UserID = userID
	_, err = tx.ExecContext(ctx, `INSERT INTO access_rules (id, user_id, service, path, method) VALUES (?, ?, ?, ?, ?)`, r.ID, r.UserID, r.Service, r.Path, r.Method)
	return r, err
}

// DeleteAppCred removes an application credential with its role and access
// rule links; the access rules themselves stay, as in Keystone.
func (s *Store) DeleteAppCred(ctx context.Context, id string) error {
	return wrap("delete application credential", s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM application_credential_roles WHERE application_credential_id = ?`,
			`DELETE FROM application_credential_access_rules WHERE application_credential_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM application_credentials WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	}))
}

// AccessRuleFilter selects the access rules of a user.
type AccessRuleFilter struct {
	UserID, Service, Path, Method string
}

// ListAccessRules returns the access rules matching f, ordered by id.
func (s *Store) ListAccessRules(ctx context.Context, f AccessRuleFilter) ([]AccessRule, error) {
	var w where
	w.add("user_id = ?", f.UserID)
	for col, v := range map[string]string{"service": f.Service, "path": f.Path, "method": f.Method} {
		if v != "" {
			w.add(col+" = ?", v)
		}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, user_id, service, path, method FROM access_rules`+w.sql()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, wrap("list access rules", err)
	}
	defer rows.Close()
	out := []AccessRule{}
	for rows.Next() {
		var r AccessRule
		if err := rows.Scan(&r.ID, &r.UserID, &r.Service, &r.Path, &r.Method); err != nil {
			return nil, wrap("list access rules", err)
		}
		out = append(out, r)
	}
	return out, wrap("list access rules", rows.Err())
}

// GetAccessRule returns one access rule.
func (s *Store) GetAccessRule(ctx context.Context, id string) (*AccessRule, error) {
	var r AccessRule
	err := s.db.R.QueryRowContext(ctx, `SELECT id, user_id, service, path, method FROM access_rules WHERE id = ?`, id).
		Scan(&r.ID, &r.UserID, &r.Service, &r.Path, &r.Method)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, wrap("get access rule", err)
	}
	return &r, nil
}

// errAccessRuleInUse is returned when deleting an access rule that an
// application credential still uses.
var errAccessRuleInUse = errors.New("access rule in use")

// DeleteAccessRule removes an access rule no application credential uses.
func (s *Store) DeleteAccessRule(ctx context.Context, id string) error {
	return wrap("delete access rule", s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_credential_access_rules WHERE access_rule_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errAccessRuleInUse
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM access_rules WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	}))
}
