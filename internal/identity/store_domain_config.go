package identity

import (
	"context"
	"database/sql"
	"encoding/json"
)

// ConfigOption is one option of a domain-specific configuration. Values
// keep their JSON type (a list_limit stays a number).
type ConfigOption struct {
	Group, Option string
	Value         any
	Sensitive     bool
}

// DomainConfig returns a domain's options, optionally of one group or one
// option, either the sensitive ones or the others.
func (s *Store) DomainConfig(ctx context.Context, domainID, group, option string, sensitive bool) ([]ConfigOption, error) {
	var w where
	w.add("domain_id = ?", domainID)
	w.add("sensitive = ?", boolInt(sensitive))
	if group != "" {
		w.add("grp = ?", group)
	}
	if option != "" {
		w.add("option_name = ?", option)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT grp, option_name, value, sensitive FROM domain_configs`+w.sql()+` ORDER BY grp, option_name`, w.args...)
	if err != nil {
		return nil, wrap("domain config", err)
	}
	defer rows.Close()
	var out []ConfigOption
	for rows.Next() {
		var o ConfigOption
		var raw string
		var sens int
		if err := rows.Scan(&o.Group, &o.Option, &raw, &sens); err != nil {
			return nil, wrap("domain config", err)
		}
		if err := json.Unmarshal([]byte(raw), &o.Value); err != nil {
			o.Value = raw
		}
		o.Sensitive = sens == 1
		out = append(out, o)
	}
	return out, wrap("domain config", rows.Err())
}

func putConfigOptions(ctx context.Context, tx *sql.Tx, domainID string, opts []ConfigOption) error {
	for _, o := range opts {
		raw, err := json.Marshal(o.Value)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM domain_configs WHERE domain_id = ? AND grp = ? AND option_name = ?`, domainID, o.Group, o.Option); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO domain_configs (domain_id, grp, option_name, value, sensitive) VALUES (?, ?, ?, ?, ?)`,
			domainID, o.Group, o.Option, string(raw), boolInt(o.Sensitive)); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceDomainConfig makes opts the whole configuration of a domain.
func (s *Store) ReplaceDomainConfig(ctx context.Context, domainID string, opts []ConfigOption) error {
	return wrap("replace domain config", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM domain_configs WHERE domain_id = ?`, domainID); err != nil {
			return err
		}
		return putConfigOptions(ctx, tx, domainID, opts)
	}))
}

// UpdateDomainConfig sets opts, keeping the domain's other options.
func (s *Store) UpdateDomainConfig(ctx context.Context, domainID string, opts []ConfigOption) error {
	return wrap("update domain config", s.db.Tx(ctx, func(tx *sql.Tx) error {
		return putConfigOptions(ctx, tx, domainID, opts)
	}))
}

// DeleteDomainConfig removes a domain's options: all of them, those of a
// group, or one option.
func (s *Store) DeleteDomainConfig(ctx context.Context, domainID, group, option string) error {
	var w where
	w.add("domain_id = ?", domainID)
	if group != "" {
		w.add("grp = ?", group)
	}
	if option != "" {
		w.add("option_name = ?", option)
	}
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM domain_configs`+w.sql(), w.args...)
	return wrap("delete domain config", err)
}
