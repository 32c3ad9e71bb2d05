package containerserver

import "testing"

func TestParseTimestamp(t *testing.T) {
	cases := []struct {
		in, want string
		iso      string
	}{
		{"1", "0000000001.00000", "1970-01-01T00:00:01.000000"},
		{"1413924466.185402", "1413924466.18540", "2014-10-21T20:47:46.185400"},
		{"1413924466.185405", "1413924466.18541", "2014-10-21T20:47:46.185410"},
		{"1413924466.999996", "1413924467.00000", "2014-10-21T20:47:47.000000"},
		{"0000000002.50000", "0000000002.50000", "1970-01-01T00:00:02.500000"},
		{"1413924466.18540_0000000000000001", "1413924466.18540_0000000000000001", "2014-10-21T20:47:46.185400"},
		{"1413924466.18540_0000000000000000", "1413924466.18540", "2014-10-21T20:47:46.185400"},
	}
	for _, c := range cases {
		got, err := ParseTimestamp(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("ParseTimestamp(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		if got.ISO() != c.iso {
			t.Errorf("ISO(%q) = %q, want %q", c.in, got.ISO(), c.iso)
		}
	}
	for _, bad := range []string{"", "abc", "-1", "1e5", "inf", "NaN", "12345678901", "1_zz", "0x10"} {
		if got, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) = %q, want error", bad, got)
		}
	}
	// Fixed width makes string order time order, offsets after the base.
	a, _ := ParseTimestamp("9.5")
	b, _ := ParseTimestamp("10")
	c, _ := ParseTimestamp("10_1")
	if !(a < b && b < c) {
		t.Errorf("order: %q %q %q", a, b, c)
	}
}
