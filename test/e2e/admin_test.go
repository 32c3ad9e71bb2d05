package e2e

import (
	"fmt"
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

// TestAdminRing builds a ring as swift-ring-builder would: create, add
// three devices in three zones, rebalance (writing the .ring file), show;
// then a fourth device: within min_part_hours of the first placement no
// partition may move yet, as in Swift.
func TestAdminRing(t *testing.T) {
	dir := t.TempDir()
	b := filepath.Join(dir, "object.builder")
	run := func(args ...string) string {
		t.Helper()
		out, err := runKumo(t, time.Minute, append([]string{"admin", "ring", b}, args...)...)
		if err != nil {
			t.Fatalf("kumo admin ring %v: %v\n%s", args, err, out)
		}
		return out
	}
	run("create", "8", "3", "1")
	for z := 1; z <= 3; z++ {
		run("add", "r1z"+string(rune('0'+z))+"-127.0.0.1:620"+string(rune('0'+z))+"/sdb1", "100")
	}
	if out := run("rebalance"); !strings.Contains(out, "Reassigned 768 partition-replicas") {
		t.Fatalf("first rebalance: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "object.ring")); err != nil {
		t.Fatalf("no ring file: %v", err)
	}
	show := run()
	for _, want := range []string{"256 partitions, 3.000000 replicas, 1 regions, 3 zones, 3 devices", "0.00 balance, 0.00 dispersion"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}
	run("add", "r1z4-127.0.0.1:6204/sdb1", "100")
	out := run("rebalance")
	var moved int
	if _, err := fmt.Sscanf(out, "Reassigned %d partition-replicas", &moved); err != nil || moved != 0 {
		t.Fatalf("rebalance within min_part_hours moved %d: %s", moved, out)
	}
	if out, err := runKumo(t, time.Minute, "admin", "ring", b, "add", "nonsense", "1"); err == nil || !strings.Contains(out, "want r<region>z<zone>") {
		t.Fatalf("bad device accepted: %v\n%s", err, out)
	}
}
