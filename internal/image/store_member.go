package image

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

func scanMember(row interface{ Scan(...any) error }) (*Member, error) {
	var m Member
	var c, u int64
	if err := row.Scan(&m.ImageID, &m.MemberID, &m.Status, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(c), fromMicros(u)
	return &m, nil
}

const memberCols = `image_id, member, status, created_at, updated_at`

// AddMember stores a new membership of a live image (a unique violation
// when it exists), keeping the image at most max members (a *limitError
// otherwise); errNotFound when the image is gone. One write transaction.
func (s *Store) AddMember(ctx context.Context, m *Member, max int) error {
	return wrap("add member", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockLive(ctx, tx, m.ImageID); err != nil {
			return err
		}
		if n, err := countChildren(ctx, tx, "image_members", m.ImageID); err != nil {
			return err
		} else if n+1 > max {
			return &limitError{what: "members", attempted: n + 1}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO image_members (`+memberCols+`) VALUES (?, ?, ?, ?, ?)`,
			m.ImageID, m.MemberID, m.Status, micros(m.CreatedAt), micros(m.UpdatedAt))
		return err
	}))
}

// GetMember returns one membership of an image.
func (s *Store) GetMember(ctx context.Context, imageID, member string) (*Member, error) {
	m, err := scanMember(s.db.R.QueryRowContext(ctx, `SELECT `+memberCols+` FROM image_members WHERE image_id = ? AND member = ?`, imageID, member))
	return m, wrap("get member", err)
}

// ListMembers returns the memberships of an image; only, when not "", limits
// them to that one member (what a non-owner may see).
func (s *Store) ListMembers(ctx context.Context, imageID, only string) ([]*Member, error) {
	q := `SELECT ` + memberCols + ` FROM image_members WHERE image_id = ?`
	args := []any{imageID}
	if only != "" {
		q += ` AND member = ?`
		args = append(args, only)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY created_at, member`, args...)
	if err != nil {
		return nil, wrap("list members", err)
	}
	defer rows.Close()
	out := []*Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, wrap("list members", err)
		}
		out = append(out, m)
	}
	return out, wrap("list members", rows.Err())
}

// UpdateMemberStatus sets a membership's status.
func (s *Store) UpdateMemberStatus(ctx context.Context, imageID, member, status string, at time.Time) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member = ?`,
		status, micros(at), imageID, member)
	if err != nil {
		return wrap("update member", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// DeleteMember removes a membership.
func (s *Store) DeleteMember(ctx context.Context, imageID, member string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM image_members WHERE image_id = ? AND member = ?`, imageID, member)
	if err != nil {
		return wrap("delete member", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}
