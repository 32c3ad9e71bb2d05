-- Compute nodes as the hypervisors API numbers them: the integer id
-- (before 2.53) is assigned the first time kumo sees a node and kept;
-- uuid is the node's placement resource provider, as in Nova.
CREATE TABLE compute_nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    hypervisor_hostname TEXT NOT NULL
);
