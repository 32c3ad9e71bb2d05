package image

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kumo/internal/platform/db"
)

// Store is the image service's persistence: its tables and nothing else.
type Store struct {
	db *db.DB
}

var (
	// errNotFound is returned by lookups that match no (live) row.
	errNotFound = errors.New("not found")
	// errStale is returned by a conditional write whose precondition (the
	// image's status) no longer holds.
	errStale = errors.New("image changed concurrently")
)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func wrap(op string, err error) error {
	if err == nil || errors.Is(err, errNotFound) || errors.Is(err, errStale) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

const imageCols = `id, name, status, visibility, owner, disk_format, container_format, size, virtual_size,
	checksum, os_hash_algo, os_hash_value, min_disk, min_ram, protected, os_hidden, has_data, created_at, updated_at`

func scanImage(row interface{ Scan(...any) error }) (*Image, error) {
	var im Image
	var name, owner, df, cf, ck, algo, hv sql.NullString
	var size, vsize sql.NullInt64
	var prot, hidden, data int
	var created, updated int64
	if err := row.Scan(&im.ID, &name, &im.Status, &im.Visibility, &owner, &df, &cf, &size, &vsize,
		&ck, &algo, &hv, &im.MinDisk, &im.MinRAM, &prot, &hidden, &data, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
	}
	im.Name, im.Owner, im.DiskFormat, im.ContainerFormat = strPtr(name), strPtr(owner), strPtr(df), strPtr(cf)
	im.Checksum, im.OSHashAlgo, im.OSHashValue = strPtr(ck), strPtr(algo), strPtr(hv)
	im.Size, im.VirtualSize = intPtr(size), intPtr(vsize)
	im.Protected, im.OSHidden, im.HasData = prot == 1, hidden == 1, data == 1
	im.CreatedAt, im.UpdatedAt = fromMicros(created), fromMicros(updated)
	im.Properties = map[string]string{}
	im.Tags = []string{}
	return &im, nil
}

func strPtr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	s := n.String
	return &s
}

func intPtr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func imageArgs(im *Image) []any {
	return []any{nullable(im.Name), im.Status, im.Visibility, nullable(im.Owner), nullable(im.DiskFormat),
		nullable(im.ContainerFormat), nullable(im.Size), nullable(im.VirtualSize), nullable(im.Checksum),
		nullable(im.OSHashAlgo), nullable(im.OSHashValue), im.MinDisk, im.MinRAM, boolInt(im.Protected),
		boolInt(im.OSHidden), boolInt(im.HasData), micros(im.CreatedAt), micros(im.UpdatedAt)}
}

// CreateImage stores a new image with its properties and tags.
func (s *Store) CreateImage(ctx context.Context, im *Image) error {
	return wrap("create image", s.db.Tx(ctx, func(tx *sql.Tx) error {
		args := append([]any{im.ID}, imageArgs(im)...)
		if _, err := tx.ExecContext(ctx, `INSERT INTO images (`+imageCols+`) VALUES (`+placeholders(19)+`)`, args...); err != nil {
			return err
		}
		return writeChildren(ctx, tx, im)
	}))
}

func writeChildren(ctx context.Context, tx *sql.Tx, im *Image) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ?`, im.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = ?`, im.ID); err != nil {
		return err
	}
	for k, v := range im.Properties {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value) VALUES (?, ?, ?)`, im.ID, k, v); err != nil {
			return err
		}
	}
	for _, t := range im.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value) VALUES (?, ?)`, im.ID, t); err != nil {
			return err
		}
	}
	return nil
}

// GetImage returns a live (not deleted) image with its properties and tags.
func (s *Store) GetImage(ctx context.Context, id string) (*Image, error) {
	im, err := scanImage(s.db.R.QueryRowContext(ctx, `SELECT `+imageCols+` FROM images WHERE id = ? AND deleted = 0`, id))
	if err != nil {
		return nil, wrap("get image", err)
	}
	if err := s.loadChildren(ctx, []*Image{im}); err != nil {
		return nil, wrap("get image", err)
	}
	return im, nil
}

