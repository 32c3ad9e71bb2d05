package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAdminCommands runs the operator commands on a data directory:
// db-migrate (idempotent), fernet-rotate (honouring the config's
// max_active_keys), and bootstrap, whose new admin password survives the
// next kumo up.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, err := runKumo(t, time.Minute, "admin", "db-migrate", "--data-dir", data)
	if err != nil || !strings.Contains(out, "applied identity/") || !strings.Contains(out, "applied image/") {
		t.Fatalf("first db-migrate: %v\n%s", err, out)
	}
	if out, err = runKumo(t, time.Minute, "admin", "db-migrate", "--data-dir", data); err != nil || strings.Contains(out, "applied") {
		t.Fatalf("second db-migrate applied something: %v\n%s", err, out)
	}

	conf := filepath.Join(dir, "kumo.yaml")
	if err := os.WriteFile(conf, []byte("identity:\n  max_active_keys: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if out, err := runKumo(t, time.Minute, "admin", "fernet-rotate", "--data-dir", data, "--config", conf); err != nil {
			t.Fatalf("fernet-rotate: %v\n%s", err, out)
		}
	}
	keys, err := os.ReadDir(filepath.Join(data, "fernet-keys"))
	if err != nil || len(keys) != 4 {
		t.Fatalf("after 5 rotations with max_active_keys 4: %d keys (%v)", len(keys), err)
	}

	if out, err := runKumo(t, time.Minute, "admin", "bootstrap", "--data-dir", data, "--admin-password", "first-pw"); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out)
	}
	if out, err := runKumo(t, time.Minute, "admin", "bootstrap", "--data-dir", data, "--admin-password", "second-pw"); err != nil {
		t.Fatalf("bootstrap again: %v\n%s", err, out)
	}
	// kumo up without --admin-password uses the password bootstrap set.
	k := startKumo(t, data, freeOffset(t))
	rc := k.openrc()
	if rc["OS_PASSWORD"] != "second-pw" {
		t.Fatalf("openrc password %q after bootstrap set second-pw", rc["OS_PASSWORD"])
	}
	issueToken(t, rc)
}
