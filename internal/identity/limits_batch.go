package identity

import (
	"context"
	"database/sql"
	"fmt"
)

// projectLimitsSQL reads, in one query, every registered limit of the
// resources for the services of a type, each with the project's own limit
// of the same service, region and resource (NULL when it has none). The
// order is ProjectLimit's: service, resource, id.
const projectLimitsSQL = `SELECT rl.resource_name, rl.region_id, rl.default_limit,
  (SELECT l.resource_limit FROM limits l
    WHERE l.project_id = ? AND l.service_id = rl.service_id AND l.resource_name = rl.resource_name
      AND l.region_id IS rl.region_id ORDER BY l.id LIMIT 1)
FROM registered_limits rl
WHERE rl.service_id IN (SELECT id FROM services WHERE type = ?) AND rl.resource_name IN (`

// ProjectLimits is ProjectLimit for several resources at once, read in one
// query (a server create checks four or five). A resource with nothing
// registered is absent from the map (unlimited for ProjectLimit's ok).
func (s *Service) ProjectLimits(ctx context.Context, projectID, serviceType, region string, resources []string) (map[string]int64, error) {
	out := make(map[string]int64, len(resources))
	if len(resources) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(resources)+2)
	args = append(args, projectID, serviceType)
	for _, r := range resources {
		args = append(args, r)
	}
	rows, err := s.store.db.R.QueryContext(ctx, projectLimitsSQL+placeholders(len(resources))+`)
ORDER BY rl.service_id, rl.resource_name, rl.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("project limits: %w", err)
	}
	defer rows.Close()
	// The registration chosen per resource: the region's own, else the
	// first region-less one, as ProjectLimit chooses.
	type pick struct {
		regional bool
		limit    int64
	}
	best := map[string]pick{}
	for rows.Next() {
		var name string
		var rgn sql.NullString
		var def int64
		var own sql.NullInt64
		if err := rows.Scan(&name, &rgn, &def, &own); err != nil {
			return nil, fmt.Errorf("project limits: %w", err)
		}
		limit := def
		if own.Valid {
			limit = own.Int64
		}
		cur, seen := best[name]
		switch {
		case region != "" && rgn.String == region && !cur.regional:
			best[name] = pick{true, limit}
		case !rgn.Valid && !seen:
			best[name] = pick{region == "", limit}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("project limits: %w", err)
	}
	for name, p := range best {
		out[name] = p.limit
	}
	return out, nil
}
