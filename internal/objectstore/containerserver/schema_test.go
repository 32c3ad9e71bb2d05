package containerserver

import (
	"context"
	"strings"
	"testing"

	"kumo/internal/platform/db"
)

// A container database made by an older kumo (schema 1: the listing index
// on deleted and name only, no content-type timestamps) is brought up to
// date when opened: its listing then reads the index alone, and a POST's
// content type can be recorded.
func TestSchemaUpgradeFromVersion1(t *testing.T) {
	s, ref := benchStore(t)
	bulkLoad(t, s, ref, 100)
	path := s.containerPath(ref.Device, ref.Partition, ref.Account, ref.Container)
	s.Close()

	old, err := db.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.W.Exec(`DROP INDEX object_listing; CREATE INDEX object_deleted_name ON object (deleted, name);
		ALTER TABLE object DROP COLUMN ctype_timestamp; PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s = NewStore(s.Root(), testHash, 16)
	defer s.Close()
	_, entries, err := s.ListObjects(context.Background(), ref, ListParams{Prefix: "dir01/"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("listing after the upgrade: %d entries, %v", len(entries), err)
	}
	c, err := s.openContainer(ref, false, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	var version int
	if err := c.d.R.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Fatalf("user_version %d (%v), want %d", version, err, schemaVersion)
	}
	var indexes []string
	rows, err := c.d.R.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'object' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		indexes = append(indexes, n)
	}
	rows.Close()
	if strings.Join(indexes, ",") != "object_listing" {
		t.Fatalf("object indexes after the upgrade: %v", indexes)
	}
	var plan strings.Builder
	rows, err = c.d.R.Query(`EXPLAIN QUERY PLAN SELECT name, created_at, size, content_type, etag FROM object
		WHERE deleted = 0 AND name > ? ORDER BY name LIMIT 10000`, "")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, notused int
		var detail string
		rows.Scan(&id, &parent, &notused, &detail)
		plan.WriteString(detail + "\n")
	}
	rows.Close()
	if !strings.Contains(plan.String(), "USING COVERING INDEX object_listing") {
		t.Fatalf("the listing query's plan: %s", plan.String())
	}
	rec := ObjectRecord{Name: "dir01/object-000001", CreatedAt: "0000000002.00000", Size: 1, ContentType: "text/new",
		ETag: "d41d8cd98f00b204e9800998ecf8427e", CTypeTimestamp: "0000000003.00000"}
	if err := s.PutObjectRecord(context.Background(), ref, rec); err != nil {
		t.Fatal(err)
	}
	if _, entries, err := s.ListObjects(context.Background(), ref, ListParams{Prefix: "dir01/object-000001"}); err != nil ||
		len(entries) != 1 || entries[0].Item.ContentType != "text/new" {
		t.Fatalf("a POST's content type after the upgrade: %+v, %v", entries, err)
	}
}
