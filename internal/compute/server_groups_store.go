package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"kumo/internal/platform/db"
)

// ServerGroup is a server group (Nova's InstanceGroup) with its members.
type ServerGroup struct {
	id        int64
	UUID      string
	Name      string
	ProjectID string
	UserID    string
	Policy    string // affinity, anti-affinity, soft-affinity, soft-anti-affinity
	Rules     map[string]any
	CreatedAt time.Time
	// Members are the uuids of the member instances that are not deleted,
	// in the order they joined.
	Members []string
	// Hosts maps a member to its compute host; members not yet scheduled
	// are absent.
	Hosts map[string]string
}

// MaxServerPerHost is the anti-affinity rule max_server_per_host (1 when
// unset, as Nova).
func (g *ServerGroup) MaxServerPerHost() int {
	switch v := g.Rules["max_server_per_host"].(type) {
	case float64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 1
}

type serverGroupStore struct{ db *db.DB }

func (s *Service) serverGroups() serverGroupStore { return serverGroupStore{db: s.db} }

const serverGroupColumns = `id, uuid, name, project_id, user_id, policy, rules, created_at`

func scanServerGroup(row scanner) (*ServerGroup, error) {
	g := &ServerGroup{}
	var rules, created string
	if err := row.Scan(&g.id, &g.UUID, &g.Name, &g.ProjectID, &g.UserID, &g.Policy, &rules, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rules), &g.Rules); err != nil || g.Rules == nil {
		g.Rules = map[string]any{}
	}
	g.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return g, nil
}

// liveMembers selects a group's members whose instance is not deleted
// (an instance not in the table yet is being built and counts).
const liveMembers = `SELECT m.instance_uuid, i.host FROM server_group_members m
	LEFT JOIN instances i ON i.uuid = m.instance_uuid
	WHERE m.group_id = ? AND (i.deleted IS NULL OR i.deleted = 0) ORDER BY m.rowid`

func (st serverGroupStore) loadMembers(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, g *ServerGroup) error {
	rows, err := q.QueryContext(ctx, liveMembers, g.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	g.Members, g.Hosts = []string{}, map[string]string{}
	for rows.Next() {
		var uuid string
		var host sql.NullString
		if err := rows.Scan(&uuid, &host); err != nil {
			return err
		}
		g.Members = append(g.Members, uuid)
		if host.Valid && host.String != "" {
			g.Hosts[uuid] = host.String
		}
	}
	return rows.Err()
}

// get returns the group with its live members.
func (st serverGroupStore) get(ctx context.Context, uuid string) (*ServerGroup, error) {
	g, err := scanServerGroup(st.db.R.QueryRowContext(ctx, `SELECT `+serverGroupColumns+` FROM server_groups WHERE uuid = ?`, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return g, st.loadMembers(ctx, st.db.R, g)
}

// list returns the groups of project (all projects when project is ""),
// oldest first, from offset, at most limit (< 0: all).
func (st serverGroupStore) list(ctx context.Context, project string, offset, limit int) ([]*ServerGroup, error) {
	q := `SELECT ` + serverGroupColumns + ` FROM server_groups`
	var args []any
	if project != "" {
		q += ` WHERE project_id = ?`
		args = append(args, project)
	}
	q += ` ORDER BY id LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	rows, err := st.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*ServerGroup
	for rows.Next() {
		g, err := scanServerGroup(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, g := range out {
		if err := st.loadMembers(ctx, st.db.R, g); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// count is the number of the project's groups.
func (st serverGroupStore) count(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, project string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM server_groups WHERE project_id = ?`, project).Scan(&n)
	return n, err
}

// create stores g; check runs in the same transaction with the project's
// current group count, so two racing creates cannot both pass the quota.
func (st serverGroupStore) create(ctx context.Context, g *ServerGroup, check func(count int64) error) error {
	rules, err := json.Marshal(g.Rules)
	if err != nil {
		return err
	}
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		n, err := st.count(ctx, tx, g.ProjectID)
		if err != nil {
			return err
		}
		if err := check(n); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO server_groups (uuid, name, project_id, user_id, policy, rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.UUID, g.Name, g.ProjectID, g.UserID, g.Policy, string(rules), g.CreatedAt.Format(time.RFC3339Nano))
		if err != nil {
			return err
		}
		g.id, err = res.LastInsertId()
		g.Members, g.Hosts = []string{}, map[string]string{}
		return err
	})
}

// delete removes the group and its membership rows.
func (st serverGroupStore) delete(ctx context.Context, uuid string) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM server_groups WHERE uuid = ?`, uuid).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM server_group_members WHERE group_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM server_groups WHERE id = ?`, id)
		return err
	})
}

// addMember adds instance to the group; check runs in the transaction
// with the group's current live member count.
func (st serverGroupStore) addMember(ctx context.Context, groupUUID, instance string, now time.Time, check func(g *ServerGroup, count int64) error) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		g, err := scanServerGroup(tx.QueryRowContext(ctx, `SELECT `+serverGroupColumns+` FROM server_groups WHERE uuid = ?`, groupUUID))
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if err := st.loadMembers(ctx, tx, g); err != nil {
			return err
		}
		for _, m := range g.Members {
			if m == instance {
				return nil
			}
		}
		if err := check(g, int64(len(g.Members))); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO server_group_members (group_id, instance_uuid, created_at) VALUES (?, ?, ?)`,
			g.id, instance, now.Format(time.RFC3339Nano))
		if db.IsUniqueViolation(err) {
			return errExists
		}
		return err
	})
}

// groupOf returns the uuid of the group instance is in ("" if none).
func (st serverGroupStore) groupOf(ctx context.Context, instance string) (string, error) {
	var uuid string
	err := st.db.R.QueryRowContext(ctx, `SELECT g.uuid FROM server_group_members m JOIN server_groups g ON g.id = m.group_id WHERE m.instance_uuid = ?`, instance).Scan(&uuid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return uuid, err
}