// loadChildren fills the properties and tags of images in two queries.
func (s *Store) loadChildren(ctx context.Context, ims []*Image) error {
	if len(ims) == 0 {
		return nil
	}
	byID := make(map[string]*Image, len(ims))
	ids := make([]any, 0, len(ims))
	for _, im := range ims {
		byID[im.ID] = im
		ids = append(ids, im.ID)
	}
	in := placeholders(len(ids))
	rows, err := s.db.R.QueryContext(ctx, `SELECT image_id, name, value FROM image_properties WHERE image_id IN (`+in+`)`, ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			rows.Close()
			return err
		}
		byID[id].Properties[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT image_id, value FROM image_tags WHERE image_id IN (`+in+`) ORDER BY value`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, t string
		if err := rows.Scan(&id, &t); err != nil {
			return err
		}
		byID[id].Tags = append(byID[id].Tags, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return s.loadLocations(ctx, byID, in, ids)
}

// SaveData is the write of the upload and import state machines: the
// status, the data columns (size, virtual_size, checksum, os_hash_*,
// has_data), updated_at and the named properties (the os_glance_* ones;
// removed when absent from im.Properties), in one UPDATE made only while
// the stored status still is from (errStale otherwise). It leaves the
// metadata alone, so a PATCH or a tag made while the image was saving
// survives the upload's last write.
func (s *Store) SaveData(ctx context.Context, im *Image, from string, props ...string) error {
	return s.SaveDataIn(ctx, im, from, locChange{}, props...)
}

// SaveDataIn is SaveData that also records a store gaining (add) or
// losing (drop) the image's data, in the same transaction. An image
// without data (HasData false) is in no store.
func (s *Store) SaveDataIn(ctx context.Context, im *Image, from string, lc locChange, props ...string) error {
	return wrap("save image data", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET status = ?, size = ?, virtual_size = ?, checksum = ?,
			os_hash_algo = ?, os_hash_value = ?, has_data = ?, updated_at = ? WHERE id = ? AND deleted = 0 AND status = ?`,
			im.Status, nullable(im.Size), nullable(im.VirtualSize), nullable(im.Checksum), nullable(im.OSHashAlgo),
			nullable(im.OSHashValue), boolInt(im.HasData), micros(im.UpdatedAt), im.ID, from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return staleOrGone(ctx, tx, im.ID)
		}
		for _, k := range props {
			v, ok := im.Properties[k]
			if err := setProperty(ctx, tx, im.ID, k, v, ok); err != nil {
				return err
			}
		}
		return applyLocations(ctx, tx, im, lc)
	}))
}

