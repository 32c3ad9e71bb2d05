package identity

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

const trustCols = `id, trustor_user_id, trustee_user_id, project_id, impersonation, expires_at, remaining_uses,
	redelegated_trust_id, redelegation_count, deleted_at, extra`

func scanTrust(row interface{ Scan(...any) error }) (*Trust, error) {
	var t Trust
	var project, redeleg sql.NullString
	var imp int
	var exp, deleted, uses, count sql.NullInt64
	var extra string
	if err := row.Scan(&t.ID, &t.TrustorUserID, &t.TrusteeUserID, &project, &imp, &exp, &uses, &redeleg, &count, &deleted, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	t.ProjectID, t.Impersonation, t.RedelegatedTrustID = project.String, imp == 1, redeleg.String
	t.ExpiresAt, t.DeletedAt, t.Extra = fromMicros(exp.Int64), fromMicros(deleted.Int64), decodeJSON(extra)
	if uses.Valid {
		n := int(uses.Int64)
		t.RemainingUses = &n
	}
	if count.Valid {
		n := int(count.Int64)
		t.RedelegationCount = &n
	}
	return &t, nil
}

// GetTrust returns a trust (deleted ones too; callers check DeletedAt) with
// its role ids.
func (s *Store) GetTrust(ctx context.Context, id string) (*Trust, error) {
	t, err := scanTrust(s.db.R.QueryRowContext(ctx, `SELECT `+trustCols+` FROM trusts WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("get trust", err)
	}
	t.RoleIDs, err = s.strings(ctx, `SELECT role_id FROM trust_roles WHERE trust_id = ? ORDER BY role_id`, id)
	return t, wrap("get trust", err)
}

// ConsumeTrustUse decrements a trust's remaining uses, failing with
// errNotFound when none are left.
func (s *Store) ConsumeTrustUse(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE trusts SET remaining_uses = remaining_uses - 1
		WHERE id = ? AND deleted_at IS NULL AND remaining_uses IS NOT NULL AND remaining_uses > 0`, id)
	return wrap("consume trust use", affected(res, err))
}

// CreateTrust stores a new trust with its roles.
func (s *Store) CreateTrust(ctx context.Context, t *Trust) error {
	return wrap("create trust", s.db.Tx(ctx, func(tx *sql.Tx) error {
		var uses, count any
		if t.RemainingUses != nil {
			uses = *t.RemainingUses
		}
		if t.RedelegationCount != nil {
			count = *t.RedelegationCount
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO trusts (`+trustCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TrustorUserID, t.TrusteeUserID, nullStr(t.ProjectID), boolInt(t.Impersonation), nullMicros(t.ExpiresAt),
			uses, nullStr(t.RedelegatedTrustID), count, nullMicros(t.DeletedAt), encodeJSON(t.Extra)); err != nil {
			return err
		}
		for _, r := range t.RoleIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO trust_roles (trust_id, role_id) VALUES (?, ?)`, t.ID, r); err != nil {
				return err
			}
		}
		return nil
	}))
}

// TrustFilter selects live (not deleted) trusts; empty fields match all.
type TrustFilter struct {
	TrustorUserID      string
	TrusteeUserID      string
	RedelegatedTrustID string
	ProjectID          string
}

// ListTrusts returns the trusts that are not deleted and match f, without
// their roles.
func (s *Store) ListTrusts(ctx context.Context, f TrustFilter) ([]*Trust, error) {
	var w where
	w.add("deleted_at IS NULL")
	for _, c := range []struct{ col, v string }{
		{"trustor_user_id", f.TrustorUserID}, {"trustee_user_id", f.TrusteeUserID},
		{"redelegated_trust_id", f.RedelegatedTrustID}, {"project_id", f.ProjectID},
	} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+trustCols+` FROM trusts`+w.sql()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, wrap("list trusts", err)
	}
	defer rows.Close()
	out := []*Trust{}
	for rows.Next() {
		t, err := scanTrust(rows)
		if err != nil {
			return nil, wrap("list trusts", err)
		}
		out = append(out, t)
	}
	return out, wrap("list trusts", rows.Err())
}

// DeleteTrust soft-deletes a live trust, as Keystone does: the row stays
// with deleted_at set. It fails with errNotFound if there is none.
func (s *Store) DeleteTrust(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE trusts SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, micros(at), id)
	return wrap("delete trust", affected(res, err))
}
