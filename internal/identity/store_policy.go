package identity

import (
	"context"
	"database/sql"
	"errors"
)

// Policy is a policy blob stored for other services (the v3 policy API);
// kumo never enforces it.
type Policy struct {
	ID    string
	Type  string
	Blob  string
	Extra map[string]any
}

// PolicyAssociation ties a policy to an endpoint, to a service, or to a
// service in a region (OS-ENDPOINT-POLICY); the other fields are "".
type PolicyAssociation struct {
	PolicyID, EndpointID, ServiceID, RegionID string
}

func scanPolicy(row interface{ Scan(...any) error }) (*Policy, error) {
	var p Policy
	var extra string
	if err := row.Scan(&p.ID, &p.Type, &p.Blob, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	p.Extra = decodeJSON(extra)
	return &p, nil
}

// GetPolicy returns a policy by id.
func (s *Store) GetPolicy(ctx context.Context, id string) (*Policy, error) {
	p, err := scanPolicy(s.db.R.QueryRowContext(ctx, `SELECT id, type, blob, extra FROM policies WHERE id = ?`, id))
	return p, wrap("get policy", err)
}

// ListPolicies returns the policies, optionally of one type.
func (s *Store) ListPolicies(ctx context.Context, typ string) ([]*Policy, error) {
	var w where
	if typ != "" {
		w.add("type = ?", typ)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, type, blob, extra FROM policies`+w.sql()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, wrap("list policies", err)
	}
	defer rows.Close()
	out := []*Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, wrap("list policies", err)
		}
		out = append(out, p)
	}
	return out, wrap("list policies", rows.Err())
}

// CreatePolicy inserts p.
func (s *Store) CreatePolicy(ctx context.Context, p *Policy) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO policies (id, type, blob, extra) VALUES (?, ?, ?, ?)`,
		p.ID, p.Type, p.Blob, encodeJSON(p.Extra))
	return wrap("create policy", err)
}

// UpdatePolicy writes the mutable fields of p.
func (s *Store) UpdatePolicy(ctx context.Context, p *Policy) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE policies SET type = ?, blob = ?, extra = ? WHERE id = ?`,
		p.Type, p.Blob, encodeJSON(p.Extra), p.ID)
	return wrap("update policy", affected(res, err))
}

// DeletePolicy removes a policy and, by cascade, its associations.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM policies WHERE id = ?`, id)
	return wrap("delete policy", affected(res, err))
}

// associationWhere matches the target of a (all three fields, "" as NULL).
func associationWhere(a PolicyAssociation) where {
	var w where
	for _, f := range []struct{ col, v string }{{"endpoint_id", a.EndpointID}, {"service_id", a.ServiceID}, {"region_id", a.RegionID}} {
		if f.v == "" {
			w.add(f.col + " IS NULL")
		} else {
			w.add(f.col+" = ?", f.v)
		}
	}
	return w
}

// SetPolicyAssociation associates a policy with a target; a target has at
// most one policy, so an existing association is repointed.
func (s *Store) SetPolicyAssociation(ctx context.Context, a PolicyAssociation) error {
	return wrap("set policy association", s.db.Tx(ctx, func(tx *sql.Tx) error {
		w := associationWhere(a)
		res, err := tx.ExecContext(ctx, `UPDATE policy_associations SET policy_id = ?`+w.sql(), append([]any{a.PolicyID}, w.args...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO policy_associations (id, policy_id, endpoint_id, service_id, region_id) VALUES (?, ?, ?, ?, ?)`,
			newID(), a.PolicyID, nullStr(a.EndpointID), nullStr(a.ServiceID), nullStr(a.RegionID))
		return err
	}))
}

// PolicyAssociated reports whether exactly a exists.
func (s *Store) PolicyAssociated(ctx context.Context, a PolicyAssociation) (bool, error) {
	w := associationWhere(a)
	w.add("policy_id = ?", a.PolicyID)
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM policy_associations`+w.sql(), w.args...).Scan(&n)
	return n > 0, wrap("check policy association", err)
}

// DeletePolicyAssociation removes a, if it exists.
func (s *Store) DeletePolicyAssociation(ctx context.Context, a PolicyAssociation) error {
	w := associationWhere(a)
	w.add("policy_id = ?", a.PolicyID)
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM policy_associations`+w.sql(), w.args...)
	return wrap("delete policy association", err)
}

// PolicyForTarget returns the policy associated with exactly the target of
// a (its PolicyID is ignored), or errNotFound.
func (s *Store) PolicyForTarget(ctx context.Context, a PolicyAssociation) (string, error) {
	w := associationWhere(a)
	var id string
	err := s.db.R.QueryRowContext(ctx, `SELECT policy_id FROM policy_associations`+w.sql(), w.args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNotFound
	}
	return id, wrap("policy for target", err)
}

// PolicyAssociations returns the associations of a policy.
func (s *Store) PolicyAssociations(ctx context.Context, policyID string) ([]PolicyAssociation, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT policy_id, endpoint_id, service_id, region_id FROM policy_associations WHERE policy_id = ? ORDER BY id`, policyID)
	if err != nil {
		return nil, wrap("policy associations", err)
	}
	defer rows.Close()
	var out []PolicyAssociation
	for rows.Next() {
		var a PolicyAssociation
		var e, sv, r sql.NullString
		if err := rows.Scan(&a.PolicyID, &e, &sv, &r); err != nil {
			return nil, wrap("policy associations", err)
		}
		a.EndpointID, a.ServiceID, a.RegionID = e.String, sv.String, r.String
		out = append(out, a)
	}
	return out, wrap("policy associations", rows.Err())
}

// DeletePolicyAssociationsFor removes the associations naming a deleted
// endpoint, service or region (column is endpoint_id, service_id or
// region_id).
func (s *Store) DeletePolicyAssociationsFor(ctx context.Context, column, id string) error {
	switch column {
	case "endpoint_id", "service_id", "region_id":
	default:
		return errors.New("delete policy associations: bad column " + column)
	}
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM policy_associations WHERE `+column+` = ?`, id)
	return wrap("delete policy associations", err)
}
