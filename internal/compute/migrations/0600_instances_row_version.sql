-- A version of everything the servers list shows of an instance: its row,
-- metadata, tags and faults. Triggers bump it on every write to any of
-- them, whatever code path writes, so the list (servers_list_cache.go)
-- may keep decoded rows keyed by (id, row_version) and never serve one a
-- write has changed since.
ALTER TABLE instances ADD COLUMN row_version INTEGER NOT NULL DEFAULT 0;

-- Any UPDATE of the row that did not set row_version itself bumps it
-- (the trigger's own UPDATE sets it, so it stops there). The migration
-- runner ends a statement at a line ending in ';': bodies are one line.
CREATE TRIGGER instances_row_version AFTER UPDATE ON instances
WHEN NEW.row_version = OLD.row_version
BEGIN UPDATE instances SET row_version = OLD.row_version + 1 WHERE id = NEW.id; END;

CREATE TRIGGER instance_metadata_ins_version AFTER INSERT ON instance_metadata
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = NEW.instance_uuid; END;
CREATE TRIGGER instance_metadata_upd_version AFTER UPDATE ON instance_metadata
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = NEW.instance_uuid; UPDATE instances SET row_version = row_version + 1 WHERE uuid = OLD.instance_uuid AND OLD.instance_uuid <> NEW.instance_uuid; END;
CREATE TRIGGER instance_metadata_del_version AFTER DELETE ON instance_metadata
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = OLD.instance_uuid; END;

CREATE TRIGGER instance_tags_ins_version AFTER INSERT ON instance_tags
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = NEW.instance_uuid; END;
CREATE TRIGGER instance_tags_upd_version AFTER UPDATE ON instance_tags
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = NEW.instance_uuid; UPDATE instances SET row_version = row_version + 1 WHERE uuid = OLD.instance_uuid AND OLD.instance_uuid <> NEW.instance_uuid; END;
CREATE TRIGGER instance_tags_del_version AFTER DELETE ON instance_tags
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = OLD.instance_uuid; END;

CREATE TRIGGER instance_faults_ins_version AFTER INSERT ON instance_faults
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = NEW.instance_uuid; END;
CREATE TRIGGER instance_faults_upd_version AFTER UPDATE ON instance_faults
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = NEW.instance_uuid; UPDATE instances SET row_version = row_version + 1 WHERE uuid = OLD.instance_uuid AND OLD.instance_uuid <> NEW.instance_uuid; END;
CREATE TRIGGER instance_faults_del_version AFTER DELETE ON instance_faults
BEGIN UPDATE instances SET row_version = row_version + 1 WHERE uuid = OLD.instance_uuid; END;

-- The project list index of 0400 with row_version: a project's page of
-- (id, row_version) reads the index alone, not each row (1,000 entries:
-- about 0.5 ms of CPU less). Each write then rewrites the row's entry
-- (about 0.05 ms more); the all-projects index stays as it was, for
-- admins' lists are the rarer ones.
DROP INDEX instances_list_project;
CREATE INDEX instances_list_project ON instances (project_id, deleted, (substr(created_at, 1, 19) || CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(substr(created_at, 21, length(created_at) - 21) || '000000000', 1, 9) ELSE '000000000' END), id, row_version);
