-- Instances, as Nova's cell database keeps them: soft-deleted rows
-- (deleted = 1, deleted_at) stay for admins' deleted=True listings and for
-- os-simple-tenant-usage. The flavor the instance was built with is copied
-- (flavor JSON), as Nova embeds it, so later flavor changes don't matter.
CREATE TABLE instances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- instance-%08x name, sort ties
    uuid TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_description TEXT,
    hostname TEXT NOT NULL DEFAULT '',
    host TEXT,                              -- compute host, NULL until scheduled
    node TEXT,
    availability_zone TEXT,
    reservation_id TEXT NOT NULL DEFAULT '',
    launch_index INTEGER NOT NULL DEFAULT 0,
    flavor_id TEXT NOT NULL,                -- the API flavor id
    flavor TEXT NOT NULL,                   -- JSON copy of the flavor (with extra specs)
    memory_mb INTEGER NOT NULL,
    vcpus INTEGER NOT NULL,
    root_gb INTEGER NOT NULL,
    ephemeral_gb INTEGER NOT NULL DEFAULT 0,
    image_ref TEXT NOT NULL DEFAULT '',
    key_name TEXT,
    key_data TEXT,
    user_data TEXT,                         -- base64, as given
    config_drive TEXT NOT NULL DEFAULT '',
    vm_state TEXT NOT NULL,
    task_state TEXT,
    power_state INTEGER NOT NULL DEFAULT 0,
    access_ip_v4 TEXT,
    access_ip_v6 TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,                         -- 'owner' or 'admin'
    locked_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    launched_at TEXT,
    terminated_at TEXT,
    deleted_at TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX instances_project ON instances (project_id, deleted);
CREATE INDEX instances_host ON instances (host, deleted);
