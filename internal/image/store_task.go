package image

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

const taskCols = `id, type, status, owner, image_id, request_id, user_id, input, result, message, expires_at, created_at, updated_at`

func scanTask(row interface{ Scan(...any) error }) (*Task, error) {
	var t Task
	var image, req, user, result sql.NullString
	var input string
	var expires sql.NullInt64
	var created, updated int64
	if err := row.Scan(&t.ID, &t.Type, &t.Status, &t.Owner, &image, &req, &user, &input, &result, &t.Message,
		&expires, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	t.ImageID, t.RequestID, t.UserID = image.String, req.String, user.String
	if err := json.Unmarshal([]byte(input), &t.Input); err != nil {
		return nil, err
	}
	if result.Valid && result.String != "" {
		if err := json.Unmarshal([]byte(result.String), &t.Result); err != nil {
			return nil, err
		}
	}
	if expires.Valid {
		e := fromMicros(expires.Int64)
		t.ExpiresAt = &e
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}

func taskArgs(t *Task) ([]any, error) {
	input, err := json.Marshal(t.Input)
	if err != nil {
		return nil, err
	}
	var result any
	if t.Result != nil {
		b, err := json.Marshal(t.Result)
		if err != nil {
			return nil, err
		}
		result = string(b)
	}
	var expires any
	if t.ExpiresAt != nil {
		expires = micros(*t.ExpiresAt)
	}
	return []any{t.Type, t.Status, t.Owner, nilIfEmpty(t.ImageID), nilIfEmpty(t.RequestID), nilIfEmpty(t.UserID),
		string(input), result, t.Message, expires, micros(t.CreatedAt), micros(t.UpdatedAt)}, nil
}

// CreateTask stores a new task.
func (s *Store) CreateTask(ctx context.Context, t *Task) error {
	args, err := taskArgs(t)
	if err != nil {
		return wrap("create task", err)
	}
	return wrap("create task", s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tasks (`+taskCols+`) VALUES (`+placeholders(13)+`)`, append([]any{t.ID}, args...)...)
		return err
	}))
}

// SaveTask writes every field of t.
func (s *Store) SaveTask(ctx context.Context, t *Task) error {
	args, err := taskArgs(t)
	if err != nil {
		return wrap("save task", err)
	}
	return wrap("save task", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET type = ?, status = ?, owner = ?, image_id = ?, request_id = ?, user_id = ?,
			input = ?, result = ?, message = ?, expires_at = ?, created_at = ?, updated_at = ? WHERE id = ? AND deleted = 0`,
			append(args, t.ID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	}))
}

// GetTask returns a task; owner, when not "", must be the task's owner
// (Glance shows a non-admin only its project's tasks).
func (s *Store) GetTask(ctx context.Context, id, owner string) (*Task, error) {
	q := `SELECT ` + taskCols + ` FROM tasks WHERE id = ? AND deleted = 0`
	args := []any{id}
	if owner != "" {
		q += ` AND owner = ?`
		args = append(args, owner)
	}
	t, err := scanTask(s.db.R.QueryRowContext(ctx, q, args...))
	return t, wrap("get task", err)
}

// taskQuery selects tasks for GET /v2/tasks.
type taskQuery struct {
	owner       string // "" for every project (admin)
	status, typ string // filters, "" for any
	sortKey     string // a column of tasks
	desc        bool
	limit       int
	marker      *Task
	imageID     string
}

// ListTasks returns the tasks q selects.
func (s *Store) ListTasks(ctx context.Context, q taskQuery) ([]*Task, error) {
	where := []string{"deleted = 0"}
	var args []any
	for col, v := range map[string]string{"owner": q.owner, "status": q.status, "type": q.typ, "image_id": q.imageID} {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	key := q.sortKey
	if key == "" {
		key = "created_at"
	}
	dir, cmp := "ASC", ">"
	if q.desc {
		dir, cmp = "DESC", "<"
	}
	if q.marker != nil {
		var mv any
		switch key {
		case "created_at":
			mv = micros(q.marker.CreatedAt)
		case "updated_at":
			mv = micros(q.marker.UpdatedAt)
		case "status":
			mv = q.marker.Status
		case "type":
			mv = q.marker.Type
		default:
			mv = q.marker.ID
		}
		if key == "id" {
			where = append(where, "id "+cmp+" ?")
			args = append(args, mv)
		} else {
			where = append(where, "("+key+" "+cmp+" ? OR ("+key+" = ? AND id "+cmp+" ?))")
			args = append(args, mv, mv, q.marker.ID)
		}
	}
	query := `SELECT ` + taskCols + ` FROM tasks WHERE ` + joinAnd(where) + ` ORDER BY ` + key + ` ` + dir + `, id ` + dir
	if q.limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.limit)
	}
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("list tasks", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, wrap("list tasks", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tasks", rows.Err())
}

func joinAnd(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " AND "
		}
		out += p
	}
	return out
}

// imagesInStatus lists the ids of live images in status (start-up repair).
func (s *Store) imagesInStatus(ctx context.Context, status string) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM images WHERE deleted = 0 AND status = ?`, status)
	if err != nil {
		return nil, wrap("images in status", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// unfinishedTasks lists the import tasks that were pending or processing
// (start-up repair).
func (s *Store) unfinishedTasks(ctx context.Context) ([]*Task, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE deleted = 0 AND status IN ('pending', 'processing') ORDER BY created_at`)
	if err != nil {
		return nil, wrap("unfinished tasks", err)
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, wrap("unfinished tasks", err)
		}
		out = append(out, t)
	}
	return out, wrap("unfinished tasks", rows.Err())
}

// taskTTL is Glance's [task] task_time_to_live (48 hours): a finished
// task expires that long after it finished.
const taskTTL = 48 * time.Hour
