-- Nova's services table: one row per (host, binary), with its heartbeat.
-- service_binary because BINARY is a keyword in PostgreSQL.
CREATE TABLE compute_services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- the API id before 2.53
    uuid TEXT NOT NULL UNIQUE,              -- the API id from 2.53
    host TEXT NOT NULL,
    service_binary TEXT NOT NULL,           -- nova-compute, nova-scheduler, nova-conductor
    zone TEXT NOT NULL DEFAULT '',          -- '' is the default zone for the binary
    disabled INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    forced_down INTEGER NOT NULL DEFAULT 0,
    report_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT,                        -- last heartbeat
    UNIQUE (host, service_binary)
);
