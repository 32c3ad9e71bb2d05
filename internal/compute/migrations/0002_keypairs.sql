-- Key pairs belong to a user (not a project), as Nova's key_pairs.
CREATE TABLE key_pairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'ssh',
    created_at TEXT NOT NULL,
    UNIQUE (user_id, name)
);
