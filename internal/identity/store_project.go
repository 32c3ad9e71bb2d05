package identity

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

const projectCols = `id, name, domain_id, parent_id, is_domain, enabled, description, extra, options`

func scanProject(row interface{ Scan(...any) error }) (*Project, error) {
	var p Project
	var parent sql.NullString
	var isDomain, enabled int
	var extra, options string
	if err := row.Scan(&p.ID, &p.Name, &p.DomainID, &parent, &isDomain, &enabled, &p.Description, &extra, &options); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	p.ParentID, p.IsDomain, p.Enabled = parent.String, isDomain == 1, enabled == 1
	p.Extra, p.Options = decodeJSON(extra), decodeJSON(options)
	return &p, nil
}

// GetProject returns a project or domain by id, with its tags.
func (s *Store) GetProject(ctx context.Context, id string) (*Project, error) {
	p, err := scanProject(s.db.R.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("get project", err)
	}
	p.Tags, err = s.projectTags(ctx, s.db.R, id)
	return p, wrap("get project", err)
}

// GetProjectByName returns the project or domain named name in domainID
// (domainID "" looks up domains).
func (s *Store) GetProjectByName(ctx context.Context, domainID, name string) (*Project, error) {
	p, err := scanProject(s.db.R.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects WHERE domain_id = ? AND name = ?`, domainID, name))
	if err != nil {
		return nil, wrap("get project by name", err)
	}
	p.Tags, err = s.projectTags(ctx, s.db.R, p.ID)
	return p, wrap("get project by name", err)
}

func (s *Store) projectTags(ctx context.Context, q queryer, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM project_tags WHERE project_id = ? ORDER BY name`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, rows.Err()
}

// ProjectFilter selects projects (or domains) for ListProjects.
type ProjectFilter struct {
	Domains  bool   // list domains instead of projects
	DomainID string // "" = any
	ParentID *string
	Name     string
	Enabled  *bool
	IDs      []string // restrict to these ids (nil = no restriction)
	// Tags filters as Keystone's tags, tags-any, not-tags, not-tags-any.
	Tags, TagsAny, NotTags, NotTagsAny []string
}

// ListProjects returns the projects matching f, ordered by name then id.
func (s *Store) ListProjects(ctx context.Context, f ProjectFilter) ([]*Project, error) {
	var w where
	w.add("is_domain = ?", boolInt(f.Domains))
	if f.DomainID != "" {
		w.add("domain_id = ?", f.DomainID)
	}
	if f.ParentID != nil {
		w.add("parent_id = ?", *f.ParentID)
	}
	if f.Name != "" {
		w.add("name = ?", f.Name)
	}
	if f.Enabled != nil {
		w.add("enabled = ?", boolInt(*f.Enabled))
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []*Project{}, nil
		}
		w.add("id IN ("+placeholders(len(f.IDs))+")", anyArgs(f.IDs)...)
	}
	for _, t := range f.Tags {
		w.add("id IN (SELECT project_id FROM project_tags WHERE name = ?)", t)
	}
	if len(f.TagsAny) > 0 {
		w.add("id IN (SELECT project_id FROM project_tags WHERE name IN ("+placeholders(len(f.TagsAny))+"))", anyArgs(f.TagsAny)...)
	}
	if len(f.NotTags) > 0 {
		// not-tags: exclude projects having all of these tags.
		w.add("id NOT IN (SELECT project_id FROM project_tags WHERE name IN ("+placeholders(len(f.NotTags))+") GROUP BY project_id HAVING COUNT(*) = ?)",
			append(anyArgs(f.NotTags), len(f.NotTags))...)
	}
	if len(f.NotTagsAny) > 0 {
		w.add("id NOT IN (SELECT project_id FROM project_tags WHERE name IN ("+placeholders(len(f.NotTagsAny))+"))", anyArgs(f.NotTagsAny)...)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+projectCols+` FROM projects`+w.sql()+` ORDER BY name, id`, w.args...)
	if err != nil {
		return nil, wrap("list projects", err)
	}
	var out []*Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list projects", err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list projects", err)
	}
	// The tags of every listed project in one query, with the same filter.
	byID := make(map[string]*Project, len(out))
	for _, p := range out {
		p.Tags = []string{}
		byID[p.ID] = p
	}
	trows, err := s.db.R.QueryContext(ctx, `SELECT project_id, name FROM project_tags WHERE project_id IN
		(SELECT id FROM projects`+w.sql()+`) ORDER BY name`, w.args...)
	if err != nil {
		return nil, wrap("list projects", err)
	}
	defer trows.Close()
	for trows.Next() {
		var id, tag string
		if err := trows.Scan(&id, &tag); err != nil {
			return nil, wrap("list projects", err)
		}
		if p := byID[id]; p != nil {
			p.Tags = append(p.Tags, tag)
		}
	}
	return out, wrap("list projects", trows.Err())
}

