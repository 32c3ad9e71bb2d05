package main

import (
	"strings"
	"testing"
)

// The comparison reads both runs from one file and puts each ratio the
// way round where > 1 means kumo ahead.
func TestImageCompareTable(t *testing.T) {
	in := strings.Join([]string{
		`{"run":"k","workload":"image.upload_1GiB","mb_per_s":600}`,
		`{"run":"g","workload":"image.upload_1GiB","mb_per_s":200}`,
		`{"run":"k","workload":"image.list_first_page_10000","p50_ms":2,"p99_ms":10,"ops_per_s":1000}`,
		`{"run":"g","workload":"image.list_first_page_10000","p50_ms":50,"p99_ms":200,"ops_per_s":100}`,
		`{"run":"k","workload":"image.reference_upload_1GiB","mb_per_s":1}`,
		`{"run":"k","workload":"image.cat_1GiB","mb_per_s":9}`,
		`{"run":"g","workload":"image.cat_1GiB","mb_per_s":9}`,
		`{"run":"g","workload":"image.reference_upload_1GiB","mb_per_s":1}`,
		`{"run":"other","workload":"image.upload_1GiB","mb_per_s":1}`,
		`not json`,
	}, "\n")
	a, b, err := readImageRuns(strings.NewReader(in), "k", "g")
	if err != nil {
		t.Fatal(err)
	}
	out := imageCompareTable(a, b, "k", "g")
	for _, want := range []string{
		"| image.upload_1GiB | MB/s (best) | 600 | 200 | 3.00× |",
		"| image.list_first_page_10000 | p50 ms | 2.00 | 50.00 | 25.00× |",
		"| image.list_first_page_10000 | p99 ms | 10.00 | 200.00 | 20.00× |",
		"| image.list_first_page_10000 | ops/s | 1000 | 100 | 10.00× |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "reference") || strings.Contains(out, "cat_") {
		t.Errorf("machine measures (cat, references) are not compared:\n%s", out)
	}
	if _, _, err := readImageRuns(strings.NewReader(in), "k", "missing"); err == nil {
		t.Error("a missing run is not an error")
	}
}

func TestLoopbackURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9393":     "http://127.0.0.1:9393",
		"http://127.0.0.1:9393/v2/": "http://127.0.0.1:9393",
		"http://localhost:9292/v2":  "http://localhost:9292",
		"http://[::1]:9292/":        "http://[::1]:9292",
	} {
		if got, err := loopbackURL(in); err != nil || got != want {
			t.Errorf("loopbackURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:9292", "http://example.com/v2"} {
		if _, err := loopbackURL(bad); err == nil {
			t.Errorf("loopbackURL(%q): no error", bad)
		}
	}
}
