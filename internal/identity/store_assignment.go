package identity

import "context"

// AddAssignment grants a role; granting an existing one is not an error.
func (s *Store) AddAssignment(ctx context.Context, a Assignment) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO assignments (type, actor_id, target_id, role_id, inherited)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, a.Type, a.ActorID, a.TargetID, a.RoleID, boolInt(a.Inherited))
	return wrap("add assignment", err)
}

// DeleteAssignment revokes a role; errNotFound when there was no such grant.
func (s *Store) DeleteAssignment(ctx context.Context, a Assignment) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM assignments WHERE type = ? AND actor_id = ? AND target_id = ? AND role_id = ? AND inherited = ?`,
		a.Type, a.ActorID, a.TargetID, a.RoleID, boolInt(a.Inherited))
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			err = errNotFound
		}
	}
	return wrap("delete assignment", err)
}

// AssignmentFilter selects direct assignments; empty fields match anything.
type AssignmentFilter struct {
	Types     []string
	ActorIDs  []string
	TargetIDs []string
	RoleID    string
	Inherited *bool
}

// ListAssignments returns the direct (stored) assignments matching f.
func (s *Store) ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error) {
	var w where
	if len(f.Types) > 0 {
		w.add("type IN ("+placeholders(len(f.Types))+")", anyArgs(f.Types)...)
	}
	if f.ActorIDs != nil {
		if len(f.ActorIDs) == 0 {
			return nil, nil
		}
		w.add("actor_id IN ("+placeholders(len(f.ActorIDs))+")", anyArgs(f.ActorIDs)...)
	}
	if f.TargetIDs != nil {
		if len(f.TargetIDs) == 0 {
			return nil, nil
		}
		w.add("target_id IN ("+placeholders(len(f.TargetIDs))+")", anyArgs(f.TargetIDs)...)
	}
	if f.RoleID != "" {
		w.add("role_id = ?", f.RoleID)
	}
	if f.Inherited != nil {
		w.add("inherited = ?", boolInt(*f.Inherited))
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT type, actor_id, target_id, role_id, inherited FROM assignments`+w.sql()+
		` ORDER BY type, actor_id, target_id, role_id`, w.args...)
	if err != nil {
		return nil, wrap("list assignments", err)
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		var inh int
		if err := rows.Scan(&a.Type, &a.ActorID, &a.TargetID, &a.RoleID, &inh); err != nil {
			return nil, wrap("list assignments", err)
		}
		a.Inherited = inh == 1
		out = append(out, a)
	}
	return out, wrap("list assignments", rows.Err())
}
