package compute

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"kumo/internal/platform/db"
)

// KeyPair is a user's key pair (Nova's key_pairs row).
type KeyPair struct {
	ID          int64
	UserID      string
	Name        string
	Fingerprint string
	PublicKey   string
	Type        string // "ssh" or "x509"
	CreatedAt   time.Time
}

type keypairStore struct{ db *db.DB }

const keypairColumns = `id, user_id, name, fingerprint, public_key, type, created_at`

func scanKeyPair(row scanner) (*KeyPair, error) {
	k := &KeyPair{}
	var created string
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Fingerprint, &k.PublicKey, &k.Type, &created); err != nil {
		return nil, err
	}
	k.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return k, nil
}

// get returns user's key pair called name.
func (st keypairStore) get(ctx context.Context, user, name string) (*KeyPair, error) {
	k, err := scanKeyPair(st.db.R.QueryRowContext(ctx, `SELECT `+keypairColumns+` FROM key_pairs WHERE user_id = ? AND name = ?`, user, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return k, err
}

// create stores k unless the user already has limit key pairs
// (errOverQuota; limit < 0 is no limit) or one with its name (errExists).
// The count and the insert are one transaction, so two racing creates
// cannot both pass the limit.
func (st keypairStore) create(ctx context.Context, k *KeyPair, limit int64) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		if limit >= 0 {
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM key_pairs WHERE user_id = ?`, k.UserID).Scan(&n); err != nil {
				return err
			}
			if n+1 > limit {
				return errOverQuota
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO key_pairs (user_id, name, fingerprint, public_key, type, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.UserID, k.Name, k.Fingerprint, k.PublicKey, k.Type, k.CreatedAt.Format(time.RFC3339Nano))
		if db.IsUniqueViolation(err) {
			return errExists
		}
		if err != nil {
			return err
		}
		k.ID, err = res.LastInsertId()
		return err
	})
}

var errOverQuota = errors.New("over quota")

// delete removes user's key pair called name.
func (st keypairStore) delete(ctx context.Context, user, name string) error {
	res, err := st.db.W.ExecContext(ctx, `DELETE FROM key_pairs WHERE user_id = ? AND name = ?`, user, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// list returns up to limit (-1: all) of user's key pairs by name, after
// marker (a name; nil for the start). A marker that names no key pair is
// errNotFound.
func (st keypairStore) list(ctx context.Context, user string, limit int, marker *string) ([]*KeyPair, error) {
	q := `SELECT ` + keypairColumns + ` FROM key_pairs WHERE user_id = ?`
	args := []any{user}
	if marker != nil {
		if _, err := st.get(ctx, user, *marker); err != nil {
			return nil, err
		}
		q += ` AND name > ?`
		args = append(args, *marker)
	}
	q += ` ORDER BY name, id`
	if limit >= 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := st.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*KeyPair
	for rows.Next() {
		k, err := scanKeyPair(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
