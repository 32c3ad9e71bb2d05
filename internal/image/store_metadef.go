package image

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Namespace is a metadata-definition namespace.
type Namespace struct {
	Namespace   string
	DisplayName *string
	Description *string
	Visibility  string
	Protected   bool
	Owner       *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MetadefDoc is an object or property of a namespace: its JSON document.
type MetadefDoc struct {
	Name      string
	Doc       map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ResourceTypeAssoc is a resource type associated with a namespace.
type ResourceTypeAssoc struct {
	Name             string
	Prefix           *string
	PropertiesTarget *string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const nsCols = `namespace, display_name, description, visibility, protected, owner, created_at, updated_at`

func scanNamespace(row interface{ Scan(...any) error }) (*Namespace, error) {
	var n Namespace
	var dn, desc, owner sql.NullString
	var prot int
	var c, u int64
	if err := row.Scan(&n.Namespace, &dn, &desc, &n.Visibility, &prot, &owner, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	n.DisplayName, n.Description, n.Owner = strPtr(dn), strPtr(desc), strPtr(owner)
	n.Protected, n.CreatedAt, n.UpdatedAt = prot == 1, fromMicros(c), fromMicros(u)
	return &n, nil
}

// CreateNamespace stores a namespace with its resource type associations
// (unknown resource types are created, as the metadefs loader does).
func (s *Store) CreateNamespace(ctx context.Context, n *Namespace, assocs []*ResourceTypeAssoc) error {
	return wrap("create namespace", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_namespaces (`+nsCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n.Namespace, nullable(n.DisplayName), nullable(n.Description), n.Visibility, boolInt(n.Protected),
			nullable(n.Owner), micros(n.CreatedAt), micros(n.UpdatedAt)); err != nil {
			return err
		}
		for _, a := range assocs {
			if err := addAssoc(ctx, tx, n.Namespace, a); err != nil {
				return err
			}
		}
		return nil
	}))
}

func addAssoc(ctx context.Context, tx *sql.Tx, ns string, a *ResourceTypeAssoc) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_resource_types (name, protected, created_at, updated_at)
		VALUES (?, 0, ?, ?) ON CONFLICT DO NOTHING`, a.Name, micros(a.CreatedAt), micros(a.CreatedAt)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO metadef_namespace_resource_types (namespace, resource_type, prefix, properties_target, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, ns, a.Name, nullable(a.Prefix), nullable(a.PropertiesTarget), micros(a.CreatedAt), micros(a.UpdatedAt))
	return err
}

// GetNamespace returns a namespace.
func (s *Store) GetNamespace(ctx context.Context, name string) (*Namespace, error) {
	n, err := scanNamespace(s.db.R.QueryRowContext(ctx, `SELECT `+nsCols+` FROM metadef_namespaces WHERE namespace = ?`, name))
	return n, wrap("get namespace", err)
}

// ListNamespaces returns the namespaces a caller may see: all for an
// admin, else the public ones and its project's.
func (s *Store) ListNamespaces(ctx context.Context, admin bool, project string) ([]*Namespace, error) {
	q := `SELECT ` + nsCols + ` FROM metadef_namespaces`
	var args []any
	if !admin {
		q += ` WHERE visibility = 'public' OR owner = ?`
		args = append(args, project)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY created_at, namespace`, args...)
	if err != nil {
		return nil, wrap("list namespaces", err)
	}
	defer rows.Close()
	out := []*Namespace{}
	for rows.Next() {
		n, err := scanNamespace(rows)
		if err != nil {
			return nil, wrap("list namespaces", err)
		}
		out = append(out, n)
	}
	return out, wrap("list namespaces", rows.Err())
}

// UpdateNamespace rewrites a namespace, possibly renaming it (old name).
func (s *Store) UpdateNamespace(ctx context.Context, old string, n *Namespace) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE metadef_namespaces SET namespace = ?, display_name = ?, description = ?,
		visibility = ?, protected = ?, owner = ?, updated_at = ? WHERE namespace = ?`,
		n.Namespace, nullable(n.DisplayName), nullable(n.Description), n.Visibility, boolInt(n.Protected),
		nullable(n.Owner), micros(n.UpdatedAt), old)
	if err != nil {
		return wrap("update namespace", err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return errNotFound
	}
	return nil
}

// DeleteNamespace removes a namespace and everything in it.
func (s *Store) DeleteNamespace(ctx context.Context, name string) error {
	return wrap("delete namespace", s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"metadef_objects", "metadef_properties", "metadef_tags", "metadef_namespace_resource_types"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE namespace = ?`, name); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM metadef_namespaces WHERE namespace = ?`, name)
		return err
	}))
}

// metadefDocTables are the tables of MetadefDoc kinds.
var metadefDocTables = map[string]string{"object": "metadef_objects", "property": "metadef_properties"}

// PutDoc creates (old == "") or replaces (and possibly renames) an object
// or property document.
func (s *Store) PutDoc(ctx context.Context, kind, ns, old string, d *MetadefDoc) error {
	t := metadefDocTables[kind]
	raw, err := json.Marshal(d.Doc)
	if err != nil {
		return err
	}
	if old == "" {
		_, err = s.db.W.ExecContext(ctx, `INSERT INTO `+t+` (namespace, name, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			ns, d.Name, string(raw), micros(d.CreatedAt), micros(d.UpdatedAt))
		return wrap("create "+kind, err)
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE `+t+` SET name = ?, doc = ?, updated_at = ? WHERE namespace = ? AND name = ?`,
		d.Name, string(raw), micros(d.UpdatedAt), ns, old)
	if err != nil {
		return wrap("update "+kind, err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return errNotFound
	}
	return nil
}

// ListDocs returns the objects or properties of a namespace; name, when
// not "", selects one.
func (s *Store) ListDocs(ctx context.Context, kind, ns, name string) ([]*MetadefDoc, error) {
	q := `SELECT name, doc, created_at, updated_at FROM ` + metadefDocTables[kind] + ` WHERE namespace = ?`
	args := []any{ns}
	if name != "" {
		q += ` AND name = ?`
		args = append(args, name)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, wrap("list "+kind, err)
	}
	defer rows.Close()
	out := []*MetadefDoc{}
	for rows.Next() {
		var d MetadefDoc
		var raw string
		var c, u int64
		if err := rows.Scan(&d.Name, &raw, &c, &u); err != nil {
			return nil, wrap("list "+kind, err)
		}
		d.Doc = map[string]any{}
		_ = json.Unmarshal([]byte(raw), &d.Doc)
		d.CreatedAt, d.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, &d)
	}
	return out, wrap("list "+kind, rows.Err())
}

// DeleteDoc removes one object or property.
func (s *Store) DeleteDoc(ctx context.Context, kind, ns, name string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM `+metadefDocTables[kind]+` WHERE namespace = ? AND name = ?`, ns, name)
	if err != nil {
		return wrap("delete "+kind, err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return errNotFound
	}
	return nil
}

// MetadefTag is a tag of a namespace.
type MetadefTag struct {
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ListMetadefTags returns a namespace's tags (name selects one).
func (s *Store) ListMetadefTags(ctx context.Context, ns, name string) ([]*MetadefTag, error) {
	q := `SELECT name, created_at, updated_at FROM metadef_tags WHERE namespace = ?`
	args := []any{ns}
	if name != "" {
		q += ` AND name = ?`
		args = append(args, name)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY created_at, name`, args...)
	if err != nil {
		return nil, wrap("list tags", err)
	}
	defer rows.Close()
	out := []*MetadefTag{}
	for rows.Next() {
		var t MetadefTag
		var c, u int64
		if err := rows.Scan(&t.Name, &c, &u); err != nil {
			return nil, wrap("list tags", err)
		}
		t.CreatedAt, t.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, &t)
	}
	return out, wrap("list tags", rows.Err())
}

// AddMetadefTags adds tags; replace first removes the existing ones.
func (s *Store) AddMetadefTags(ctx context.Context, ns string, tags []*MetadefTag, replace bool) error {
	return wrap("add tags", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if replace {
			if _, err := tx.ExecContext(ctx, `DELETE FROM metadef_tags WHERE namespace = ?`, ns); err != nil {
				return err
			}
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_tags (namespace, name, created_at, updated_at) VALUES (?, ?, ?, ?)`,
				ns, t.Name, micros(t.CreatedAt), micros(t.UpdatedAt)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// RenameMetadefTag renames a tag.
func (s *Store) RenameMetadefTag(ctx context.Context, ns, old, name string, at time.Time) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE metadef_tags SET name = ?, updated_at = ? WHERE namespace = ? AND name = ?`, name, micros(at), ns, old)
	if err != nil {
		return wrap("rename tag", err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return errNotFound
	}
	return nil
}

// DeleteMetadefTags removes one tag (name) or all of them (name "").
func (s *Store) DeleteMetadefTags(ctx context.Context, ns, name string) error {
	q, args := `DELETE FROM metadef_tags WHERE namespace = ?`, []any{ns}
	if name != "" {
		q += ` AND name = ?`
		args = append(args, name)
	}
	res, err := s.db.W.ExecContext(ctx, q, args...)
	if err != nil {
		return wrap("delete tags", err)
	}
	if c, _ := res.RowsAffected(); c == 0 && name != "" {
		return errNotFound
	}
	return nil
}

// ResourceTypes lists the known resource types.
func (s *Store) ResourceTypes(ctx context.Context) ([]*ResourceTypeAssoc, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT name, created_at, updated_at FROM metadef_resource_types ORDER BY name`)
	if err != nil {
		return nil, wrap("list resource types", err)
	}
	defer rows.Close()
	out := []*ResourceTypeAssoc{}
	for rows.Next() {
		var a ResourceTypeAssoc
		var c, u int64
		if err := rows.Scan(&a.Name, &c, &u); err != nil {
			return nil, wrap("list resource types", err)
		}
		a.CreatedAt, a.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, &a)
	}
	return out, wrap("list resource types", rows.Err())
}

// Associations lists a namespace's resource type associations.
func (s *Store) Associations(ctx context.Context, ns string) ([]*ResourceTypeAssoc, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT resource_type, prefix, properties_target, created_at, updated_at
		FROM metadef_namespace_resource_types WHERE namespace = ? ORDER BY resource_type`, ns)
	if err != nil {
		return nil, wrap("list associations", err)
	}
	defer rows.Close()
	out := []*ResourceTypeAssoc{}
	for rows.Next() {
		var a ResourceTypeAssoc
		var p, t sql.NullString
		var c, u int64
		if err := rows.Scan(&a.Name, &p, &t, &c, &u); err != nil {
			return nil, wrap("list associations", err)
		}
		a.Prefix, a.PropertiesTarget, a.CreatedAt, a.UpdatedAt = strPtr(p), strPtr(t), fromMicros(c), fromMicros(u)
		out = append(out, &a)
	}
	return out, wrap("list associations", rows.Err())
}

// AddAssociation associates a resource type with a namespace.
func (s *Store) AddAssociation(ctx context.Context, ns string, a *ResourceTypeAssoc) error {
	return wrap("add association", s.db.Tx(ctx, func(tx *sql.Tx) error { return addAssoc(ctx, tx, ns, a) }))
}

// DeleteAssociation removes an association.
func (s *Store) DeleteAssociation(ctx context.Context, ns, name string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM metadef_namespace_resource_types WHERE namespace = ? AND resource_type = ?`, ns, name)
	if err != nil {
		return wrap("delete association", err)
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return errNotFound
	}
	return nil
}
