package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(d, tc.q); got != tc.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts("1, 8,32")
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 8 || got[2] != 32 {
		t.Errorf("parseInts(\"1, 8,32\") = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "x", "2000"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q): no error", bad)
		}
	}
}

func TestRatio(t *testing.T) {
	if got := ratio(10, 4, true, true); got != "2.50" {
		t.Errorf("ratio(10, 4) = %q", got)
	}
	if got := ratio(16, 1177, true, true); got != "1/74" {
		t.Errorf("ratio(16, 1177) = %q, want 1/74", got)
	}
	if got := ratio(1, 0, true, true); got != "-" {
		t.Errorf("ratio(1, 0) = %q, want -", got)
	}
	if got := ratio(1, 2, true, false); got != "-" {
		t.Errorf("ratio with a missing value = %q, want -", got)
	}
}
