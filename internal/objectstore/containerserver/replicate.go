package containerserver

import (
	"context"
	"database/sql"
	"fmt"

	"kumo/internal/platform/db"
)

// replInfo is what two replicas exchange first: identity, stat and
// metadata, and (in a reply) how far the replier has merged the asker's
// rows.
type replInfo struct {
	ID              string    `json:"id"`
	MaxRow          int64     `json:"max_row"`
	Point           int64     `json:"point"`
	Account         string    `json:"account"`
	Container       string    `json:"container,omitempty"`
	CreatedAt       Timestamp `json:"created_at"`
	PutTimestamp    Timestamp `json:"put_timestamp"`
	DeleteTimestamp Timestamp `json:"delete_timestamp"`
	StatusChangedAt Timestamp `json:"status_changed_at"`
	PolicyIndex     int       `json:"storage_policy_index"`
	Status          string    `json:"status,omitempty"`
	Metadata        Metadata  `json:"metadata"`
}

// replRows carries a batch of rows of either kind.
type replRows struct {
	From       string            `json:"from,omitempty"`
	Point      int64             `json:"point"`
	Objects    []ObjectRecord    `json:"objects,omitempty"`
	Containers []ContainerRecord `json:"containers,omitempty"`
}

func (r replRows) len() int { return len(r.Objects) + len(r.Containers) }

// replBatch is how many rows one replication request carries.
const replBatch = 1000

func localInfo(ctx context.Context, d *db.DB, kind Kind) (replInfo, error) {
	if kind == KindAccount {
		i, err := readAccountInfo(ctx, d.R)
		return replInfo{ID: i.ID, MaxRow: i.MaxRow, Account: i.Account, CreatedAt: i.CreatedAt,
			PutTimestamp: i.PutTimestamp, DeleteTimestamp: i.DeleteTimestamp, StatusChangedAt: i.StatusChangedAt,
			Status: i.Status, Metadata: i.Metadata}, err
	}
	i, err := readContainerInfo(ctx, d.R)
	return replInfo{ID: i.ID, MaxRow: i.MaxRow, Account: i.Account, Container: i.Container, CreatedAt: i.CreatedAt,
		PutTimestamp: i.PutTimestamp, DeleteTimestamp: i.DeleteTimestamp, StatusChangedAt: i.StatusChangedAt,
		PolicyIndex: i.PolicyIndex, Metadata: i.Metadata}, err
}

