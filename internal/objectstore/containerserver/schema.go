package containerserver

import (
	"context"
	"database/sql"
	"fmt"

	"kumo/internal/platform/db"
)

// Each database carries its own schema; user_version marks it applied
// (upgradeSchema brings older ones up to date). Names compare with SQLite's
// BINARY collation (memcmp of the UTF-8 bytes), which is Swift's listing
// order. AUTOINCREMENT keeps row ids strictly increasing even
// when a row is replaced, so a replication sync point ("all rows up to N")
// never misses a replaced row. The listing index holds every column a
// listing shows, so a listing reads the index alone: without them, each of
// a full listing's 10,000 rows cost a seek into the table.
const containerSchema = `
CREATE TABLE IF NOT EXISTS object (
	row INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	content_type TEXT NOT NULL DEFAULT '',
	etag TEXT NOT NULL DEFAULT '',
	deleted INTEGER NOT NULL DEFAULT 0,
	ctype_timestamp TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS object_listing ON object (deleted, name, created_at, size, content_type, etag);
CREATE TABLE IF NOT EXISTS info (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	db_id TEXT NOT NULL,
	account TEXT NOT NULL,
	container TEXT NOT NULL,
	created_at TEXT NOT NULL,
	put_timestamp TEXT NOT NULL,
	delete_timestamp TEXT NOT NULL,
	status_changed_at TEXT NOT NULL,
	storage_policy_index INTEGER NOT NULL DEFAULT 0,
	object_count INTEGER NOT NULL DEFAULT 0,
	bytes_used INTEGER NOT NULL DEFAULT 0,
	reported_put_timestamp TEXT NOT NULL DEFAULT '0',
	reported_delete_timestamp TEXT NOT NULL DEFAULT '0',
	reported_object_count INTEGER NOT NULL DEFAULT -1,
	reported_bytes_used INTEGER NOT NULL DEFAULT -1,
	account_hosts TEXT NOT NULL DEFAULT '',
	metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS incoming_sync (
	remote_id TEXT PRIMARY KEY,
	sync_point INTEGER NOT NULL
);
PRAGMA user_version = 3;
`

const accountSchema = `
CREATE TABLE IF NOT EXISTS container (
	row INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	put_timestamp TEXT NOT NULL,
	delete_timestamp TEXT NOT NULL,
	object_count INTEGER NOT NULL DEFAULT 0,
	bytes_used INTEGER NOT NULL DEFAULT 0,
	report_timestamp TEXT NOT NULL,
	storage_policy_index INTEGER NOT NULL DEFAULT 0,
	deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS container_deleted_name ON container (deleted, name);
CREATE TABLE IF NOT EXISTS info (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	db_id TEXT NOT NULL,
	account TEXT NOT NULL,
	created_at TEXT NOT NULL,
	put_timestamp TEXT NOT NULL,
	delete_timestamp TEXT NOT NULL,
	status_changed_at TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT '',
	container_count INTEGER NOT NULL DEFAULT 0,
	object_count INTEGER NOT NULL DEFAULT 0,
	bytes_used INTEGER NOT NULL DEFAULT 0,
	metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS incoming_sync (
	remote_id TEXT PRIMARY KEY,
	sync_point INTEGER NOT NULL
);
PRAGMA user_version = 3;
`

// upgradeSchema brings a database an older kumo made to schemaVersion:
// version 2 made the object listing index cover the listing's columns,
// version 3 added the content-type timestamp of a POST.
func upgradeSchema(d *db.DB) error {
	var v int
	if err := d.W.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v >= schemaVersion {
		return nil
	}
	return d.Tx(context.Background(), func(tx *sql.Tx) error {
		var objects int
		if err := tx.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'object'`).Scan(&objects); err != nil {
			return err
		}
		if objects > 0 && v < 2 {
			if _, err := tx.Exec(`DROP INDEX IF EXISTS object_deleted_name;
				CREATE INDEX IF NOT EXISTS object_listing ON object (deleted, name, created_at, size, content_type, etag)`); err != nil {
				return err
			}
		}
		if objects > 0 && v < 3 {
			if _, err := tx.Exec(`ALTER TABLE object ADD COLUMN ctype_timestamp TEXT NOT NULL DEFAULT ''`); err != nil {
				return err
			}
		}
		_, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion))
		return err
	})
}

// schemaVersion is the user_version of the schemas above.
const schemaVersion = 3
