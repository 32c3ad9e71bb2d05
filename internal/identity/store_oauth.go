package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Consumer is an OS-OAUTH1 consumer: a client application that may ask
// users to delegate roles to it. Its secret signs its requests, so it is
// stored as is (as Keystone does) and shown only when created.
type Consumer struct {
	ID          string
	Description string
	Secret      string
	Extra       map[string]any
}

// RequestToken is an OAuth 1.0a temporary credential: made for a consumer
// and a project, then authorized by a user with some of their roles, then
// exchanged once for an access token.
type RequestToken struct {
	ID                string
	Secret            string
	ConsumerID        string
	ProjectID         string   // Requested-Project-Id
	RoleIDs           []string // set when authorized
	AuthorizingUserID string   // set when authorized
	Verifier          string   // set when authorized
	ExpiresAt         time.Time
}

// AccessToken is an OAuth 1.0a token credential: it lets its consumer get
// Keystone tokens for the authorizing user on one project with the roles
// the user delegated.
type AccessToken struct {
	ID                string
	Secret            string
	ConsumerID        string
	AuthorizingUserID string
	ProjectID         string
	RoleIDs           []string
	ExpiresAt         time.Time
}

func encodeIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func decodeIDs(s string) []string {
	var ids []string
	_ = json.Unmarshal([]byte(s), &ids)
	return ids
}

const consumerCols = `id, description, secret, extra`

func scanConsumer(row interface{ Scan(...any) error }) (*Consumer, error) {
	var c Consumer
	var extra string
	if err := row.Scan(&c.ID, &c.Description, &c.Secret, &extra); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	c.Extra = decodeJSON(extra)
	return &c, nil
}

// CreateConsumer stores a new consumer.
func (s *Store) CreateConsumer(ctx context.Context, c *Consumer) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO consumers (`+consumerCols+`) VALUES (?, ?, ?, ?)`,
		c.ID, c.Description, c.Secret, encodeJSON(c.Extra))
	return wrap("create consumer", err)
}

// GetConsumer returns a consumer with its secret.
func (s *Store) GetConsumer(ctx context.Context, id string) (*Consumer, error) {
	c, err := scanConsumer(s.db.R.QueryRowContext(ctx, `SELECT `+consumerCols+` FROM consumers WHERE id = ?`, id))
	return c, wrap("get consumer", err)
}

// ListConsumers returns every consumer.
func (s *Store) ListConsumers(ctx context.Context) ([]*Consumer, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+consumerCols+` FROM consumers ORDER BY id`)
	if err != nil {
		return nil, wrap("list consumers", err)
	}
	defer rows.Close()
	out := []*Consumer{}
	for rows.Next() {
		c, err := scanConsumer(rows)
		if err != nil {
			return nil, wrap("list consumers", err)
		}
		out = append(out, c)
	}
	return out, wrap("list consumers", rows.Err())
}

// UpdateConsumer stores a consumer's description and extra attributes.
func (s *Store) UpdateConsumer(ctx context.Context, c *Consumer) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE consumers SET description = ?, extra = ? WHERE id = ?`,
		c.Description, encodeJSON(c.Extra), c.ID)
	return wrap("update consumer", affected(res, err))
}

// DeleteConsumer removes a consumer with its request and access tokens and
// returns the ids of the access tokens it removed.
func (s *Store) DeleteConsumer(ctx context.Context, id string) ([]string, error) {
	var gone []string
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM access_tokens WHERE consumer_id = ?`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var at string
			if err := rows.Scan(&at); err != nil {
				rows.Close()
				return err
			}
			gone = append(gone, at)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM access_tokens WHERE consumer_id = ?`, `DELETE FROM request_tokens WHERE consumer_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM consumers WHERE id = ?`, id)
		return affected(res, err)
	})
	return gone, wrap("delete consumer", err)
}

const requestTokenCols = `id, secret, consumer_id, requested_project_id, role_ids, authorizing_user_id, verifier, expires_at`

