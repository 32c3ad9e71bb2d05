-- Server groups (Nova's instance_groups, instance_group_policy and
-- instance_group_member in the API database). One policy per group, as
-- Nova since 2.64 stores it; rules is a JSON object ({"max_server_per_host": 2}).
CREATE TABLE server_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    policy TEXT NOT NULL,
    rules TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX server_groups_project ON server_groups (project_id, id);

-- An instance is in at most one group.
CREATE TABLE server_group_members (
    group_id INTEGER NOT NULL,
    instance_uuid TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (group_id, instance_uuid)
);
