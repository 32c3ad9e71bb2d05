-- Placement schema: resource providers, their inventories, consumers and
-- allocations, named as in OpenStack Placement. Usages are not stored: they
-- are the sums of allocations. Generations count changes, as Placement's
-- resource provider and consumer generations do. Consumers live in
-- placement_consumers: kumo's services share one database, and identity
-- already has an OAuth "consumers" table.
CREATE TABLE resource_providers (
    uuid       TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE inventories (
    provider_uuid    TEXT NOT NULL REFERENCES resource_providers (uuid) ON DELETE CASCADE,
    resource_class   TEXT NOT NULL,
    total            BIGINT NOT NULL,
    reserved         BIGINT NOT NULL,
    min_unit         BIGINT NOT NULL,
    max_unit         BIGINT NOT NULL,
    step_size        BIGINT NOT NULL,
    allocation_ratio DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (provider_uuid, resource_class)
);
CREATE TABLE placement_consumers (
    uuid       TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    generation BIGINT NOT NULL
);
CREATE INDEX placement_consumers_project ON placement_consumers (project_id, user_id);
CREATE TABLE allocations (
    consumer_uuid  TEXT NOT NULL REFERENCES placement_consumers (uuid) ON DELETE CASCADE,
    provider_uuid  TEXT NOT NULL REFERENCES resource_providers (uuid),
    resource_class TEXT NOT NULL,
    used           BIGINT NOT NULL,
    PRIMARY KEY (consumer_uuid, provider_uuid, resource_class)
);
CREATE INDEX allocations_provider ON allocations (provider_uuid, resource_class);
