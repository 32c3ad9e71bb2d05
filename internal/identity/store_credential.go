package identity

import (
	"context"
	"database/sql"
	"errors"
)

// Credential is a Keystone credential: a blob (an EC2 access/secret pair, a
// TOTP seed, a certificate...) owned by a user. In the store Blob holds the
// sealed (encrypted) blob and KeyHash the hash of the key that sealed it;
// the service opens it before anything leaves the package's store.
type Credential struct {
	ID        string
	UserID    string
	ProjectID string
	Type      string
	Blob      string
	KeyHash   string
	Extra     map[string]any
}

// CredentialFilter selects credentials; empty fields match everything.
type CredentialFilter struct {
	UserID string
	Type   string
}

const credentialCols = `id, user_id, project_id, type, blob, key_hash, extra`

func scanCredential(row interface{ Scan(...any) error }) (*Credential, error) {
	var c Credential
	var project sql.NullString
	var extra string
	if err := row.Scan(&c.ID, &c.UserID, &project, &c.Type, &c.Blob, &c.KeyHash, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	c.ProjectID, c.Extra = project.String, decodeJSON(extra)
	return &c, nil
}

// GetCredential returns one credential, its blob sealed.
func (s *Store) GetCredential(ctx context.Context, id string) (*Credential, error) {
	c, err := scanCredential(s.db.R.QueryRowContext(ctx, `SELECT `+credentialCols+` FROM credentials WHERE id = ?`, id))
	return c, wrap("get credential", err)
}

// ListCredentials returns the credentials matching f, ordered by id.
func (s *Store) ListCredentials(ctx context.Context, f CredentialFilter) ([]*Credential, error) {
	var w where
	if f.UserID != "" {
		w.add("user_id = ?", f.UserID)
	}
	if f.Type != "" {
		w.add("type = ?", f.Type)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+credentialCols+` FROM credentials`+w.sql()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, wrap("list credentials", err)
	}
	defer rows.Close()
	out := []*Credential{}
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, wrap("list credentials", err)
		}
		out = append(out, c)
	}
	return out, wrap("list credentials", rows.Err())
}

// CreateCredential inserts c (Blob already sealed). A duplicate id, which
// for an EC2 credential means a duplicate access key, is a unique violation.
func (s *Store) CreateCredential(ctx context.Context, c *Credential) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO credentials (`+credentialCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.UserID, nullStr(c.ProjectID), c.Type, c.Blob, c.KeyHash, encodeJSON(c.Extra))
	return wrap("create credential", err)
}

// UpdateCredential writes every field of c but its id.
func (s *Store) UpdateCredential(ctx context.Context, c *Credential) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE credentials SET user_id = ?, project_id = ?, type = ?, blob = ?, key_hash = ?, extra = ?
		WHERE id = ?`, c.UserID, nullStr(c.ProjectID), c.Type, c.Blob, c.KeyHash, encodeJSON(c.Extra), c.ID)
	if err != nil {
		return wrap("update credential", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// DeleteCredential removes one credential.
func (s *Store) DeleteCredential(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM credentials WHERE id = ?`, id)
	if err != nil {
		return wrap("delete credential", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}