// mergeInfo folds a peer's stat and metadata into the local database:
// later put/delete timestamps and metadata items win, the earliest creation
// time stays.
func mergeInfo(ctx context.Context, d *db.DB, kind Kind, o replInfo) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if kind == KindAccount {
			i, err := readAccountInfo(ctx, tx)
			if err != nil {
				return err
			}
			changed := i.Metadata.merge(o.Metadata)
			status := i.Status
			if o.Status == "DELETED" {
				status = "DELETED"
			}
			if !changed && status == i.Status && !newerInfo(i.CreatedAt, i.PutTimestamp, i.DeleteTimestamp, i.StatusChangedAt, o) {
				return nil
			}
			_, err = tx.ExecContext(ctx, `UPDATE info SET created_at = ?, put_timestamp = ?, delete_timestamp = ?,
				status_changed_at = ?, status = ?, metadata = ? WHERE id = 1`,
				minCreated(i.CreatedAt, o.CreatedAt), maxTS(i.PutTimestamp, o.PutTimestamp), maxTS(i.DeleteTimestamp, o.DeleteTimestamp),
				maxTS(i.StatusChangedAt, o.StatusChangedAt), status, i.Metadata.encode())
			return err
		}
		i, err := readContainerInfo(ctx, tx)
		if err != nil {
			return err
		}
		changed := i.Metadata.merge(o.Metadata)
		pol := i.PolicyIndex
		if o.PutTimestamp > i.PutTimestamp {
			pol = o.PolicyIndex
		}
		// Nothing new: skip the write (and its fsync) on every pass.
		if !changed && !newerInfo(i.CreatedAt, i.PutTimestamp, i.DeleteTimestamp, i.StatusChangedAt, o) {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE info SET created_at = ?, put_timestamp = ?, delete_timestamp = ?,
			status_changed_at = ?, storage_policy_index = ?, metadata = ? WHERE id = 1`,
			minCreated(i.CreatedAt, o.CreatedAt), maxTS(i.PutTimestamp, o.PutTimestamp), maxTS(i.DeleteTimestamp, o.DeleteTimestamp),
			maxTS(i.StatusChangedAt, o.StatusChangedAt), pol, i.Metadata.encode())
		return err
	})
}

// newerInfo reports whether o would change any of the local timestamps.
func newerInfo(created, put, del, status Timestamp, o replInfo) bool {
	return minCreated(created, o.CreatedAt) != created || o.PutTimestamp > put ||
		o.DeleteTimestamp > del || o.StatusChangedAt > status
}

func minCreated(a, b Timestamp) Timestamp {
	if b != "" && b != zeroTimestamp && b < a {
		return b
	}
	return a
}

// rowsSince returns up to limit rows (live and deleted) with row id > since.
func rowsSince(ctx context.Context, d *db.DB, kind Kind, since int64, limit int) (replRows, error) {
	var out replRows
	if kind == KindAccount {
		rows, err := d.R.QueryContext(ctx, `SELECT row, name, put_timestamp, delete_timestamp, object_count, bytes_used,
			report_timestamp, storage_policy_index, deleted FROM container WHERE row > ? ORDER BY row LIMIT ?`, since, limit)
		if err != nil {
			return out, err
		}
		defer rows.Close()
		for rows.Next() {
			var r ContainerRecord
			if err := rows.Scan(&r.Row, &r.Name, &r.PutTimestamp, &r.DeleteTimestamp, &r.ObjectCount, &r.BytesUsed,
				&r.ReportTimestamp, &r.PolicyIndex, &r.Deleted); err != nil {
				return out, err
			}
			out.Containers = append(out.Containers, r)
			out.Point = r.Row
		}
		return out, rows.Err()
	}
	rows, err := d.R.QueryContext(ctx, `SELECT row, name, created_at, size, content_type, etag, deleted, ctype_timestamp
		FROM object WHERE row > ? ORDER BY row LIMIT ?`, since, limit)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var r ObjectRecord
		if err := rows.Scan(&r.Row, &r.Name, &r.CreatedAt, &r.Size, &r.ContentType, &r.ETag, &r.Deleted, &r.CTypeTimestamp); err != nil {
			return out, err
		}
		out.Objects = append(out.Objects, r)
		out.Point = r.Row
	}
	return out, rows.Err()
}

// mergeRows merges a peer's rows and records the peer's sync point in the
// same transaction, so a crash can never claim rows that were not merged.
func mergeRows(ctx context.Context, d *db.DB, kind Kind, from string, b replRows) (int, error) {
	n := 0
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if kind == KindAccount {
			n, err = mergeContainers(ctx, tx, b.Containers)
		} else {
			n, err = mergeObjects(ctx, tx, nil, b.Objects)
		}
		if err != nil {
			return err
		}
		if from != "" {
			return setSyncPoint(ctx, tx, from, b.Point)
		}
		return nil
	})
	return n, err
}

// createReplica makes an empty database for a replica a peer holds and we
// do not, with the peer's identity (the rows follow by replication).
func (s *Store) createReplica(path string, kind Kind, o replInfo) error {
	want := s.hash.Hash(o.Account, o.Container)
	if kind == KindAccount {
		want = s.hash.Hash(o.Account, "")
	}
	if o.Account == "" || (kind == KindContainer && o.Container == "") || !pathHasHash(path, want) {
		return fmt.Errorf("replica identity %q/%q does not hash to %s: %w", o.Account, o.Container, path, ErrConflict)
	}
	return s.createDB(path, kind, func(tx *sql.Tx) error {
		var err error
		if kind == KindAccount {
			_, err = tx.Exec(`INSERT INTO info (id, db_id, account, created_at, put_timestamp, delete_timestamp,
				status_changed_at) VALUES (1, ?, ?, ?, ?, ?, ?)`,
				newDBID(), o.Account, o.CreatedAt, zeroTimestamp, zeroTimestamp, o.StatusChangedAt)
		} else {
			_, err = tx.Exec(`INSERT INTO info (id, db_id, account, container, created_at, put_timestamp,
				delete_timestamp, status_changed_at, storage_policy_index) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
				newDBID(), o.Account, o.Container, o.CreatedAt, zeroTimestamp, zeroTimestamp, o.StatusChangedAt, o.PolicyIndex)
		}
		return err
	})
}

func pathHasHash(path, hash string) bool {
	n := len(hash) + len(".db")
	return len(path) >= n && path[len(path)-n:] == hash+".db"
}
