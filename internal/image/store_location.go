package image

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// locChange is a change of the stores holding an image's data.
type locChange struct {
	add, drop string // store ids, "" for none
}

// loadLocations fills the Stores of images (byID) in one query.
func (s *Store) loadLocations(ctx context.Context, byID map[string]*Image, in string, ids []any) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT image_id, store FROM image_locations WHERE image_id IN (`+in+`) ORDER BY store`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return err
		}
		byID[id].Stores = append(byID[id].Stores, st)
	}
	return rows.Err()
}

// applyLocations writes lc, inside SaveDataIn's transaction, and keeps
// im.Stores as stored.
func applyLocations(ctx context.Context, tx *sql.Tx, im *Image, lc locChange) error {
	if !im.HasData {
		im.Stores = nil
		_, err := tx.ExecContext(ctx, `DELETE FROM image_locations WHERE image_id = ?`, im.ID)
		return err
	}
	if lc.add != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_locations (image_id, store) VALUES (?, ?) ON CONFLICT DO NOTHING`, im.ID, lc.add); err != nil {
			return err
		}
	}
	if lc.drop != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM image_locations WHERE image_id = ? AND store = ?`, im.ID, lc.drop); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT store FROM image_locations WHERE image_id = ? ORDER BY store`, im.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	im.Stores = nil
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return err
		}
		im.Stores = append(im.Stores, st)
	}
	return rows.Err()
}

// Errors of RemoveLocation.
var (
	errNotActive  = errors.New("image not active")
	errLastStore  = errors.New("last store of the image")
	errNotInStore = errors.New("image not in store")
)

// RemoveLocation forgets that store holds image id's data, in one write
// transaction that checks the image is active and keeps at least one
// store (errNotActive, errLastStore, errNotInStore, errNotFound).
func (s *Store) RemoveLocation(ctx context.Context, id, store string, at time.Time) error {
	return wrap("remove location", s.db.Tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM images WHERE id = ? AND deleted = 0`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if status != statusActive {
			return errNotActive
		}
		var n, here int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(store = ?), 0) FROM image_locations WHERE image_id = ?`, store, id).Scan(&n, &here); err != nil {
			return err
		}
		if here == 0 {
			return errNotInStore
		}
		if n == 1 {
			return errLastStore
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM image_locations WHERE image_id = ? AND store = ?`, id, store); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE images SET updated_at = ? WHERE id = ?`, micros(at), id)
		return err
	}))
}

// storesInUse lists the stores that hold data of live images.
func (s *Store) storesInUse(ctx context.Context) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT DISTINCT l.store FROM image_locations l JOIN images i ON i.id = l.image_id WHERE i.deleted = 0`)
	if err != nil {
		return nil, wrap("stores in use", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
