-- Nova's instance_system_metadata: what compute keeps about an instance
-- beside its row, out of the user's metadata (shelved_image_id,
-- shelved_at, shelved_host while it is shelved). Its rows go with the
-- instance: the trigger drops them when the instance is marked deleted.
CREATE TABLE instance_system_metadata (
    instance_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (instance_uuid, key)
);

CREATE TRIGGER instance_system_metadata_deleted AFTER UPDATE OF deleted ON instances
WHEN NEW.deleted <> 0 AND OLD.deleted = 0
BEGIN DELETE FROM instance_system_metadata WHERE instance_uuid = NEW.uuid; END;
