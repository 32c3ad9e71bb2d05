package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
)

// EndpointGroup is an OS-EP-FILTER endpoint group: the endpoints matching
// every one of its filters (service_id, region_id, interface).
type EndpointGroup struct {
	ID          string
	Name        string
	Description string
	Filters     map[string]any
}

func scanEndpointGroup(row interface{ Scan(...any) error }) (*EndpointGroup, error) {
	var g EndpointGroup
	var filters string
	if err := row.Scan(&g.ID, &g.Name, &g.Description, &filters); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	g.Filters = decodeJSON(filters)
	return &g, nil
}

const endpointGroupCols = `id, name, description, filters`

// GetEndpointGroup returns an endpoint group by id.
func (s *Store) GetEndpointGroup(ctx context.Context, id string) (*EndpointGroup, error) {
	g, err := scanEndpointGroup(s.db.R.QueryRowContext(ctx, `SELECT `+endpointGroupCols+` FROM endpoint_groups WHERE id = ?`, id))
	return g, wrap("get endpoint group", err)
}

// ListEndpointGroups returns the endpoint groups, optionally those named
// name, or those associated with projectID when it is not "".
func (s *Store) ListEndpointGroups(ctx context.Context, name, projectID string) ([]*EndpointGroup, error) {
	var w where
	if name != "" {
		w.add("name = ?", name)
	}
	if projectID != "" {
		w.add("id IN (SELECT endpoint_group_id FROM project_endpoint_groups WHERE project_id = ?)", projectID)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+endpointGroupCols+` FROM endpoint_groups`+w.sql()+` ORDER BY name, id`, w.args...)
	if err != nil {
		return nil, wrap("list endpoint groups", err)
	}
	defer rows.Close()
	out := []*EndpointGroup{}
	for rows.Next() {
		g, err := scanEndpointGroup(rows)
		if err != nil {
			return nil, wrap("list endpoint groups", err)
		}
		out = append(out, g)
	}
	return out, wrap("list endpoint groups", rows.Err())
}

func encodeFilters(f map[string]any) string {
	b, err := json.Marshal(f)
	if err != nil || f == nil {
		return "{}"
	}
	return string(b)
}

// CreateEndpointGroup inserts g.
func (s *Store) CreateEndpointGroup(ctx context.Context, g *EndpointGroup) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO endpoint_groups (`+endpointGroupCols+`) VALUES (?, ?, ?, ?)`,
		g.ID, g.Name, g.Description, encodeFilters(g.Filters))
	return wrap("create endpoint group", err)
}

// UpdateEndpointGroup writes the mutable fields of g.
func (s *Store) UpdateEndpointGroup(ctx context.Context, g *EndpointGroup) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE endpoint_groups SET name = ?, description = ?, filters = ? WHERE id = ?`,
		g.Name, g.Description, encodeFilters(g.Filters), g.ID)
	return wrap("update endpoint group", affected(res, err))
}

// DeleteEndpointGroup removes an endpoint group and, by cascade, its
// project associations.
func (s *Store) DeleteEndpointGroup(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM endpoint_groups WHERE id = ?`, id)
	return wrap("delete endpoint group", affected(res, err))
}

// AddProjectEndpoint associates an endpoint with a project; a second
// association is a unique violation.
func (s *Store) AddProjectEndpoint(ctx context.Context, projectID, endpointID string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO project_endpoints (endpoint_id, project_id) VALUES (?, ?)`, endpointID, projectID)
	return wrap("add project endpoint", err)
}

// HasProjectEndpoint reports whether an endpoint is associated with a project.
func (s *Store) HasProjectEndpoint(ctx context.Context, projectID, endpointID string) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM project_endpoints WHERE endpoint_id = ? AND project_id = ?`, endpointID, projectID).Scan(&n)
	return n > 0, wrap("check project endpoint", err)
}

// RemoveProjectEndpoint removes the association, or returns errNotFound.
func (s *Store) RemoveProjectEndpoint(ctx context.Context, projectID, endpointID string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM project_endpoints WHERE endpoint_id = ? AND project_id = ?`, endpointID, projectID)
	return wrap("remove project endpoint", affected(res, err))
}

// EndpointProjectIDs returns the projects an endpoint is associated with.
func (s *Store) EndpointProjectIDs(ctx context.Context, endpointID string) ([]string, error) {
	ids, err := s.strings(ctx, `SELECT project_id FROM project_endpoints WHERE endpoint_id = ? ORDER BY project_id`, endpointID)
	return ids, wrap("endpoint projects", err)
}

// AddProjectEndpointGroup associates an endpoint group with a project; a
// second association is a unique violation.
func (s *Store) AddProjectEndpointGroup(ctx context.Context, projectID, groupID string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO project_endpoint_groups (endpoint_group_id, project_id) VALUES (?, ?)`, groupID, projectID)
	return wrap("add project endpoint group", err)
}

// HasProjectEndpointGroup reports whether a group is associated with a project.
func (s *Store) HasProjectEndpointGroup(ctx context.Context, projectID, groupID string) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM project_endpoint_groups WHERE endpoint_group_id = ? AND project_id = ?`, groupID, projectID).Scan(&n)
	return n > 0, wrap("check project endpoint group", err)
}

// RemoveProjectEndpointGroup removes the association, or returns errNotFound.
func (s *Store) RemoveProjectEndpointGroup(ctx context.Context, projectID, groupID string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM project_endpoint_groups WHERE endpoint_group_id = ? AND project_id = ?`, groupID, projectID)
	return wrap("remove project endpoint group", affected(res, err))
}

// EndpointGroupProjectIDs returns the projects an endpoint group is
// associated with.
func (s *Store) EndpointGroupProjectIDs(ctx context.Context, groupID string) ([]string, error) {
	ids, err := s.strings(ctx, `SELECT project_id FROM project_endpoint_groups WHERE endpoint_group_id = ? ORDER BY project_id`, groupID)
	return ids, wrap("endpoint group projects", err)
}
