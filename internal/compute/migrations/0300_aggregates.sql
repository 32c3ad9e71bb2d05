-- Host aggregates (Nova's aggregates, aggregate_hosts, aggregate_metadata
-- in the API database). Deleted aggregates are removed, not soft-deleted.
-- An aggregate's availability zone is its "availability_zone" metadata.
CREATE TABLE aggregates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE aggregate_hosts (
    aggregate_id INTEGER NOT NULL,
    host TEXT NOT NULL,
    PRIMARY KEY (aggregate_id, host)
);
CREATE INDEX aggregate_hosts_host ON aggregate_hosts (host);

CREATE TABLE aggregate_metadata (
    aggregate_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (aggregate_id, key)
);
