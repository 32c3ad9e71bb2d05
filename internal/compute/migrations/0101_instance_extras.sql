-- What the servers API keeps beside the instances row (0100): the
-- flavors of a resize in flight, the requested security groups and disk
-- config, metadata, tags, faults, instance actions and their events, and
-- migration records (a resize's second placement consumer).
ALTER TABLE instances ADD COLUMN old_flavor TEXT;
ALTER TABLE instances ADD COLUMN new_flavor TEXT;
ALTER TABLE instances ADD COLUMN security_groups TEXT NOT NULL DEFAULT '[]';
ALTER TABLE instances ADD COLUMN disk_config TEXT NOT NULL DEFAULT 'MANUAL';

CREATE TABLE instance_metadata (
    instance_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (instance_uuid, key)
);

CREATE TABLE instance_tags (
    instance_uuid TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (instance_uuid, tag)
);

CREATE TABLE instance_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_uuid TEXT NOT NULL,
    code INTEGER NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX instance_faults_uuid ON instance_faults (instance_uuid);

CREATE TABLE instance_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_uuid TEXT NOT NULL,
    request_id TEXT NOT NULL,
    action TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    start_time TEXT NOT NULL,
    finish_time TEXT,
    message TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (instance_uuid, request_id)
);

CREATE TABLE instance_actions_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    start_time TEXT NOT NULL,
    finish_time TEXT,
    result TEXT,
    traceback TEXT,
    host TEXT,
    details TEXT
);
CREATE INDEX instance_actions_events_action ON instance_actions_events (action_id);

CREATE TABLE instance_migrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    instance_uuid TEXT NOT NULL,
    source_compute TEXT,
    dest_compute TEXT,
    old_flavor_id TEXT NOT NULL,
    new_flavor_id TEXT NOT NULL,
    migration_type TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX instance_migrations_instance ON instance_migrations (instance_uuid);
