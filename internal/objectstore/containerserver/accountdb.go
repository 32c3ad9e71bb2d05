package containerserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kumo/internal/platform/db"
)

// AccountInfo is an account's stat row.
type AccountInfo struct {
	ID              string
	Account         string
	CreatedAt       Timestamp
	PutTimestamp    Timestamp
	DeleteTimestamp Timestamp
	StatusChangedAt Timestamp
	// Status is "DELETED" once the account was deleted (Swift's status).
	Status         string
	ContainerCount int64
	ObjectCount    int64
	BytesUsed      int64
	Metadata       Metadata
	MaxRow         int64
}

// Deleted is Swift's account is_deleted.
func (i AccountInfo) Deleted() bool {
	return i.Status == "DELETED" || (i.ContainerCount == 0 && i.DeleteTimestamp > i.PutTimestamp)
}

// ContainerRecord is one row of an account database: what the container
// last reported.
type ContainerRecord struct {
	Name            string    `json:"name"`
	PutTimestamp    Timestamp `json:"put_timestamp"`
	DeleteTimestamp Timestamp `json:"delete_timestamp"`
	ObjectCount     int64     `json:"object_count"`
	BytesUsed       int64     `json:"bytes_used"`
	// ReportTimestamp is when the container sent the report; with the
	// put/delete timestamps it orders reports (newerReportThan), so every
	// replica keeps the same counters whatever order reports and
	// replication arrive in.
	ReportTimestamp Timestamp `json:"report_timestamp"`
	PolicyIndex     int       `json:"storage_policy_index"`
	Deleted         bool      `json:"deleted"`
	Row             int64     `json:"row,omitempty"`
}

// newerReportThan orders count reports: a report that has seen a later
// put or delete wins; between reports of the same state the later report
// wins.
func (r ContainerRecord) newerReportThan(o ContainerRecord) bool {
	rs, os := maxTS(r.PutTimestamp, r.DeleteTimestamp), maxTS(o.PutTimestamp, o.DeleteTimestamp)
	if rs != os {
		return rs > os
	}
	return r.ReportTimestamp > o.ReportTimestamp
}

// deletedState is Swift's rule for a container row: deleted when its
// delete is newer than its put and it reported no objects.
func (r ContainerRecord) deletedState() bool {
	return r.DeleteTimestamp > r.PutTimestamp && r.ObjectCount == 0
}

const accountInfoCols = `db_id, account, created_at, put_timestamp, delete_timestamp,
	status_changed_at, status, container_count, object_count, bytes_used, metadata,
	(SELECT COALESCE(MAX(row), -1) FROM container)`

func readAccountInfo(ctx context.Context, q queryer) (AccountInfo, error) {
	var i AccountInfo
	var meta string
	err := q.QueryRowContext(ctx, `SELECT `+accountInfoCols+` FROM info WHERE id = 1`).Scan(
		&i.ID, &i.Account, &i.CreatedAt, &i.PutTimestamp, &i.DeleteTimestamp, &i.StatusChangedAt,
		&i.Status, &i.ContainerCount, &i.ObjectCount, &i.BytesUsed, &meta, &i.MaxRow)
	if err != nil {
		return i, fmt.Errorf("read account info: %w", err)
	}
	i.Metadata = parseMetadata(meta)
	return i, nil
}

// AccountRef names one account database replica.
type AccountRef struct {
	Device    string
	Partition int
	Account   string
}

type accountDB struct {
	d       *db.DB
	release func()
}

