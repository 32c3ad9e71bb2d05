package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"time"
)

// usageInstance is an instance as os-simple-tenant-usage reads it.
type usageInstance struct {
	id                       int64
	UUID, Name, ProjectID    string
	FlavorName, VMState      string
	MemoryMB, VCPUs, LocalGB int
	CreatedAt                time.Time
	LaunchedAt               time.Time
	TerminatedAt             *time.Time
}

// activeInWindow is Nova's get_active_by_window_joined: the instances
// (deleted ones too) launched before stop and not terminated before
// start, of project ("" for all), ordered by created_at then id, after
// the marker instance (errNotFound when it is not among them), at most
// limit.
func (s *Service) activeInWindow(ctx context.Context, start, stop time.Time, project string, limit int, marker string) ([]*usageInstance, error) {
	// Timestamps are RFC 3339 text with a trimmed fraction, which does not
	// sort as text: SQL narrows by whole seconds, Go decides exactly.
	q := `SELECT id, uuid, display_name, project_id, flavor, vm_state, memory_mb, vcpus, root_gb + ephemeral_gb,
		created_at, launched_at, terminated_at FROM instances
		WHERE launched_at IS NOT NULL AND launched_at <> '' AND substr(launched_at, 1, 19) <= ?
		AND (terminated_at IS NULL OR terminated_at = '' OR substr(terminated_at, 1, 19) >= ?)`
	args := []any{stop.UTC().Format("2006-01-02T15:04:05"), start.UTC().Format("2006-01-02T15:04:05")}
	if project != "" {
		q += ` AND project_id = ?`
		args = append(args, project)
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []*usageInstance
	for rows.Next() {
		ui := &usageInstance{}
		var flavor, created, launched string
		var terminated sql.NullString
		if err := rows.Scan(&ui.id, &ui.UUID, &ui.Name, &ui.ProjectID, &flavor, &ui.VMState, &ui.MemoryMB, &ui.VCPUs, &ui.LocalGB,
			&created, &launched, &terminated); err != nil {
			return nil, err
		}
		var f struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal([]byte(flavor), &f)
		ui.FlavorName = f.Name
		ui.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		ui.LaunchedAt, _ = time.Parse(time.RFC3339Nano, launched)
		if terminated.Valid && terminated.String != "" {
			t, _ := time.Parse(time.RFC3339Nano, terminated.String)
			ui.TerminatedAt = &t
		}
		if !ui.LaunchedAt.Before(stop) || (ui.TerminatedAt != nil && !ui.TerminatedAt.After(start)) {
			continue
		}
		all = append(all, ui)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].id < all[j].id
	})
	if marker != "" {
		at := -1
		for i, ui := range all {
			if ui.UUID == marker {
				at = i
				break
			}
		}
		if at < 0 {
			return nil, errNotFound
		}
		all = all[at+1:]
	}
	if limit >= 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// hoursFor is Nova's _hours_for: the hours of [start, stop] the instance
// ran in.
func hoursFor(ui *usageInstance, start, stop time.Time) float64 {
	if ui.TerminatedAt != nil && ui.TerminatedAt.Before(start) {
		return 0
	}
	if ui.LaunchedAt.After(stop) {
		return 0
	}
	from := ui.LaunchedAt
	if start.After(from) {
		from = start
	}
	to := stop
	if ui.TerminatedAt != nil && ui.TerminatedAt.Before(to) {
		to = *ui.TerminatedAt
	}
	return to.Sub(from).Hours()
}
