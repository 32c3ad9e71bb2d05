-- Identity (Keystone v3) schema. Portable SQL: TEXT, INTEGER (0/1 booleans),
-- BIGINT unix microseconds for times, JSON documents in TEXT.
-- Domains are rows of projects with is_domain = 1 and domain_id = '' (as in
-- Keystone, a domain is also a project, so ids share one namespace).
CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    domain_id   TEXT NOT NULL,
    parent_id   TEXT,
    is_domain   INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    extra       TEXT NOT NULL DEFAULT '{}',
    options     TEXT NOT NULL DEFAULT '{}',
    UNIQUE (domain_id, name)
);
CREATE INDEX projects_parent ON projects (parent_id);
CREATE TABLE project_tags (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);
CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    domain_id          TEXT NOT NULL,
    name               TEXT NOT NULL,
    enabled            INTEGER NOT NULL DEFAULT 1,
    default_project_id TEXT,
    extra              TEXT NOT NULL DEFAULT '{}',
    options            TEXT NOT NULL DEFAULT '{}',
    created_at         BIGINT NOT NULL,
    last_active_at     BIGINT,
    failed_auth_count  INTEGER NOT NULL DEFAULT 0,
    failed_auth_at     BIGINT,
    UNIQUE (domain_id, name)
);
-- Password history: the newest row (highest id) is the current password.
CREATE TABLE passwords (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    self_service  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX passwords_user ON passwords (user_id, id);
CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    domain_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    extra       TEXT NOT NULL DEFAULT '{}',
    UNIQUE (domain_id, name)
);
CREATE TABLE user_groups (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group ON user_groups (group_id);
-- domain_id is '' for global roles.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    domain_id   TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    options     TEXT NOT NULL DEFAULT '{}',
    extra       TEXT NOT NULL DEFAULT '{}',
    UNIQUE (domain_id, name)
);
CREATE TABLE implied_roles (
    prior_role_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    implied_role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (prior_role_id, implied_role_id)
);
-- type: UserProject, GroupProject, UserDomain, GroupDomain, UserSystem,
-- GroupSystem. target_id is 'all' for system assignments.
CREATE TABLE assignments (
    type      TEXT NOT NULL,
    actor_id  TEXT NOT NULL,
    target_id TEXT NOT NULL,
    role_id   TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    inherited INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (type, actor_id, target_id, role_id, inherited)
);
CREATE INDEX assignments_actor ON assignments (actor_id);
CREATE INDEX assignments_target ON assignments (target_id);
CREATE INDEX assignments_role ON assignments (role_id);
CREATE TABLE regions (
    id               TEXT PRIMARY KEY,
    description      TEXT NOT NULL DEFAULT '',
    parent_region_id TEXT,
    extra            TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE services (
    id      TEXT PRIMARY KEY,
    type    TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    extra   TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE endpoints (
    id         TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    interface  TEXT NOT NULL,
    url        TEXT NOT NULL,
    region_id  TEXT,
    enabled    INTEGER NOT NULL DEFAULT 1,
    extra      TEXT NOT NULL DEFAULT '{}'
);
-- blob is encrypted with the credential keys; key_hash names the key.
CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    project_id TEXT,
    type       TEXT NOT NULL,
    blob       TEXT NOT NULL,
    key_hash   TEXT NOT NULL DEFAULT '',
    extra      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX credentials_user ON credentials (user_id);
CREATE TABLE application_credentials (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL,
    project_id   TEXT,
    system       TEXT,
    expires_at   BIGINT,
    unrestricted INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (user_id, name)
);
CREATE TABLE application_credential_roles (
    application_credential_id TEXT NOT NULL REFERENCES application_credentials (id) ON DELETE CASCADE,
    role_id                   TEXT NOT NULL,
    PRIMARY KEY (application_credential_id, role_id)
);
CREATE TABLE access_rules (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    service     TEXT NOT NULL,
    path        TEXT NOT NULL,
    method      TEXT NOT NULL,
    UNIQUE (user_id, service, path, method)
);
CREATE TABLE application_credential_access_rules (
    application_credential_id TEXT NOT NULL REFERENCES application_credentials (id) ON DELETE CASCADE,
    access_rule_id            TEXT NOT NULL REFERENCES access_rules (id),
    PRIMARY KEY (application_credential_id, access_rule_id)
);
CREATE TABLE trusts (
    id                  TEXT PRIMARY KEY,
    trustor_user_id     TEXT NOT NULL,
    trustee_user_id     TEXT NOT NULL,
    project_id          TEXT,
    impersonation       INTEGER NOT NULL DEFAULT 0,
    expires_at          BIGINT,
    remaining_uses      INTEGER,
    redelegated_trust_id TEXT,
    redelegation_count  INTEGER,
    deleted_at          BIGINT,
    extra               TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE trust_roles (
    trust_id TEXT NOT NULL REFERENCES trusts (id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL,
    PRIMARY KEY (trust_id, role_id)
);
CREATE TABLE consumers (
    id          TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL,
    extra       TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE request_tokens (
    id                TEXT PRIMARY KEY,
    secret            TEXT NOT NULL,
    consumer_id       TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    requested_project_id TEXT NOT NULL,
    role_ids          TEXT,
    authorizing_user_id TEXT,
    verifier          TEXT,
    expires_at        BIGINT
);
CREATE TABLE access_tokens (
    id                TEXT PRIMARY KEY,
    secret            TEXT NOT NULL,
    consumer_id       TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    authorizing_user_id TEXT NOT NULL,
    project_id        TEXT NOT NULL,
    role_ids          TEXT NOT NULL,
    expires_at        BIGINT
);
CREATE TABLE endpoint_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    filters     TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE project_endpoint_groups (
    endpoint_group_id TEXT NOT NULL REFERENCES endpoint_groups (id) ON DELETE CASCADE,
    project_id        TEXT NOT NULL,
    PRIMARY KEY (endpoint_group_id, project_id)
);
CREATE TABLE project_endpoints (
    endpoint_id TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, project_id)
);
CREATE TABLE registered_limits (
    id            TEXT PRIMARY KEY,
    service_id    TEXT NOT NULL,
    region_id     TEXT,
    resource_name TEXT NOT NULL,
    default_limit INTEGER NOT NULL,
    description   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE limits (
    id             TEXT PRIMARY KEY,
    project_id     TEXT,
    domain_id      TEXT,
    service_id     TEXT NOT NULL,
    region_id      TEXT,
    resource_name  TEXT NOT NULL,
    resource_limit INTEGER NOT NULL,
    description    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE policies (
    id    TEXT PRIMARY KEY,
    type  TEXT NOT NULL,
    blob  TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE policy_associations (
    id          TEXT PRIMARY KEY,
    policy_id   TEXT NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    endpoint_id TEXT,
    service_id  TEXT,
    region_id   TEXT
);
CREATE TABLE domain_configs (
    domain_id   TEXT NOT NULL,
    grp         TEXT NOT NULL,
    option_name TEXT NOT NULL,
    value       TEXT NOT NULL,
    sensitive   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (domain_id, grp, option_name)
);
-- Revocation events, as Keystone's: a token matching every non-null field
-- and issued at or before issued_before is revoked. Kept in memory too.
CREATE TABLE revocation_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id      TEXT,
    project_id     TEXT,
    user_id        TEXT,
    role_id        TEXT,
    trust_id       TEXT,
    consumer_id    TEXT,
    access_token_id TEXT,
    audit_id       TEXT,
    audit_chain_id TEXT,
    issued_before  BIGINT NOT NULL,
    expires_at     BIGINT,
    revoked_at     BIGINT NOT NULL
);