func (s *Store) openAccount(ref AccountRef, create bool, ts Timestamp) (*accountDB, error) {
	path := s.accountPath(ref.Device, ref.Partition, ref.Account)
	d, release, err := s.handle(path, create, KindAccount, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO info (id, db_id, account, created_at, put_timestamp,
			delete_timestamp, status_changed_at) VALUES (1, ?, ?, ?, ?, ?, ?)`,
			newDBID(), ref.Account, Now(), zeroTimestamp, zeroTimestamp, ts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &accountDB{d: d, release: release}, nil
}

// PutAccount creates the account or refreshes its put timestamp and
// metadata; created reports a new account (201, else 202). A recently
// deleted account is ErrDeleted (Swift's 403 "Recently deleted").
func (s *Store) PutAccount(ctx context.Context, ref AccountRef, ts Timestamp, meta Metadata) (created bool, err error) {
	a, err := s.openAccount(ref, true, ts)
	if err != nil {
		return false, err
	}
	defer a.release()
	err = a.d.Tx(ctx, func(tx *sql.Tx) error {
		info, err := readAccountInfo(ctx, tx)
		if err != nil {
			return err
		}
		if info.Status == "DELETED" {
			return ErrDeleted
		}
		created = info.PutTimestamp == zeroTimestamp || info.Deleted()
		status := info.StatusChangedAt
		if created {
			status = ts
		}
		info.Metadata.merge(meta)
		_, err = tx.ExecContext(ctx, `UPDATE info SET put_timestamp = ?, status_changed_at = ?, metadata = ? WHERE id = 1`,
			maxTS(info.PutTimestamp, ts), status, info.Metadata.encode())
		return err
	})
	return created, err
}

// AccountInfo returns a live account's stat; a deleted or never-created
// one comes back with ErrNotFound (and its stat, for the status header).
func (s *Store) AccountInfo(ctx context.Context, ref AccountRef) (AccountInfo, error) {
	a, err := s.openAccount(ref, false, "")
	if err != nil {
		return AccountInfo{}, err
	}
	defer a.release()
	info, err := readAccountInfo(ctx, a.d.R)
	if err != nil {
		return info, err
	}
	if info.Deleted() || info.PutTimestamp == zeroTimestamp {
		return info, ErrNotFound
	}
	return info, nil
}

// PostAccount merges metadata into a live account.
func (s *Store) PostAccount(ctx context.Context, ref AccountRef, meta Metadata) error {
	a, err := s.openAccount(ref, false, "")
	if err != nil {
		return err
	}
	defer a.release()
	return a.d.Tx(ctx, func(tx *sql.Tx) error {
		info, err := readAccountInfo(ctx, tx)
		if err != nil {
			return err
		}
		if info.Deleted() || info.PutTimestamp == zeroTimestamp {
			return ErrNotFound
		}
		if !info.Metadata.merge(meta) {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE info SET metadata = ? WHERE id = 1`, info.Metadata.encode())
		return err
	})
}

