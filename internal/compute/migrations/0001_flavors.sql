-- Flavors, as Nova's API database: flavors, flavor_projects,
-- flavor_extra_specs. id is internal (markers and sort ties); flavorid is
-- the API id.
CREATE TABLE flavors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flavorid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    memory_mb INTEGER NOT NULL,
    vcpus INTEGER NOT NULL,
    root_gb INTEGER NOT NULL,
    ephemeral_gb INTEGER NOT NULL DEFAULT 0,
    swap INTEGER NOT NULL DEFAULT 0,
    rxtx_factor REAL NOT NULL DEFAULT 1.0,
    vcpu_weight INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    is_public INTEGER NOT NULL DEFAULT 1,
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE flavor_projects (
    flavor_id INTEGER NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    PRIMARY KEY (flavor_id, project_id)
);
CREATE TABLE flavor_extra_specs (
    flavor_id INTEGER NOT NULL REFERENCES flavors (id) ON DELETE CASCADE,
    spec_key TEXT NOT NULL,
    spec_value TEXT NOT NULL,
    PRIMARY KEY (flavor_id, spec_key)
);
