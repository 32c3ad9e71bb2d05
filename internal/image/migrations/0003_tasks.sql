-- Glance tasks (image import creates one of type api_image_import).
-- input and result are JSON documents; times are BIGINT microseconds.
CREATE TABLE tasks (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    status     TEXT NOT NULL,
    owner      TEXT NOT NULL DEFAULT '',
    image_id   TEXT,
    request_id TEXT,
    user_id    TEXT,
    input      TEXT NOT NULL DEFAULT '{}',
    result     TEXT,
    message    TEXT NOT NULL DEFAULT '',
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_image ON tasks (image_id);
CREATE INDEX tasks_list ON tasks (deleted, created_at, id);
CREATE INDEX tasks_status ON tasks (status);
