package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
BenchmarkSchedule1000Hosts-2   	    4042	   1660348 ns/op	       602.3 placements/s	       307.5 ref-commits/s
BenchmarkPlan1000Hosts 	 100	 5000 ns/op
PASS
ok  	kumo/internal/compute/scheduler	9.420s
`
	got, err := parseGoBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d lines, want 2: %v", len(got), got)
	}
	if got[0]["workload"] != "go.BenchmarkSchedule1000Hosts" || got[0]["placements/s"] != 602.3 ||
		got[0]["ns/op"] != 1660348.0 || got[0]["iterations"] != 4042 {
		t.Errorf("first line: %v", got[0])
	}
	if got[1]["workload"] != "go.BenchmarkPlan1000Hosts" || got[1]["ns/op"] != 5000.0 {
		t.Errorf("second line: %v", got[1])
	}
	if _, err := parseGoBench(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Error("a bad value was accepted")
	}
}

// TestOvercommitted: capacity is (total - reserved) x ratio per resource;
// a host exactly at capacity is fine, one unit over is not.
func TestOvercommitted(t *testing.T) {
	r := ratios{cpu: 16, ram: 1.5, disk: 1, reservedMemMB: 512}
	full := hypervisor{Name: "full", VCPUs: 4, VCPUsUsed: 64, MemMB: 1536, MemMBUsed: 1536, DiskGB: 10, DiskUsed: 10}
	cpu := full
	cpu.Name, cpu.VCPUsUsed = "cpu", 65
	mem := full
	mem.Name, mem.MemMBUsed = "mem", 1537
	disk := full
	disk.Name, disk.DiskUsed = "disk", 11
	n, msgs := overcommitted([]hypervisor{full, cpu, mem, disk}, r)
	if n != 3 || len(msgs) != 3 {
		t.Fatalf("got %d over capacity (%v), want 3", n, msgs)
	}
	for i, want := range []string{"cpu: [vcpus_used 65", "mem: [memory_mb_used 1537", "disk: [local_gb_used 11"} {
		if !strings.HasPrefix(msgs[i], want) {
			t.Errorf("message %d = %q, want prefix %q", i, msgs[i], want)
		}
	}
}

func TestMedianAndStatusCounts(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	if m := durMedian(ds); m != 3 {
		t.Errorf("median = %v, want 3", m)
	}
	if ds[0] != 5 {
		t.Error("median sorted its argument")
	}
	if m := durMedian([]time.Duration{4, 1, 3, 2}); m != 2 {
		t.Errorf("median of 4 = %v, want the lower middle 2", m)
	}
	rows := []serverRow{
		{Status: "ACTIVE", LaunchedAt: "2026-11-21T13:33:20.781976"},
		{Status: "ACTIVE", LaunchedAt: "2026-11-21T13:33:21.5"},
		{Status: "ERROR", Fault: &struct {
			Message string `json:"message"`
		}{"No valid host was found."}},
	}
	counts, last, fault := statusCounts(rows)
	if counts["ACTIVE"] != 2 || counts["ERROR"] != 1 || fault != "No valid host was found." {
		t.Errorf("counts %v fault %q", counts, fault)
	}
	if want := time.Date(2026, 11, 21, 13, 33, 21, 500000000, time.UTC); !last.Equal(want) {
		t.Errorf("last launch %v, want %v", last, want)
	}
}

func TestServerReq(t *testing.T) {
	one := serverReq("a", "img", "42", 1)["server"].(map[string]any)
	if _, ok := one["min_count"]; ok || one["networks"] != "none" {
		t.Errorf("single: %v", one)
	}
	many := serverReq("a", "img", "42", 100)["server"].(map[string]any)
	if many["min_count"] != 100 || many["max_count"] != 100 || many["return_reservation_id"] != true {
		t.Errorf("100: %v", many)
	}
}

func TestComputeTable(t *testing.T) {
	in := `{"run":"r1","workload":"compute.burst_100","median_ms":1519.4,"p50_ms":1519.4,"p99_ms":1685.9,"instances":100,"goal":"median < 2000 ms","goal_met":true,"loadavg":"1 2 3"}
{"run":"r0","workload":"compute.burst_100","median_ms":9}
{"run":"r1","workload":"go.BenchmarkSchedule1000Hosts","placements/s":602.3}
{"run":"r1","workload":"compute.schedule_throughput","per_s":25.9,"hosts":1000,"overcommitted_hosts":0,"goal_met":false}
`
	got, err := computeTable(strings.NewReader(in), "r1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| compute.burst_100 |  | median 1519 ms, 100 instances | 1519.4 | 1685.9 |  | median < 2000 ms | yes | 1 2 3 |",
		"| go.BenchmarkSchedule1000Hosts |  | 602 placements/s |", "| compute.schedule_throughput |  | 25.9/s, 1000 hosts, 0 over capacity |", "| **no** |"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "median 9 ms") {
		t.Errorf("table holds another run's line:\n%s", got)
	}
	if _, err := computeTable(strings.NewReader(in), "nope"); err == nil {
		t.Error("no error for a run without lines")
	}
}

// TestHostRoom: the room is the tightest of the three resources, never
// negative.
func TestHostRoom(t *testing.T) {
	r := ratios{cpu: 16, ram: 1.5, disk: 1, reservedMemMB: 512}
	h := hypervisor{VCPUs: 64, MemMB: 262144, DiskGB: 2000}
	if got := hostRoom(h, r, 196224, 1, 1); got != 2 {
		t.Errorf("empty host, half its RAM each: room %d, want 2", got)
	}
	h.MemMBUsed = 128
	if got := hostRoom(h, r, 196224, 1, 1); got != 1 {
		t.Errorf("one nano on it: room %d, want 1", got)
	}
	h.DiskUsed = 2000
	if got := hostRoom(h, r, 128, 1, 1); got != 0 {
		t.Errorf("full disk: room %d, want 0", got)
	}
	h.DiskUsed, h.VCPUsUsed = 0, 1030 // over (should not happen): still 0
	if got := hostRoom(h, r, 128, 1, 1); got != 0 {
		t.Errorf("over-committed vCPUs: room %d, want 0", got)
	}
}
