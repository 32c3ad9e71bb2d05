package cloud

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kumo/internal/platform/config"
)

// A policy override file with a syntax error stops start-up with the file,
// the line and the rule, before any port is bound.
func TestBadPolicyFileIsAStartupError(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte("\"identity:get_user\": \"role:admin\"\n\"identity:list_users\": \"role:admin or (\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.PortOffset = 31000
	cfg.AdminPassword = "pw"
	cfg.Identity.PolicyFile = pol
	_, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		t.Fatal("start-up succeeded with a broken policy file")
	}
	for _, want := range []string{"policy.yaml:2", "identity:list_users"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// Migrate applies every service's migrations once: a second run applies none.
func TestMigrateAppliesEveryServiceOnce(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	first, err := Migrate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	services := map[string]bool{}
	for _, name := range first {
		services[strings.SplitN(name, "/", 2)[0]] = true
	}
	for _, svc := range []string{"identity", "image", "compute", "placement"} {
		if !services[svc] {
			t.Fatalf("applied %v: no %s migrations", first, svc)
		}
	}
	again, err := Migrate(context.Background(), cfg)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v (%v)", again, err)
	}
}
