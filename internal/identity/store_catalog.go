package identity

import (
	"context"
	"database/sql"
	"errors"
)

func scanRegion(row interface{ Scan(...any) error }) (*Region, error) {
	var r Region
	var parent sql.NullString
	var extra string
	if err := row.Scan(&r.ID, &r.Description, &parent, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	r.ParentRegionID, r.Extra = parent.String, decodeJSON(extra)
	return &r, nil
}

// GetRegion returns a region by id.
func (s *Store) GetRegion(ctx context.Context, id string) (*Region, error) {
	r, err := scanRegion(s.db.R.QueryRowContext(ctx, `SELECT id, description, parent_region_id, extra FROM regions WHERE id = ?`, id))
	return r, wrap("get region", err)
}

// ListRegions returns every region, optionally only the children of parent.
func (s *Store) ListRegions(ctx context.Context, parent string) ([]*Region, error) {
	var w where
	if parent != "" {
		w.add("parent_region_id = ?", parent)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, description, parent_region_id, extra FROM regions`+w.sql()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, wrap("list regions", err)
	}
	defer rows.Close()
	out := []*Region{}
	for rows.Next() {
		r, err := scanRegion(rows)
		if err != nil {
			return nil, wrap("list regions", err)
		}
		out = append(out, r)
	}
	return out, wrap("list regions", rows.Err())
}

// CreateRegion inserts r.
func (s *Store) CreateRegion(ctx context.Context, r *Region) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO regions (id, description, parent_region_id, extra) VALUES (?, ?, ?, ?)`,
		r.ID, r.Description, nullStr(r.ParentRegionID), encodeJSON(r.Extra))
	return wrap("create region", err)
}

// UpdateRegion writes the mutable fields of r.
func (s *Store) UpdateRegion(ctx context.Context, r *Region) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE regions SET description = ?, parent_region_id = ?, extra = ? WHERE id = ?`,
		r.Description, nullStr(r.ParentRegionID), encodeJSON(r.Extra), r.ID)
	return wrap("update region", affected(res, err))
}

// DeleteRegion removes a region.
func (s *Store) DeleteRegion(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM regions WHERE id = ?`, id)
	return wrap("delete region", affected(res, err))
}

// affected turns "no row changed" into errNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

func scanService(row interface{ Scan(...any) error }) (*CatalogService, error) {
	var sv CatalogService
	var enabled int
	var extra string
	if err := row.Scan(&sv.ID, &sv.Type, &enabled, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	sv.Enabled, sv.Extra = enabled == 1, decodeJSON(extra)
	return &sv, nil
}

// GetService returns a catalog service by id.
func (s *Store) GetService(ctx context.Context, id string) (*CatalogService, error) {
	sv, err := scanService(s.db.R.QueryRowContext(ctx, `SELECT id, type, enabled, extra FROM services WHERE id = ?`, id))
	return sv, wrap("get service", err)
}

// ListServices returns the catalog services, optionally of one type.
func (s *Store) ListServices(ctx context.Context, typ string) ([]*CatalogService, error) {
	var w where
	if typ != "" {
		w.add("type = ?", typ)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, type, enabled, extra FROM services`+w.sql()+` ORDER BY type, id`, w.args...)
	if err != nil {
		return nil, wrap("list services", err)
	}
	defer rows.Close()
	out := []*CatalogService{}
	for rows.Next() {
		sv, err := scanService(rows)
		if err != nil {
			return nil, wrap("list services", err)
		}
		out = append(out, sv)
	}
	return out, wrap("list services", rows.Err())
}

// CreateService inserts sv.
func (s *Store) CreateService(ctx context.Context, sv *CatalogService) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO services (id, type, enabled, extra) VALUES (?, ?, ?, ?)`,
		sv.ID, sv.Type, boolInt(sv.Enabled), encodeJSON(sv.Extra))
	return wrap("create service", err)
}

// UpdateService writes the mutable fields of sv.
func (s *Store) UpdateService(ctx context.Context, sv *CatalogService) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE services SET type = ?, enabled = ?, extra = ? WHERE id = ?`,
		sv.Type, boolInt(sv.Enabled), encodeJSON(sv.Extra), sv.ID)
	return wrap("update service", affected(res, err))
}

// DeleteService removes a service and its endpoints.
func (s *Store) DeleteService(ctx context.Context, id string) error {
	return wrap("delete service", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM project_endpoints WHERE endpoint_id IN (SELECT id FROM endpoints WHERE service_id = ?)`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE service_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM services WHERE id = ?`, id)
		return affected(res, err)
	}))
}

const endpointCols = `id, service_id, interface, url, region_id, enabled, extra`

func scanEndpoint(row interface{ Scan(...any) error }) (*Endpoint, error) {
	var e Endpoint
	var region sql.NullString
	var enabled int
	var extra string
	if err := row.Scan(&e.ID, &e.ServiceID, &e.Interface, &e.URL, &region, &enabled, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	e.RegionID, e.Enabled, e.Extra = region.String, enabled == 1, decodeJSON(extra)
	return &e, nil
}

// GetEndpoint returns an endpoint by id.
func (s *Store) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	e, err := scanEndpoint(s.db.R.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE id = ?`, id))
	return e, wrap("get endpoint", err)
}

