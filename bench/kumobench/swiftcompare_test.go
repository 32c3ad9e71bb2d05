package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSwiftCompareRatiosAndGoals(t *testing.T) {
	dir := t.TempDir()
	kumo := filepath.Join(dir, "k.jsonl")
	swift := filepath.Join(dir, "s.jsonl")
	// Two kumo runs in one file: the second one is the default.
	os.WriteFile(kumo, []byte(`{"run":"old","workload":"swift.put_4KiB","concurrency":1,"ops_per_s":1}
{"run":"k1","workload":"machine","label":"start","loadavg":"1.00 2.00 3.00"}
{"run":"k1","workload":"swift.list_full_10000","concurrency":1,"ops":10,"ops_per_s":20,"p99_ms":60,"server_cpu_ms_per_op":40}
{"run":"k1","workload":"swift.put_64MiB","concurrency":1,"ops":10,"ops_per_s":5,"mb_per_s":335.5,"server_cpu_ms_per_op":300}
{"run":"k1","workload":"swift.get_4KiB","concurrency":8,"ops":10,"ops_per_s":5000,"p99_ms":3,"server_cpu_ms_per_op":0.2}
{"run":"k1","workload":"swift.put_4KiB","concurrency":1,"ops":10,"ops_per_s":400,"p99_ms":4,"server_cpu_ms_per_op":2}
`), 0o644)
	os.WriteFile(swift, []byte(`{"run":"s1","workload":"swift.put_4KiB","concurrency":1,"ops":10,"ops_per_s":80,"p99_ms":17,"server_cpu_ms_per_op":16}
{"run":"s1","workload":"swift.get_4KiB","concurrency":8,"ops":10,"ops_per_s":450,"server_cpu_ms_per_op":4}
{"run":"s1","workload":"swift.put_64MiB","concurrency":1,"ops":10,"ops_per_s":2.3,"mb_per_s":150,"server_cpu_ms_per_op":540}
{"run":"s1","workload":"swift.list_full_10000","concurrency":1,"ops":50,"ops_per_s":5,"server_cpu_ms_per_op":178}
{"run":"s2","workload":"swift.list_full_10000","concurrency":1,"ops":0,"errors":36,"ops_per_s":0}
`), 0o644)
	var b strings.Builder
	if code := swiftCompareCmd([]string{"-kumo", kumo, "-swift", swift, "-swift-run", "s1"}, &b); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out := b.String()
	for _, want := range []string{
		"kumo run k1, Swift run s1",
		"- k1 start: load average 1.00 2.00 3.00",
		"| swift.put_4KiB | 1 | 400.0 ops/s | 80.0 ops/s | 5.00 | >= 10x: not met | 4.0 | 17.0 | 2.00 | 16.00 | 8.00 |",
		"| swift.get_4KiB | 8 | 5000.0 ops/s | 450.0 ops/s | 11.1 | >= 10x: met |",
		"| swift.put_64MiB | 1 | 335.5 MB/s | 150.0 MB/s | 2.24 | >= 2x: met |",
		"| swift.list_full_10000 | 1 | 20.0 ops/s | 5.0 ops/s | 4.00 | >= 5x: not met |",
		"goals met: 2, not met: 2",
		"- not met: swift.put_4KiB c=1: 5.00x (goal 10x)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Rows: 4 KiB by concurrency, then 64 MiB, then the listing.
	if p, g, l := strings.Index(out, "| swift.put_4KiB | 1"), strings.Index(out, "| swift.get_4KiB | 8"), strings.Index(out, "| swift.list_full"); !(p < g && g < strings.Index(out, "| swift.put_64MiB") && strings.Index(out, "| swift.put_64MiB") < l) {
		t.Errorf("row order wrong:\n%s", out)
	}
	// A Swift step without a success is named, not rated.
	b.Reset()
	if code := swiftCompareCmd([]string{"-kumo", kumo, "-swift", swift, "-swift-run", "s2"}, &b); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := "| Swift step failed (36 errors) |"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
	// Two runs joined: the later one's listing replaces the failed one.
	b.Reset()
	if code := swiftCompareCmd([]string{"-kumo", kumo, "-swift", swift, "-swift-run", "s2,s1"}, &b); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := "| swift.list_full_10000 | 1 | 20.0 ops/s | 5.0 ops/s | 4.00 | >= 5x: not met |"; !strings.Contains(b.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, b.String())
	}
	if code := swiftCompareCmd([]string{"-kumo", kumo, "-kumo-run", "nope", "-swift", swift}, &b); code == 0 {
		t.Error("an unknown run id did not fail")
	}
}
