package identity

import (
	"context"
	"database/sql"
	"errors"
)

const groupCols = `g.id, g.domain_id, g.name, g.description, g.extra`

func scanGroup(row interface{ Scan(...any) error }) (*Group, error) {
	var g Group
	var extra string
	if err := row.Scan(&g.ID, &g.DomainID, &g.Name, &g.Description, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	g.Extra = decodeJSON(extra)
	return &g, nil
}

// GetGroup returns a group by id.
func (s *Store) GetGroup(ctx context.Context, id string) (*Group, error) {
	g, err := scanGroup(s.db.R.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g WHERE g.id = ?`, id))
	return g, wrap("get group", err)
}

// GetGroupByName returns the group named name in domainID.
func (s *Store) GetGroupByName(ctx context.Context, domainID, name string) (*Group, error) {
	g, err := scanGroup(s.db.R.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g WHERE g.domain_id = ? AND g.name = ?`, domainID, name))
	return g, wrap("get group by name", err)
}

// GroupFilter selects groups for ListGroups; empty fields match anything.
type GroupFilter struct {
	DomainID string
	Name     string
	UserID   string // groups this user is a member of
	IDs      []string
}

// ListGroups returns the groups matching f ordered by name.
func (s *Store) ListGroups(ctx context.Context, f GroupFilter) ([]*Group, error) {
	var w where
	if f.DomainID != "" {
		w.add("g.domain_id = ?", f.DomainID)
	}
	if f.Name != "" {
		w.add("g.name = ?", f.Name)
	}
	if f.UserID != "" {
		w.add("g.id IN (SELECT group_id FROM user_groups WHERE user_id = ?)", f.UserID)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []*Group{}, nil
		}
		w.add("g.id IN ("+placeholders(len(f.IDs))+")", anyArgs(f.IDs)...)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+groupCols+` FROM groups g`+w.sql()+` ORDER BY g.name, g.id`, w.args...)
	if err != nil {
		return nil, wrap("list groups", err)
	}
	defer rows.Close()
	out := []*Group{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, wrap("list groups", err)
		}
		out = append(out, g)
	}
	return out, wrap("list groups", rows.Err())
}

// CreateGroup inserts g.
func (s *Store) CreateGroup(ctx context.Context, g *Group) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO groups (id, domain_id, name, description, extra) VALUES (?, ?, ?, ?, ?)`,
		g.ID, g.DomainID, g.Name, g.Description, encodeJSON(g.Extra))
	return wrap("create group", err)
}

// UpdateGroup writes the mutable fields of g.
func (s *Store) UpdateGroup(ctx context.Context, g *Group) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE groups SET name = ?, description = ?, extra = ? WHERE id = ?`,
		g.Name, g.Description, encodeJSON(g.Extra), g.ID)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = errNotFound
		}
	}
	return wrap("update group", err)
}

// DeleteGroup removes a group, its memberships and its role assignments.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	return wrap("delete group", s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM user_groups WHERE group_id = ?`,
			`DELETE FROM assignments WHERE actor_id = ? AND type IN ('GroupProject', 'GroupDomain', 'GroupSystem')`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	}))
}

// AddUserToGroup makes userID a member of groupID; adding an existing
// member is not an error.
func (s *Store) AddUserToGroup(ctx context.Context, userID, groupID string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO user_groups (user_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, groupID)
	return wrap("add user to group", err)
}

// RemoveUserFromGroup ends a membership; errNotFound when there was none.
func (s *Store) RemoveUserFromGroup(ctx context.Context, userID, groupID string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM user_groups WHERE user_id = ? AND group_id = ?`, userID, groupID)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = errNotFound
		}
	}
	return wrap("remove user from group", err)
}

// IsUserInGroup reports whether userID is a member of groupID.
func (s *Store) IsUserInGroup(ctx context.Context, userID, groupID string) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_groups WHERE user_id = ? AND group_id = ?`, userID, groupID).Scan(&n)
	return n > 0, wrap("is user in group", err)
}

// GroupHasAssignments reports whether any role is granted to groupID.
func (s *Store) GroupHasAssignments(ctx context.Context, groupID string) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM assignments WHERE actor_id = ? AND type IN ('GroupProject', 'GroupDomain', 'GroupSystem')`, groupID).Scan(&n)
	return n > 0, wrap("group assignments", err)
}