// EndpointFilter selects endpoints; empty fields match anything.
type EndpointFilter struct {
	ServiceID, Interface, RegionID string
}

// ListEndpoints returns the endpoints matching f.
func (s *Store) ListEndpoints(ctx context.Context, f EndpointFilter) ([]*Endpoint, error) {
	var w where
	if f.ServiceID != "" {
		w.add("service_id = ?", f.ServiceID)
	}
	if f.Interface != "" {
		w.add("interface = ?", f.Interface)
	}
	if f.RegionID != "" {
		w.add("region_id = ?", f.RegionID)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+endpointCols+` FROM endpoints`+w.sql()+` ORDER BY service_id, interface, id`, w.args...)
	if err != nil {
		return nil, wrap("list endpoints", err)
	}
	defer rows.Close()
	out := []*Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, wrap("list endpoints", err)
		}
		out = append(out, e)
	}
	return out, wrap("list endpoints", rows.Err())
}

// CreateEndpoint inserts e.
func (s *Store) CreateEndpoint(ctx context.Context, e *Endpoint) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO endpoints (`+endpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.ServiceID, e.Interface, e.URL, nullStr(e.RegionID), boolInt(e.Enabled), encodeJSON(e.Extra))
	return wrap("create endpoint", err)
}

// UpdateEndpoint writes the mutable fields of e.
func (s *Store) UpdateEndpoint(ctx context.Context, e *Endpoint) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE endpoints SET service_id = ?, interface = ?, url = ?, region_id = ?, enabled = ?, extra = ? WHERE id = ?`,
		e.ServiceID, e.Interface, e.URL, nullStr(e.RegionID), boolInt(e.Enabled), encodeJSON(e.Extra), e.ID)
	return wrap("update endpoint", affected(res, err))
}

// DeleteEndpoint removes an endpoint and its project associations.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	return wrap("delete endpoint", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM project_endpoints WHERE endpoint_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE id = ?`, id)
		return affected(res, err)
	}))
}

// ProjectEndpointIDs returns the endpoints associated with a project
// directly (OS-EP-FILTER).
func (s *Store) ProjectEndpointIDs(ctx context.Context, projectID string) ([]string, error) {
	ids, err := s.strings(ctx, `SELECT endpoint_id FROM project_endpoints WHERE project_id = ?`, projectID)
	return ids, wrap("project endpoints", err)
}

// ProjectEndpointGroupFilters returns the filters of the endpoint groups
// associated with a project (OS-EP-FILTER), as stored JSON documents.
func (s *Store) ProjectEndpointGroupFilters(ctx context.Context, projectID string) ([]map[string]any, error) {
	docs, err := s.strings(ctx, `SELECT g.filters FROM endpoint_groups g JOIN project_endpoint_groups p
		ON p.endpoint_group_id = g.id WHERE p.project_id = ?`, projectID)
	if err != nil {
		return nil, wrap("project endpoint groups", err)
	}
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = decodeJSON(d)
	}
	return out, nil
}

// errRegionInUse is returned by DeleteRegionTree when the region or one of
// its descendants still has endpoints.
var errRegionInUse = errors.New("region has endpoints")

// DeleteRegionTree removes a region and every region below it, as Keystone
// does, unless one of them has endpoints. Policy associations naming the
// deleted regions go with them.
func (s *Store) DeleteRegionTree(ctx context.Context, id string) error {
	return wrap("delete region", s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM regions WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errNotFound
		}
		tree := []string{id}
		seen := map[string]bool{id: true}
		for i := 0; i < len(tree); i++ {
			rows, err := tx.QueryContext(ctx, `SELECT id FROM regions WHERE parent_region_id = ?`, tree[i])
			if err != nil {
				return err
			}
			var kids []string
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					rows.Close()
					return err
				}
				kids = append(kids, k)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, k := range kids {
				if !seen[k] {
					seen[k] = true
					tree = append(tree, k)
				}
			}
		}
		in, args := placeholders(len(tree)), anyArgs(tree)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM endpoints WHERE region_id IN (`+in+`)`, args...).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errRegionInUse
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM policy_associations WHERE region_id IN (`+in+`)`, args...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM regions WHERE id IN (`+in+`)`, args...)
		return err
	}))
}
