package containerserver

import (
	"context"
	"net"
	"strings"
	"testing"
)

func listenLoopback(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestListingUsesNameIndex: the listing query walks the (deleted, name,
// ...) index in order and reads nothing else: no table scan, no sort and no
// seek into the table, so a page costs its own rows whatever the
// container's size.
func TestListingUsesNameIndex(t *testing.T) {
	s, ref := benchStore(t)
	bulkLoad(t, s, ref, 2000)
	c, err := s.openContainer(ref, false, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	for _, reverse := range []bool{false, true} {
		where, args := rangeSQL(bounds{lower: "dir10/", upper: "dir20/"}, "dir1")
		order := "ASC"
		if reverse {
			order = "DESC"
		}
		rows, err := c.d.R.QueryContext(context.Background(), `EXPLAIN QUERY PLAN SELECT name, created_at, size, content_type, etag
			FROM object WHERE deleted = 0`+where+` ORDER BY name `+order+` LIMIT ?`, append(args, 1000)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING COVERING INDEX object_listing") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("reverse=%v plan %q", reverse, p)
		}
	}
	// And a 2,000-row listing through the walker returns every row in order.
	_, entries, err := s.ListObjects(context.Background(), ref, ListParams{Limit: ListingLimit})
	if err != nil || len(entries) != 2000 {
		t.Fatalf("listing: %d entries, %v", len(entries), err)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i-1].Name >= entries[i].Name {
			t.Fatalf("out of order at %d: %q %q", i, entries[i-1].Name, entries[i].Name)
		}
	}
}