// SaveMetadata is a PATCH's write: the columns a PATCH may change, and the
// properties and tags that differ between before (the image as the request
// loaded it) and after. Data columns and status are not written, and what
// the PATCH did not touch is not rewritten, so concurrent uploads, tags and
// PATCHes of other properties are kept. When the PATCH changed a format,
// which is only allowed while queued, the write requires the status to be
// still before's (errStale otherwise). The property and tag limits are
// checked on the stored result, inside the transaction.
func (s *Store) SaveMetadata(ctx context.Context, before, after *Image) error {
	return wrap("save image metadata", s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := `UPDATE images SET name = ?, visibility = ?, owner = ?, disk_format = ?, container_format = ?, min_disk = ?,
			min_ram = ?, protected = ?, os_hidden = ?, updated_at = ? WHERE id = ? AND deleted = 0`
		args := []any{nullable(after.Name), after.Visibility, nullable(after.Owner), nullable(after.DiskFormat),
			nullable(after.ContainerFormat), after.MinDisk, after.MinRAM, boolInt(after.Protected), boolInt(after.OSHidden),
			micros(after.UpdatedAt), after.ID}
		if !eqPtr(before.DiskFormat, after.DiskFormat) || !eqPtr(before.ContainerFormat, after.ContainerFormat) {
			q += ` AND status = ?`
			args = append(args, before.Status)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return staleOrGone(ctx, tx, after.ID)
		}
		for k, v := range after.Properties {
			if old, ok := before.Properties[k]; !ok || old != v {
				if err := setProperty(ctx, tx, after.ID, k, v, true); err != nil {
					return err
				}
			}
		}
		for k := range before.Properties {
			if _, ok := after.Properties[k]; !ok {
				if err := setProperty(ctx, tx, after.ID, k, "", false); err != nil {
					return err
				}
			}
		}
		if !slices.Equal(before.Tags, after.Tags) {
			for _, t := range before.Tags {
				if !slices.Contains(after.Tags, t) {
					if _, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = ? AND value = ?`, after.ID, t); err != nil {
						return err
					}
				}
			}
			for _, t := range after.Tags {
				if _, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, after.ID, t); err != nil {
					return err
				}
			}
		}
		if n, err := countChildren(ctx, tx, "image_properties", after.ID); err != nil {
			return err
		} else if n > maxImageProperties {
			return &limitError{what: "properties", attempted: n}
		}
		if n, err := countChildren(ctx, tx, "image_tags", after.ID); err != nil {
			return err
		} else if n > maxImageTags {
			return &limitError{what: "tags", attempted: n}
		}
		return nil
	}))
}

// limitError is a per-image limit (properties, tags, members) found
// exceeded inside a write transaction, which was rolled back.
type limitError struct {
	what      string
	attempted int
}

func (e *limitError) Error() string {
	return fmt.Sprintf("image %s limit exceeded: attempted %d", e.what, e.attempted)
}

func eqPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// setProperty stores (ok) or removes (!ok) one property.
func setProperty(ctx context.Context, tx *sql.Tx, id, k, v string, ok bool) error {
	if !ok {
		_, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ? AND name = ?`, id, k)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value) VALUES (?, ?, ?)
		ON CONFLICT (image_id, name) DO UPDATE SET value = excluded.value`, id, k, v)
	return err
}

func countChildren(ctx context.Context, tx *sql.Tx, table, id string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE image_id = ?`, id).Scan(&n)
	return n, err
}

// staleOrGone explains an UPDATE that matched no row: the image is gone
// (errNotFound) or its status moved on (errStale).
func staleOrGone(ctx context.Context, tx *sql.Tx, id string) error {
	var st string
	err := tx.QueryRowContext(ctx, `SELECT status FROM images WHERE id = ? AND deleted = 0`, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return errStale
}

// lockLive makes sure image id exists and is not deleted, inside a write
// transaction: the single writer then keeps it so until the commit, so no
// child row is written for an image deleted meanwhile.
func lockLive(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM images WHERE id = ? AND deleted = 0`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	return err
}

// DeleteImage marks an image deleted, dropping its properties, tags and
// members; the row stays so the id is never reused.
func (s *Store) DeleteImage(ctx context.Context, id string, at time.Time) error {
	return wrap("delete image", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET deleted = 1, status = ?, deleted_at = ?, updated_at = ?, has_data = 0
			WHERE id = ? AND deleted = 0`, statusDeleted, micros(at), micros(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		for _, t := range []string{"image_properties", "image_tags", "image_members", "image_locations"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE image_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	}))
}

// ImagesWithData lists the ids of images whose data should be on disk, and
// of images left in "saving" by a crash (for start-up reconciliation).
func (s *Store) ImagesSaving(ctx context.Context) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id FROM images WHERE deleted = 0 AND status = ?`, statusSaving)
	if err != nil {
		return nil, wrap("images saving", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AddTag adds a tag (idempotent) to a live image, keeping the image at
// most max tags (a *limitError otherwise); errNotFound when the image is
// gone. The checks and the insert are one write transaction.
func (s *Store) AddTag(ctx context.Context, id, tag string, max int, at time.Time) error {
	return wrap("add tag", s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := lockLive(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already there
		}
		if n, err := countChildren(ctx, tx, "image_tags", id); err != nil {
			return err
		} else if n > max {
			return &limitError{what: "tags", attempted: n}
		}
		_, err = tx.ExecContext(ctx, `UPDATE images SET updated_at = ? WHERE id = ?`, micros(at), id)
		return err
	}))
}

// DeleteTag removes a tag; errNotFound when the image had no such tag.
func (s *Store) DeleteTag(ctx context.Context, id, tag string, at time.Time) error {
	return wrap("delete tag", s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = ? AND value = ?`, id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE images SET updated_at = ? WHERE id = ?`, micros(at), id)
		return err
	}))
}
