package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLayers(t *testing.T) {
	f := filepath.Join(t.TempDir(), "kumo.yaml")
	os.WriteFile(f, []byte("listen: 0.0.0.0\nport_offset: 100\nidentity:\n  token_expiration: 2h\n  security_compliance:\n    lockout_duration: 5\n"), 0o600)
	t.Setenv("KUMO_PORT_OFFSET", "200")
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0" || c.PortOffset != 200 || c.Identity.TokenExpiration.Duration != 2*time.Hour ||
		c.Identity.SecurityCompliance.LockoutDuration.Duration != 5*time.Second || c.Identity.BcryptCost != 12 {
		t.Fatalf("unexpected config: %+v", c)
	}
}

func TestLoadRejectsUnknownKeysAndBadDurations(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"lisen: x\n":                            "lisen",
		"identity:\n  token_expiration: soon\n": "not a duration",
	} {
		f := filepath.Join(dir, "c.yaml")
		os.WriteFile(f, []byte(body), 0o600)
		if _, err := Load(f); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want error containing %q, got %v", body, want, err)
		}
	}
}
