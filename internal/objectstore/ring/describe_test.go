package ring

import (
	"strings"
	"testing"
)

// Expected lines were produced by swift-ring-builder's own format strings
// (swift/cli/ringbuilder.py) run in Python on the same values.
func TestDescribeMatchesSwiftRingBuilder(t *testing.T) {
	clock := newClock()
	b := buildRing(t, 8, 3, 1, clock, []layoutDev{{1, 1, 1, 100}, {1, 2, 1, 100}, {1, 3, 1, 100}})
	out := b.Describe("object.builder")
	lines := strings.Split(out, "\n")
	want := []string{
		"object.builder, build version 4",
		"256 partitions, 3.000000 replicas, 1 regions, 3 zones, 3 devices, 2-byte IDs, 0.00 balance, 0.00 dispersion",
		"The minimum number of hours before a partition can be reassigned is 1 (1:00:00 remaining)",
		"The overload factor is 0.00% (0.000000)",
		"Devices:   id region zone ip address:port replication ip:port  name weight partitions balance flags meta",
		"            0      1    1   10.1.1.1:6200       10.1.1.1:6200  sda0 100.00        256    0.00       ",
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("line %d:\n got %q\nwant %q\nfull output:\n%s", i, lines[min(i, len(lines)-1)], w, out)
		}
	}
	if len(lines) != len(want)+3 { // two more devices and the final newline
		t.Fatalf("got %d lines:\n%s", len(lines), out)
	}
	clock.advance(30)
	if !strings.Contains(b.Describe("x"), "is 1 (0:00:00 remaining)") {
		t.Fatal("remaining time does not count down")
	}
	if pyDuration(90061e9) != "1 day, 1:01:01" || pyDuration(2*86400e9) != "2 days, 0:00:00" {
		t.Fatal("timedelta formatting differs from Python")
	}
}
