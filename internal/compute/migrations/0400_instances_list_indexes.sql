-- The servers list pages in SQL (servers_query.go): these indexes give
-- its default order (created_at, id, both descending) for one project and
-- for all projects (all_tenants), so a page reads its own rows only. The
-- created_at expression is tsKey("created_at") of servers_query.go, written
-- exactly so (SQLite matches indexed expressions by their text): a fixed-
-- width form of the RFC 3339 time that sorts as the time does.
CREATE INDEX instances_list_project ON instances (project_id, deleted, (substr(created_at, 1, 19) || CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(substr(created_at, 21, length(created_at) - 21) || '000000000', 1, 9) ELSE '000000000' END), id);
CREATE INDEX instances_list_all ON instances (deleted, (substr(created_at, 1, 19) || CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(substr(created_at, 21, length(created_at) - 21) || '000000000', 1, 9) ELSE '000000000' END), id);