// DeleteAccount marks the account DELETED at ts (its containers are left
// for a reaper, as in Swift).
func (s *Store) DeleteAccount(ctx context.Context, ref AccountRef, ts Timestamp) error {
	a, err := s.openAccount(ref, false, "")
	if err != nil {
		return err
	}
	defer a.release()
	return a.d.Tx(ctx, func(tx *sql.Tx) error {
		info, err := readAccountInfo(ctx, tx)
		if err != nil {
			return err
		}
		if info.Deleted() || info.PutTimestamp == zeroTimestamp {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE info SET delete_timestamp = ?, status_changed_at = ?, status = 'DELETED' WHERE id = 1`,
			maxTS(info.DeleteTimestamp, ts), ts)
		return err
	})
}

// PutContainerRecord records a container's report in a live account.
// autoCreate creates the account first (Swift's auto_create_account_prefix
// accounts, or an operator choice).
func (s *Store) PutContainerRecord(ctx context.Context, ref AccountRef, rec ContainerRecord, autoCreate bool) error {
	if autoCreate {
		if _, err := s.PutAccount(ctx, ref, rec.PutTimestamp, nil); err != nil && !errors.Is(err, ErrDeleted) {
			return err
		}
	}
	a, err := s.openAccount(ref, false, "")
	if err != nil {
		return err
	}
	defer a.release()
	return a.d.Tx(ctx, func(tx *sql.Tx) error {
		info, err := readAccountInfo(ctx, tx)
		if err != nil {
			return err
		}
		if info.Deleted() || info.PutTimestamp == zeroTimestamp {
			return ErrNotFound
		}
		_, err = mergeContainers(ctx, tx, []ContainerRecord{rec})
		return err
	})
}

// mergeContainers folds container reports into the account: timestamps
// take the maximum of both sides, counters come from the later report.
func mergeContainers(ctx context.Context, tx *sql.Tx, recs []ContainerRecord) (int, error) {
	var dConts, dObjs, dBytes int64
	changed := 0
	for _, r := range recs {
		var old ContainerRecord
		err := tx.QueryRowContext(ctx, `SELECT put_timestamp, delete_timestamp, object_count, bytes_used,
			report_timestamp, storage_policy_index, deleted FROM container WHERE name = ?`, r.Name).Scan(
			&old.PutTimestamp, &old.DeleteTimestamp, &old.ObjectCount, &old.BytesUsed,
			&old.ReportTimestamp, &old.PolicyIndex, &old.Deleted)
		exists := true
		switch {
		case errors.Is(err, sql.ErrNoRows):
			exists = false
		case err != nil:
			return changed, err
		}
		n := r
		if exists {
			n.PutTimestamp = maxTS(old.PutTimestamp, r.PutTimestamp)
			n.DeleteTimestamp = maxTS(old.DeleteTimestamp, r.DeleteTimestamp)
			if !r.newerReportThan(old) {
				n.ObjectCount, n.BytesUsed, n.ReportTimestamp, n.PolicyIndex = old.ObjectCount, old.BytesUsed, old.ReportTimestamp, old.PolicyIndex
			}
			if n.PutTimestamp == old.PutTimestamp && n.DeleteTimestamp == old.DeleteTimestamp &&
				n.ReportTimestamp == old.ReportTimestamp {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM container WHERE name = ?`, r.Name); err != nil {
				return changed, err
			}
			if !old.Deleted {
				dConts--
				dObjs -= old.ObjectCount
				dBytes -= old.BytesUsed
			}
		}
		n.Deleted = n.deletedState()
		if _, err := tx.ExecContext(ctx, `INSERT INTO container (name, put_timestamp, delete_timestamp, object_count,
			bytes_used, report_timestamp, storage_policy_index, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n.Name, n.PutTimestamp, n.DeleteTimestamp, n.ObjectCount, n.BytesUsed, n.ReportTimestamp, n.PolicyIndex, n.Deleted); err != nil {
			return changed, err
		}
		if !n.Deleted {
			dConts++
			dObjs += n.ObjectCount
			dBytes += n.BytesUsed
		}
		changed++
	}
	if changed > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE info SET container_count = container_count + ?,
			object_count = object_count + ?, bytes_used = bytes_used + ? WHERE id = 1`, dConts, dObjs, dBytes); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// ListContainers lists a live account's containers as Swift does.
func (s *Store) ListContainers(ctx context.Context, ref AccountRef, p ListParams) (AccountInfo, []Entry[ContainerRecord], error) {
	a, err := s.openAccount(ref, false, "")
	if err != nil {
		return AccountInfo{}, nil, err
	}
	defer a.release()
	info, err := readAccountInfo(ctx, a.d.R)
	if err != nil {
		return info, nil, err
	}
	if info.Deleted() || info.PutTimestamp == zeroTimestamp {
		return info, nil, ErrNotFound
	}
	q := func(ctx context.Context, b bounds, prefix string, reverse bool, limit int, yield func(ContainerRecord) bool) error {
		where, args := rangeSQL(b, prefix)
		order := "ASC"
		if reverse {
			order = "DESC"
		}
		rows, err := a.d.R.QueryContext(ctx, `SELECT name, put_timestamp, delete_timestamp, object_count, bytes_used
			FROM container WHERE deleted = 0`+where+` ORDER BY name `+order+` LIMIT ?`, append(args, limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r ContainerRecord
			if err := rows.Scan(&r.Name, &r.PutTimestamp, &r.DeleteTimestamp, &r.ObjectCount, &r.BytesUsed); err != nil {
				return err
			}
			if !yield(r) {
				return nil
			}
		}
		return rows.Err()
	}
	entries, err := walkListing(ctx, p, info.ContainerCount, func(r ContainerRecord) string { return r.Name }, q)
	return info, entries, err
}
