package containerserver

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchStore is a Store with one container, outside the test harness so
// benchmarks control their own timers.
func benchStore(b testing.TB) (*Store, ContainerRef) {
	b.Helper()
	root := b.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "sda"), 0o755); err != nil {
		b.Fatal(err)
	}
	s := NewStore(root, testHash, 16)
	b.Cleanup(s.Close)
	ref := ContainerRef{Device: "sda", Partition: 0, Account: "AUTH_bench", Container: "c"}
	if _, err := s.PutContainer(context.Background(), ref, "0000000001.00000", 0, nil, ""); err != nil {
		b.Fatal(err)
	}
	return s, ref
}

// bulkLoad inserts n object rows in one transaction.
func bulkLoad(b testing.TB, s *Store, ref ContainerRef, n int) {
	b.Helper()
	recs := make([]ObjectRecord, n)
	for i := range recs {
		recs[i] = ObjectRecord{Name: fmt.Sprintf("dir%02d/object-%06d", i%50, i), CreatedAt: "0000000002.00000",
			Size: int64(i), ContentType: "application/octet-stream", ETag: "d41d8cd98f00b204e9800998ecf8427e"}
	}
	c, err := s.openContainer(ref, false, "", 0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.release()
	if err := c.d.Tx(context.Background(), func(tx *sql.Tx) error {
		_, err := mergeObjects(context.Background(), tx, nil, recs)
		return err
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkObjectRowInsert is the durable (WAL, synchronous=FULL) insert
// rate of object rows, one transaction per update as the object servers
// send them.
func BenchmarkObjectRowInsert(b *testing.B) {
	s, ref := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := ObjectRecord{Name: fmt.Sprintf("obj-%09d", i), CreatedAt: TimestampFromTime(time.Unix(10, int64(i)*10000)),
			Size: 1, ContentType: "a/b", ETag: "e"}
		if err := s.PutObjectRecord(ctx, ref, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkObjectRowInsertHTTP is the same through the container server.
func BenchmarkObjectRowInsertHTTP(b *testing.B) {
	s, _ := benchStore(b)
	srv := newBenchServer(b, s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("PUT", srv+"/sda/0/AUTH_bench/c/obj-"+fmt.Sprint(i), nil)
		req.Header.Set("X-Timestamp", string(TimestampFromTime(time.Unix(10, int64(i)*10000))))
		req.Header.Set("X-Size", "1")
		req.Header.Set("X-Content-Type", "a/b")
		req.Header.Set("X-Etag", "e")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			b.Fatal(resp.Status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func newBenchServer(b testing.TB, s *Store) string {
	srv := &http.Server{Handler: NewContainerServer(s, nil, quietLog())}
	ln := listenLoopback(b)
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func getBody(b testing.TB, u string) []byte {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("GET %s: %v %s", u, err, resp.Status)
	}
	return body
}

// BenchmarkListing10k: a full JSON listing of a 10,000-object container
// over HTTP, with the ratio to a bare SQLite scan of the same rows, and
// the p99 latency of walking it in limit=1000 pages.
func BenchmarkListing10k(b *testing.B) {
	s, ref := benchStore(b)
	bulkLoad(b, s, ref, 10000)
	srv := newBenchServer(b, s)
	base := srv + "/sda/0/AUTH_bench/c?format=json"

	// Reference: the raw indexed scan, no HTTP, no JSON, in the same
	// process. Medians of interleaved runs keep the ratio steady on a
	// loaded machine.
	c, err := s.openContainer(ref, false, "", 0)
	if err != nil {
		b.Fatal(err)
	}
	defer c.release()
	rawScan := func() {
		rows, err := c.d.R.Query(`SELECT name, created_at, size, content_type, etag FROM object WHERE deleted = 0 ORDER BY name LIMIT 10000`)
		if err != nil {
			b.Fatal(err)
		}
		k := 0
		for rows.Next() {
			var r ObjectRecord
			if err := rows.Scan(&r.Name, &r.CreatedAt, &r.Size, &r.ContentType, &r.ETag); err != nil {
				b.Fatal(err)
			}
			k++
		}
		rows.Close()
		if k != 10000 {
			b.Fatalf("raw scan saw %d rows", k)
		}
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if body := getBody(b, base); len(body) < 10000*100 {
			b.Fatalf("short listing: %d bytes", len(body))
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/full-listing")

	var raws, fulls []time.Duration
	for k := 0; k < 11; k++ {
		t0 := time.Now()
		rawScan()
		raws = append(raws, time.Since(t0))
		t0 = time.Now()
		getBody(b, base)
		fulls = append(fulls, time.Since(t0))
	}
	slices.Sort(raws)
	slices.Sort(fulls)
	b.ReportMetric(float64(fulls[5])/float64(raws[5]), "x-raw-scan")

	// Pages of 1000 by marker, 10 pages per walk, several walks.
	var lat []time.Duration
	for walk := 0; walk < 5; walk++ {
		marker := ""
		for page := 0; page < 10; page++ {
			t0 := time.Now()
			body := getBody(b, base+"&limit=1000&marker="+url.QueryEscape(marker))
			lat = append(lat, time.Since(t0))
			i := strings.LastIndex(string(body), `"name":"`)
			rest := string(body[i+len(`"name":"`):])
			marker = rest[:strings.IndexByte(rest, '"')]
		}
		if marker != "dir49/object-009999" {
			b.Fatalf("paging ended at %q", marker)
		}
	}
	slices.Sort(lat)
	p99 := lat[(len(lat)*99+99)/100-1]
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99/page-1000")
}

// BenchmarkListingDelimiter10k: a delimiter listing of 10,000 objects in
// 50 pseudo-folders costs one row per folder, not one per object.
func BenchmarkListingDelimiter10k(b *testing.B) {
	s, ref := benchStore(b)
	bulkLoad(b, s, ref, 10000)
	srv := newBenchServer(b, s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if body := getBody(b, srv+"/sda/0/AUTH_bench/c?delimiter=/"); strings.Count(string(body), "\n") != 50 {
			b.Fatalf("delimiter listing: %q", body)
		}
	}
}

// BenchmarkObjectRowInsertParallel: 16 object servers updating one
// container at once, each update durable before it is acknowledged.
func BenchmarkObjectRowInsertParallel(b *testing.B) {
	s, ref := benchStore(b)
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			rec := ObjectRecord{Name: fmt.Sprintf("obj-%09d", i), CreatedAt: TimestampFromTime(time.Unix(10, i*10000)),
				Size: 1, ContentType: "a/b", ETag: "e"}
			if err := s.PutObjectRecord(ctx, ref, rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
