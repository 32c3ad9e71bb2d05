package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compute.shelved_offload_time: Nova's default 0, -1 and seconds read from
// the file, anything below -1 refused.
func TestShelvedOffloadTime(t *testing.T) {
	f := filepath.Join(t.TempDir(), "kumo.yaml")
	for _, tc := range []struct {
		yaml string
		want int
	}{{"compute:\n  accel: tcg\n", 0}, {"compute:\n  shelved_offload_time: -1\n", -1}, {"compute:\n  shelved_offload_time: 3600\n", 3600}} {
		if err := os.WriteFile(f, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if c.Compute.ShelvedOffloadTime != tc.want {
			t.Fatalf("%q: shelved_offload_time %d, want %d", tc.yaml, c.Compute.ShelvedOffloadTime, tc.want)
		}
	}
	os.WriteFile(f, []byte("compute:\n  shelved_offload_time: -2\n"), 0o600)
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "shelved_offload_time") {
		t.Fatalf("-2 accepted: %v", err)
	}
}
