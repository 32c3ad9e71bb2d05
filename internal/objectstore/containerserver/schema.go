package containerserver

// Each database carries its own schema; user_version marks it applied. Names
// compare with SQLite's BINARY collation (memcmp of the UTF-8 bytes), which is
// Swift's listing order. AUTOINCREMENT keeps row ids strictly increasing even
// when a row is replaced, so a replication sync point ("all rows up to N")
// never misses a replaced row.
const containerSchema = `
CREATE TABLE IF NOT EXISTS object (
	row INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	content_type TEXT NOT NULL DEFAULT '',
	etag TEXT NOT NULL DEFAULT '',
	deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS object_deleted_name ON object (deleted, name);
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
PRAGMA user_version = 1;
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
PRAGMA user_version = 1;
`
