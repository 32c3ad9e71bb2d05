package compute

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServerListPagesInSQL checks that a page decodes its own rows only,
// that the default order walks the list index (no sort of the project's
// rows), and that created_at orders by time although RFC3339Nano strings
// have 0 to 9 fraction digits ("…:00Z" is later than "…:00.05Z" as a
// string, earlier as a time).
func TestServerListPagesInSQL(t *testing.T) {
	tc := newTestCloud(t)
	base := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	const n = 300
	uuids := make([]string, n)
	for i := range n {
		uuids[i] = fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		tc.insertInstanceAt(uuids[i], tc.projA, "h1", 1, 64, 1, false, base.Add(time.Duration(i)*50*time.Millisecond))
	}
	tc.insertInstance("99999999-0000-4000-8000-000000000000", tc.projB, "h1", 1, 64, 1, false)

	decoded := 0
	listPageHook = func(d int) { decoded += d }
	defer func() { listPageHook = nil }()
	page := func(q string) []string {
		t.Helper()
		r := tc.must(200, "GET", "/v2.1/servers/detail?"+q, tc.alice, nil)
		var ids []string
		for _, s := range r.json["servers"].([]any) {
			ids = append(ids, s.(map[string]any)["id"].(string))
		}
		return ids
	}
	want := func(from, to int) string { // newest first: uuids[from] down to uuids[to]
		var w []string
		for i := from; i >= to; i-- {
			w = append(w, uuids[i])
		}
		return strings.Join(w, ",")
	}
	if got := strings.Join(page("limit=5"), ","); got != want(n-1, n-5) {
		t.Fatalf("page 1: %s, want %s", got, want(n-1, n-5))
	}
	if decoded != 5 {
		t.Fatalf("page 1 decoded %d rows, want 5", decoded)
	}
	// Page 2 through the marker, across whole-second times ("…:05Z").
	if got := strings.Join(page("limit=5&marker="+uuids[n-21]), ","); got != want(n-22, n-26) {
		t.Fatalf("page after marker: %s, want %s", got, want(n-22, n-26))
	}
	// Mixed directions over a NULL column (terminated_at), then the ties'
	// created_at desc: the marker still pages.
	if got := strings.Join(page("limit=2&sort_key=terminated_at&sort_dir=asc&marker="+uuids[n-2]), ","); got != want(n-3, n-4) {
		t.Fatalf("terminated_at page after marker: %s, want %s", got, want(n-3, n-4))
	}
	// Ascending with a name regex: only the page is decoded.
	decoded = 0
	if got := strings.Join(page("limit=3&sort_key=created_at&sort_dir=asc&name=vm-0000002"), ","); got != strings.Join(uuids[20:23], ",") {
		t.Fatalf("asc by name: %s, want %s", got, strings.Join(uuids[20:23], ","))
	}
	if decoded != 3 {
		t.Fatalf("name page decoded %d rows, want 3", decoded)
	}

	q := newListQuery(&serverFilter{project: tc.projA, deleted: new(bool)}, []sortSpec{{"created_at", true}, {"id", true}})
	for _, all := range []bool{false, true} {
		if all {
			q = newListQuery(&serverFilter{deleted: new(bool)}, []sortSpec{{"created_at", true}, {"id", true}})
		}
		q.after([]any{"x", 1}) // a marker: the plan seeks to it
		rows, err := tc.db.R.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q.sql("id")+" LIMIT 5", q.args...)
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
		if !strings.Contains(p, "INDEX instances_list_") || !strings.Contains(p, "<?") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("all_tenants=%v: plan %q does not seek in the list index", all, p)
		}
	}
}

// TestTsKeyOrdersAsTime checks tsKey (SQL) against tsKeyOf (Go) and the
// times' order for every fraction width.
func TestTsKeyOrdersAsTime(t *testing.T) {
	tc := newTestCloud(t)
	base := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	times := []time.Time{base, base.Add(1), base.Add(10), base.Add(120 * time.Microsecond), base.Add(500 * time.Millisecond),
		base.Add(time.Second - 1), base.Add(time.Second)}
	prev := ""
	for _, tm := range times {
		var k string
		if err := tc.db.R.QueryRow(`WITH v(ts) AS (SELECT ?) SELECT `+tsKey("ts")+` FROM v`, tm.Format(time.RFC3339Nano)).Scan(&k); err != nil {
			t.Fatal(err)
		}
		if k != tsKeyOf(tm) {
			t.Errorf("%s: SQL key %q, Go key %q", tm.Format(time.RFC3339Nano), k, tsKeyOf(tm))
		}
		if k <= prev {
			t.Errorf("%s: key %q not after %q", tm.Format(time.RFC3339Nano), k, prev)
		}
		prev = k
	}
}

// BenchmarkServerList is GET /servers and /servers/detail pages over a
// project of 5,000 servers: the cost should follow the page, not the
// project.
func BenchmarkServerList(b *testing.B) {
	tc := newTestCloud(b)
	base := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	for i := range 5000 {
		tc.insertInstanceAt(fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), tc.projA, "h1", 1, 64, 1, false,
			base.Add(time.Duration(i)*time.Millisecond))
	}
	for _, path := range []string{"/servers?limit=100", "/servers/detail?limit=100", "/servers", "/servers/detail"} {
		b.Run(path, func(b *testing.B) {
			req, _ := http.NewRequest("GET", tc.srv.URL+"/v2.1"+path, nil)
			req.Header.Set("X-Auth-Token", tc.alice)
			for b.Loop() {
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatal(res.Status)
				}
			}
		})
	}
}
