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
