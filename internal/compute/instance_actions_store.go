package compute

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// InstanceAction is one os-instance-actions record: an API request that
// acted on a server, with the compute events it caused.
type InstanceAction struct {
	ID           int64
	InstanceUUID string
	RequestID    string
	Action       string
	ProjectID    string
	UserID       string
	StartTime    time.Time
	FinishTime   time.Time
	Message      *string
	UpdatedAt    time.Time
}

// ActionEvent is one compute step of an action.
type ActionEvent struct {
	Event      string
	StartTime  time.Time
	FinishTime time.Time
	Result     *string
	Traceback  *string
	Host       string
	Details    *string
}

// createAction records the start of an API action (Nova's
// InstanceAction.action_start).
func (st instanceStore) createAction(ctx context.Context, a InstanceAction) error {
	return st.groupTx(ctx, func(tx *sql.Tx) error { return createActionTx(ctx, tx, a) })
}

// createActionTx is createAction in tx.
func createActionTx(ctx context.Context, tx *sql.Tx, a InstanceAction) error {
	t := dbTime(a.StartTime)
	_, err := tx.ExecContext(ctx, `INSERT INTO instance_actions (instance_uuid, request_id, action, project_id,
		user_id, start_time, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_uuid, request_id) DO NOTHING`,
		a.InstanceUUID, a.RequestID, a.Action, a.ProjectID, a.UserID, t, t)
	return err
}

// StartEvent implements manager.Store.
func (st instanceStore) StartEvent(ctx context.Context, uuid, requestID, event string, at time.Time) error {
	return st.groupTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM instance_actions WHERE instance_uuid = ? AND request_id = ?`,
			uuid, requestID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		var host sql.NullString
		_ = tx.QueryRowContext(ctx, `SELECT host FROM instances WHERE uuid = ?`, uuid).Scan(&host)
		if _, err := tx.ExecContext(ctx, `INSERT INTO instance_actions_events (action_id, event, start_time, host)
			VALUES (?, ?, ?, ?)`, id, event, dbTime(at), host); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE instance_actions SET updated_at = ? WHERE id = ?`, dbTime(at), id)
		return err
	})
}

// FinishEvent implements manager.Store: a failed event marks its action's
// message "Error", as Nova's action_event_finish.
func (st instanceStore) FinishEvent(ctx context.Context, uuid, requestID, event string, at time.Time, result, traceback string) error {
	return st.groupTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM instance_actions WHERE instance_uuid = ? AND request_id = ?`,
			uuid, requestID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE instance_actions_events SET finish_time = ?, result = ?, traceback = ?
			WHERE id = (SELECT MAX(id) FROM instance_actions_events WHERE action_id = ? AND event = ? AND finish_time IS NULL)`,
			dbTime(at), result, nullable(traceback), id, event)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_actions_events (action_id, event, start_time, finish_time,
				result, traceback) VALUES (?, ?, ?, ?, ?, ?)`, id, event, dbTime(at), dbTime(at), result, nullable(traceback)); err != nil {
				return err
			}
		}
		q := `UPDATE instance_actions SET updated_at = ? WHERE id = ?`
		if result != "Success" {
			q = `UPDATE instance_actions SET updated_at = ?, message = 'Error' WHERE id = ?`
		}
		_, err = tx.ExecContext(ctx, q, dbTime(at), id)
		return err
	})
}

const actionColumns = `id, instance_uuid, request_id, action, project_id, user_id, start_time,
	COALESCE(finish_time, ''), message, updated_at`

func scanAction(row scanner) (*InstanceAction, error) {
	a := &InstanceAction{}
	var start, finish, updated string
	var msg sql.NullString
	if err := row.Scan(&a.ID, &a.InstanceUUID, &a.RequestID, &a.Action, &a.ProjectID, &a.UserID, &start, &finish,
		&msg, &updated); err != nil {
		return nil, err
	}
	a.StartTime, a.FinishTime, a.UpdatedAt = parseTime(start), parseTime(finish), parseTime(updated)
	a.Message = nullStr(msg)
	return a, nil
}

// actionFilter narrows an instance's action list (2.58: changes-since,
// changes-before, limit, marker).
type actionFilter struct {
	changesSince, changesBefore time.Time
	limit                       int
	marker                      string // request id
}

// actions lists an instance's actions, newest first.
func (st instanceStore) actions(ctx context.Context, uuid string, f actionFilter) ([]*InstanceAction, error) {
	q := `SELECT ` + actionColumns + ` FROM instance_actions WHERE instance_uuid = ?`
	args := []any{uuid}
	if !f.changesSince.IsZero() {
		q += ` AND updated_at >= ?`
		args = append(args, dbTime(f.changesSince))
	}
	if !f.changesBefore.IsZero() {
		q += ` AND updated_at <= ?`
		args = append(args, dbTime(f.changesBefore))
	}
	if f.marker != "" {
		var mid int64
		err := st.db.R.QueryRowContext(ctx, `SELECT id FROM instance_actions WHERE instance_uuid = ? AND request_id = ?`,
			uuid, f.marker).Scan(&mid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errMarkerNotFound
		}
		if err != nil {
			return nil, err
		}
		q += ` AND id < ?`
		args = append(args, mid)
	}
	q += ` ORDER BY id DESC`
	if f.limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.limit)
	}
	rows, err := st.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*InstanceAction
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

var errMarkerNotFound = errors.New("marker not found")

// action returns one action by request id.
func (st instanceStore) action(ctx context.Context, uuid, requestID string) (*InstanceAction, error) {
	a, err := scanAction(st.db.R.QueryRowContext(ctx, `SELECT `+actionColumns+` FROM instance_actions
		WHERE instance_uuid = ? AND request_id = ?`, uuid, requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return a, err
}

// events returns an action's events in order.
func (st instanceStore) events(ctx context.Context, actionID int64) ([]ActionEvent, error) {
	rows, err := st.db.R.QueryContext(ctx, `SELECT event, start_time, COALESCE(finish_time, ''), result, traceback,
		COALESCE(host, ''), details FROM instance_actions_events WHERE action_id = ? ORDER BY id`, actionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ActionEvent
	for rows.Next() {
		var e ActionEvent
		var start, finish string
		var result, tb, details sql.NullString
		if err := rows.Scan(&e.Event, &start, &finish, &result, &tb, &e.Host, &details); err != nil {
			return nil, err
		}
		e.StartTime, e.FinishTime = parseTime(start), parseTime(finish)
		e.Result, e.Traceback, e.Details = nullStr(result), nullStr(tb), nullStr(details)
		out = append(out, e)
	}
	return out, rows.Err()
}
