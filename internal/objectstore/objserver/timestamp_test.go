package objserver

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	cases := []struct {
		in, internal string
		ok           bool
	}{
		{"1700000000.12345", "1700000000.12345", true},
		{"1700000000", "1700000000.00000", true},
		{"1700000000.1", "1700000000.10000", true},
		{"1700000000.123456", "1700000000.12346", true},
		{"1700000000.123454", "1700000000.12345", true},
		{"0000000001.00000", "0000000001.00000", true},
		{"1700000000.12345_000000000000000a", "1700000000.12345_000000000000000a", true},
		{"1700000000.12345_0000000000000000", "1700000000.12345", true},
		{"", "", false},
		{"abc", "", false},
		{"-1", "", false},
		{"1.2.3", "", false},
		{"17000000001.0", "", false},
		{"1700000000.5_zz", "", false},
	}
	for _, c := range cases {
		ts, err := ParseTimestamp(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseTimestamp(%q) err = %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && ts.Internal() != c.internal {
			t.Errorf("ParseTimestamp(%q) = %s, want %s", c.in, ts.Internal(), c.internal)
		}
	}
	a, _ := ParseTimestamp("1700000000.00001")
	b, _ := ParseTimestamp("1700000000.00001_0000000000000001")
	c, _ := ParseTimestamp("1700000000.00002")
	if a.Compare(b) >= 0 || b.Compare(c) >= 0 || c.Compare(a) <= 0 || a.Compare(a) != 0 {
		t.Fatal("timestamps do not order by time then offset")
	}
	if got := TimestampFromTime(time.Unix(1700000000, 123456789)).Normal(); got != "1700000000.12346" {
		t.Fatalf("TimestampFromTime = %s", got)
	}
	if got := a.Ceil().Unix(); got != 1700000001 {
		t.Fatalf("Ceil = %d, want 1700000001", got)
	}
}
