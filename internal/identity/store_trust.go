package identity

import (
	"context"
	"database/sql"
	"errors"
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
		WHERE id = ? AND remaining_uses IS NOT NULL AND remaining_uses > 0`, id)
	return wrap("consume trust use", affected(res, err))
}
