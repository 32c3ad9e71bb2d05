-- Metadata definitions (Glance's metadefs): namespaces and what they hold.
-- Objects and properties are JSON documents (their schema is Glance's).
CREATE TABLE metadef_namespaces (
    namespace    TEXT PRIMARY KEY,
    display_name TEXT,
    description  TEXT,
    visibility   TEXT NOT NULL,
    protected    INTEGER NOT NULL DEFAULT 0,
    owner        TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE TABLE metadef_objects (
    namespace  TEXT NOT NULL REFERENCES metadef_namespaces (namespace) ON DELETE CASCADE ON UPDATE CASCADE,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE TABLE metadef_properties (
    namespace  TEXT NOT NULL REFERENCES metadef_namespaces (namespace) ON DELETE CASCADE ON UPDATE CASCADE,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE TABLE metadef_tags (
    namespace  TEXT NOT NULL REFERENCES metadef_namespaces (namespace) ON DELETE CASCADE ON UPDATE CASCADE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE TABLE metadef_resource_types (
    name       TEXT PRIMARY KEY,
    protected  INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE metadef_namespace_resource_types (
    namespace         TEXT NOT NULL REFERENCES metadef_namespaces (namespace) ON DELETE CASCADE ON UPDATE CASCADE,
    resource_type     TEXT NOT NULL REFERENCES metadef_resource_types (name),
    prefix            TEXT,
    properties_target TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (namespace, resource_type)
);
-- The resource types Glance's shipped metadefs associate with.
INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES
    ('OS::Glance::Image', 1, 0, 0), ('OS::Cinder::Volume', 1, 0, 0), ('OS::Nova::Flavor', 1, 0, 0),
    ('OS::Nova::Aggregate', 1, 0, 0), ('OS::Nova::Server', 1, 0, 0), ('OS::Trove::Instance', 1, 0, 0);