// CreateRequestToken stores a new, unauthorized request token.
func (s *Store) CreateRequestToken(ctx context.Context, t *RequestToken) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO request_tokens (`+requestTokenCols+`) VALUES (?, ?, ?, ?, NULL, NULL, NULL, ?)`,
		t.ID, t.Secret, t.ConsumerID, t.ProjectID, nullMicros(t.ExpiresAt))
	return wrap("create request token", err)
}

// GetRequestToken returns a request token.
func (s *Store) GetRequestToken(ctx context.Context, id string) (*RequestToken, error) {
	var t RequestToken
	var roles, user, verifier sql.NullString
	var exp sql.NullInt64
	err := s.db.R.QueryRowContext(ctx, `SELECT `+requestTokenCols+` FROM request_tokens WHERE id = ?`, id).
		Scan(&t.ID, &t.Secret, &t.ConsumerID, &t.ProjectID, &roles, &user, &verifier, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, wrap("get request token", err)
	}
	t.AuthorizingUserID, t.Verifier, t.ExpiresAt = user.String, verifier.String, fromMicros(exp.Int64)
	if roles.Valid {
		t.RoleIDs = decodeIDs(roles.String)
	}
	return &t, nil
}

// AuthorizeRequestToken records the user, roles and verifier of a request
// token that nobody has authorized yet (errNotFound otherwise).
func (s *Store) AuthorizeRequestToken(ctx context.Context, id, userID string, roleIDs []string, verifier string) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE request_tokens SET authorizing_user_id = ?, role_ids = ?, verifier = ?
		WHERE id = ? AND authorizing_user_id IS NULL`, userID, encodeIDs(roleIDs), verifier, id)
	return wrap("authorize request token", affected(res, err))
}

// ExchangeRequestToken deletes the request token reqID and stores at in one
// transaction, so a request token buys exactly one access token.
func (s *Store) ExchangeRequestToken(ctx context.Context, reqID string, at *AccessToken) error {
	return wrap("create access token", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM request_tokens WHERE id = ?`, reqID)
		if err := affected(res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO access_tokens (`+accessTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			at.ID, at.Secret, at.ConsumerID, at.AuthorizingUserID, at.ProjectID, encodeIDs(at.RoleIDs), nullMicros(at.ExpiresAt))
		return err
	}))
}

const accessTokenCols = `id, secret, consumer_id, authorizing_user_id, project_id, role_ids, expires_at`

func scanAccessToken(row interface{ Scan(...any) error }) (*AccessToken, error) {
	var t AccessToken
	var roles string
	var exp sql.NullInt64
	if err := row.Scan(&t.ID, &t.Secret, &t.ConsumerID, &t.AuthorizingUserID, &t.ProjectID, &roles, &exp); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	t.RoleIDs, t.ExpiresAt = decodeIDs(roles), fromMicros(exp.Int64)
	return &t, nil
}

// GetAccessToken returns an access token with its secret.
func (s *Store) GetAccessToken(ctx context.Context, id string) (*AccessToken, error) {
	t, err := scanAccessToken(s.db.R.QueryRowContext(ctx, `SELECT `+accessTokenCols+` FROM access_tokens WHERE id = ?`, id))
	return t, wrap("get access token", err)
}

// ListAccessTokens returns the access tokens userID authorized.
func (s *Store) ListAccessTokens(ctx context.Context, userID string) ([]*AccessToken, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+accessTokenCols+` FROM access_tokens WHERE authorizing_user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, wrap("list access tokens", err)
	}
	defer rows.Close()
	out := []*AccessToken{}
	for rows.Next() {
		t, err := scanAccessToken(rows)
		if err != nil {
			return nil, wrap("list access tokens", err)
		}
		out = append(out, t)
	}
	return out, wrap("list access tokens", rows.Err())
}

// DeleteAccessToken removes an access token.
func (s *Store) DeleteAccessToken(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM access_tokens WHERE id = ?`, id)
	return wrap("delete access token", affected(res, err))
}