// CreateProject inserts p with its tags; a duplicate name is a unique
// violation the caller reports as 409.
func (s *Store) CreateProject(ctx context.Context, p *Project) error {
	return wrap("create project", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO projects (`+projectCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.DomainID, nullStr(p.ParentID), boolInt(p.IsDomain), boolInt(p.Enabled), p.Description,
			encodeJSON(p.Extra), encodeJSON(p.Options)); err != nil {
			return err
		}
		return setTags(ctx, tx, p.ID, p.Tags)
	}))
}

// UpdateProject writes every mutable field of p.
func (s *Store) UpdateProject(ctx context.Context, p *Project) error {
	return wrap("update project", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE projects SET name = ?, enabled = ?, description = ?, extra = ?, options = ? WHERE id = ?`,
			p.Name, boolInt(p.Enabled), p.Description, encodeJSON(p.Extra), encodeJSON(p.Options), p.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return setTags(ctx, tx, p.ID, p.Tags)
	}))
}

func setTags(ctx context.Context, tx *sql.Tx, id string, tags []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM project_tags WHERE project_id = ?`, id); err != nil {
		return err
	}
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_tags (project_id, name) VALUES (?, ?)`, id, t); err != nil {
			return err
		}
	}
	return nil
}

// DeleteProject removes a project or domain and everything that hangs off
// it: tags (cascade), role assignments on it, project-endpoint links and
// limits. Users and groups of a domain are the caller's to delete first.
func (s *Store) DeleteProject(ctx context.Context, id string) error {
	return wrap("delete project", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		for _, q := range []string{
			`DELETE FROM assignments WHERE target_id = ?`,
			`DELETE FROM project_endpoints WHERE project_id = ?`,
			`DELETE FROM project_endpoint_groups WHERE project_id = ?`,
			`DELETE FROM limits WHERE project_id = ? OR domain_id = ?`,
			`DELETE FROM domain_configs WHERE domain_id = ?`,
		} {
			args := make([]any, strings.Count(q, "?"))
			for i := range args {
				args[i] = id
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	}))
}

// ChildProjectIDs returns the ids of the direct children of id.
func (s *Store) ChildProjectIDs(ctx context.Context, id string) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM projects WHERE parent_id = ? AND is_domain = 0 ORDER BY name`, id)
	if err != nil {
		return nil, wrap("child projects", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		ids = append(ids, s)
	}
	return ids, rows.Err()
}

// DeleteDomainContents removes the groups and domain-specific roles of a
// domain (its projects and users are deleted one by one by the caller).
func (s *Store) DeleteDomainContents(ctx context.Context, domainID string) error {
	return wrap("delete domain contents", s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM assignments WHERE actor_id IN (SELECT id FROM groups WHERE domain_id = ?)`,
			`DELETE FROM groups WHERE domain_id = ?`,
			`DELETE FROM roles WHERE domain_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, domainID); err != nil {
				return err
			}
		}
		return nil
	}))
}
