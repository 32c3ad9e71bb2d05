package identity

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

const userCols = `u.id, u.domain_id, u.name, u.enabled, u.default_project_id, u.extra, u.options,
	u.created_at, u.last_active_at, u.failed_auth_count, u.failed_auth_at,
	(SELECT p.expires_at FROM passwords p WHERE p.user_id = u.id ORDER BY p.id DESC LIMIT 1)`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var enabled int
	var defProject sql.NullString
	var extra, options string
	var created int64
	var lastActive, failedAt, pwExpires sql.NullInt64
	if err := row.Scan(&u.ID, &u.DomainID, &u.Name, &enabled, &defProject, &extra, &options,
		&created, &lastActive, &u.FailedAuthCount, &failedAt, &pwExpires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	u.Enabled, u.DefaultProjectID = enabled == 1, defProject.String
	u.Extra, u.Options = decodeJSON(extra), decodeJSON(options)
	u.CreatedAt, u.LastActiveAt = fromMicros(created), fromMicros(lastActive.Int64)
	u.FailedAuthAt, u.PasswordExpiresAt = fromMicros(failedAt.Int64), fromMicros(pwExpires.Int64)
	return &u, nil
}

// GetUser returns a user by id.
func (s *Store) GetUser(ctx context.Context, id string) (*User, error) {
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = ?`, id))
	return u, wrap("get user", err)
}

// GetUserByName returns the user named name in domainID.
func (s *Store) GetUserByName(ctx context.Context, domainID, name string) (*User, error) {
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.domain_id = ? AND u.name = ?`, domainID, name))
	return u, wrap("get user by name", err)
}

// UserFilter selects users for ListUsers.
type UserFilter struct {
	DomainID string
	Name     string
	Enabled  *bool
	GroupID  string // members of this group only
	IDs      []string
}

// ListUsers returns the users matching f ordered by name.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]*User, error) {
	var w where
	if f.DomainID != "" {
		w.add("u.domain_id = ?", f.DomainID)
	}
	if f.Name != "" {
		w.add("u.name = ?", f.Name)
	}
	if f.Enabled != nil {
		w.add("u.enabled = ?", boolInt(*f.Enabled))
	}
	if f.GroupID != "" {
		w.add("u.id IN (SELECT user_id FROM user_groups WHERE group_id = ?)", f.GroupID)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []*User{}, nil
		}
		w.add("u.id IN ("+placeholders(len(f.IDs))+")", anyArgs(f.IDs)...)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+userCols+` FROM users u`+w.sql()+` ORDER BY u.name, u.id`, w.args...)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, wrap("list users", rows.Err())
}

// PasswordRecord is one entry of a user's password history.
type PasswordRecord struct {
	Hash        string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	SelfService bool
}

// CreateUser inserts u and, when pw is not nil, its first password.
func (s *Store) CreateUser(ctx context.Context, u *User, pw *PasswordRecord) error {
	return wrap("create user", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, domain_id, name, enabled, default_project_id, extra, options, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.ID, u.DomainID, u.Name, boolInt(u.Enabled), nullStr(u.DefaultProjectID),
			encodeJSON(u.Extra), encodeJSON(u.Options), micros(u.CreatedAt)); err != nil {
			return err
		}
		if pw == nil {
			return nil
		}
		return addPassword(ctx, tx, u.ID, pw)
	}))
}

func addPassword(ctx context.Context, tx *sql.Tx, userID string, pw *PasswordRecord) error {
	var exp any
	if !pw.ExpiresAt.IsZero() {
		exp = micros(pw.ExpiresAt)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO passwords (user_id, password_hash, created_at, expires_at, self_service) VALUES (?, ?, ?, ?, ?)`,
		userID, pw.Hash, micros(pw.CreatedAt), exp, boolInt(pw.SelfService))
	return err
}

// UpdateUser writes the mutable fields of u and, when pw is not nil, adds
// it as the new current password, keeping at most keepHistory old ones.
func (s *Store) UpdateUser(ctx context.Context, u *User, pw *PasswordRecord, keepHistory int) error {
	return wrap("update user", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, enabled = ?, default_project_id = ?, extra = ?, options = ?,
			failed_auth_count = ?, failed_auth_at = ? WHERE id = ?`,
			u.Name, boolInt(u.Enabled), nullStr(u.DefaultProjectID), encodeJSON(u.Extra), encodeJSON(u.Options),
			u.FailedAuthCount, nullMicros(u.FailedAuthAt), u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		if pw == nil {
			return nil
		}
		if err := addPassword(ctx, tx, u.ID, pw); err != nil {
			return err
		}
		if keepHistory < 1 {
			keepHistory = 1
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM passwords WHERE user_id = ? AND id NOT IN
			(SELECT id FROM passwords WHERE user_id = ? ORDER BY id DESC LIMIT ?)`, u.ID, u.ID, keepHistory)
		return err
	}))
}

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// RecordAuthResult stores the outcome of a password check: the failure
// counter for lockout, and the last-active time.
func (s *Store) RecordAuthResult(ctx context.Context, userID string, failures int, failedAt, activeAt time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE users SET failed_auth_count = ?, failed_auth_at = ?,
		last_active_at = COALESCE(?, last_active_at) WHERE id = ?`,
		failures, nullMicros(failedAt), nullMicros(activeAt), userID)
	return wrap("record auth result", err)
}

// Passwords returns the password history of a user, newest first.
func (s *Store) Passwords(ctx context.Context, userID string) ([]PasswordRecord, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT password_hash, created_at, expires_at, self_service FROM passwords
		WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, wrap("passwords", err)
	}
	defer rows.Close()
	var out []PasswordRecord
	for rows.Next() {
		var p PasswordRecord
		var created int64
		var exp sql.NullInt64
		var self int
		if err := rows.Scan(&p.Hash, &created, &exp, &self); err != nil {
			return nil, wrap("passwords", err)
		}
		p.CreatedAt, p.ExpiresAt, p.SelfService = fromMicros(created), fromMicros(exp.Int64), self == 1
		out = append(out, p)
	}
	return out, wrap("passwords", rows.Err())
}

// DeleteUser removes a user, its passwords, memberships, assignments,
// credentials, application credentials and access rules.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return wrap("delete user", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		for _, q := range []string{
			`DELETE FROM assignments WHERE actor_id = ?`,
			`DELETE FROM credentials WHERE user_id = ?`,
			`DELETE FROM application_credentials WHERE user_id = ?`,
			`DELETE FROM application_credential_access_rules WHERE access_rule_id IN (SELECT id FROM access_rules WHERE user_id = ?)`,
			`DELETE FROM access_rules WHERE user_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	}))
}

// GroupIDsOfUser returns the ids of the groups userID belongs to.
func (s *Store) GroupIDsOfUser(ctx context.Context, userID string) ([]string, error) {
	return s.strings(ctx, `SELECT group_id FROM user_groups WHERE user_id = ?`, userID)
}

// strings runs a query returning one text column.
func (s *Store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
