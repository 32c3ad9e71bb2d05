package compute

import (
	"database/sql"
	"net/http"
	"strings"
)

// GET /os-migrations (admin): the resizes kumo records in
// instance_migrations, as Nova's migrations.py. Fields per microversion:
// 2.23 migration_type (links only for a live migration in progress, which
// kumo never has), 2.59 uuid, 2.80 user_id and project_id. Filters:
// status, host (source or destination), source_compute, instance_uuid,
// migration_type (2.23). Not done: 2.59 paging (limit, marker,
// changes-since/before).
func init() {
	register(route{method: "GET", path: "/os-migrations", rule: "os_compute_api:os-migrations:index", handle: listMigrations})
}

func listMigrations(c *call) error {
	q := c.r.URL.Query()
	where := []string{"1 = 1"}
	var args []any
	for param, col := range map[string]string{"status": "m.status", "source_compute": "m.source_compute",
		"instance_uuid": "m.instance_uuid"} {
		if v := q.Get(param); v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	if v := q.Get("host"); v != "" {
		where = append(where, "(m.source_compute = ? OR m.dest_compute = ?)")
		args = append(args, v, v)
	}
	if v := q.Get("migration_type"); v != "" && c.mv.AtLeast(2, 23) {
		where = append(where, "m.migration_type = ?")
		args = append(args, v)
	}
	rows, err := c.s.db.R.QueryContext(c.ctx, `SELECT m.id, m.uuid, m.instance_uuid, m.source_compute, m.dest_compute,
		fo.id, fn.id, m.migration_type, m.status, m.created_at, m.updated_at, i.user_id, i.project_id
		FROM instance_migrations m
		LEFT JOIN flavors fo ON fo.flavorid = m.old_flavor_id
		LEFT JOIN flavors fn ON fn.flavorid = m.new_flavor_id
		LEFT JOIN instances i ON i.uuid = m.instance_uuid
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.created_at DESC, m.id DESC`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		var id int64
		var uuid, inst, mtype, status, created string
		var src, dst, updated, user, project sql.NullString
		var oldID, newID sql.NullInt64
		if err := rows.Scan(&id, &uuid, &inst, &src, &dst, &oldID, &newID, &mtype, &status, &created, &updated, &user, &project); err != nil {
			return err
		}
		m := map[string]any{"id": id, "status": status, "instance_uuid": inst,
			"source_compute": nullStrAny(src), "source_node": nullStrAny(src), "dest_compute": nullStrAny(dst), "dest_node": nullStrAny(dst),
			"dest_host": nil, "old_instance_type_id": nullInt(oldID), "new_instance_type_id": nullInt(newID),
			"created_at": novaTime(parseTime(created)), "updated_at": nil}
		if updated.Valid && updated.String != "" {
			m["updated_at"] = novaTime(parseTime(updated.String))
		}
		if c.mv.AtLeast(2, 23) {
			m["migration_type"] = mtype
		}
		if c.mv.AtLeast(2, 59) {
			m["uuid"] = uuid
		}
		if c.mv.AtLeast(2, 80) {
			m["user_id"], m["project_id"] = nullStrAny(user), nullStrAny(project)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"migrations": out})
}

func nullStrAny(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func nullInt(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}
