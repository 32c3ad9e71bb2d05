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

// Every KUMO_* variable overrides the file, and compute choices are checked.
func TestEnvironmentOverridesFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "kumo.yaml")
	os.WriteFile(f, []byte("data_dir: /from/file\nlog_level: warn\ncompute:\n  accel: kvm\n  weigher: pack\n"), 0o600)
	env := map[string]string{"KUMO_DATA_DIR": "/from/env", "KUMO_LISTEN": "::1", "KUMO_ADMIN_PASSWORD": "pw",
		"KUMO_PUBLIC_HOST": "cloud.example", "KUMO_LOG_LEVEL": "debug", "KUMO_COMPUTE_ACCEL": "tcg", "KUMO_COMPUTE_DRIVER": "simulated"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/env" || c.Listen != "::1" || c.PublicHost != "cloud.example" || c.AdminPassword != "pw" || c.LogLevel != "debug" ||
		c.Compute.Accel != "tcg" || c.Compute.Driver != "simulated" || c.Compute.Weigher != "pack" || c.Compute.RAMAllocationRatio != 1.5 {
		t.Fatalf("unexpected config: %+v", c)
	}
	t.Setenv("KUMO_COMPUTE_ACCEL", "xen")
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "compute.accel") {
		t.Fatalf("accel xen accepted: %v", err)
	}
}

// The object store's cluster keys: defaults keep the all-in-one node, the
// file and KUMO_OBJECT_STORE_* change them, and bad values are refused.
func TestObjectStoreClusterKeys(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !c.ObjectStore.Node || c.SwiftDirPath() != filepath.Join(c.DataDir, "objectstore") ||
		c.DevicesRootPath() != filepath.Join(c.DataDir, "objectstore", "devices") ||
		c.ObjectStore.ReplicationInterval.Duration != 30*time.Second || c.ObjectStore.AuditInterval.Duration != 30*time.Minute {
		t.Fatalf("defaults: %+v", c.ObjectStore)
	}
	f := filepath.Join(t.TempDir(), "kumo.yaml")
	os.WriteFile(f, []byte("object_store:\n  node: false\n  swift_dir: /etc/kumo-swift\n  audit_interval: 2s\n  fallocate_reserve: 1000\n"), 0o600)
	t.Setenv("KUMO_OBJECT_STORE_REPLICATION_INTERVAL", "500ms")
	t.Setenv("KUMO_OBJECT_STORE_DEVICES_ROOT", "/srv/node")
	if c, err = Load(f); err != nil {
		t.Fatal(err)
	}
	if c.ObjectStore.Node || c.SwiftDirPath() != "/etc/kumo-swift" || c.DevicesRootPath() != "/srv/node" ||
		c.ObjectStore.AuditInterval.Duration != 2*time.Second || c.ObjectStore.ReplicationInterval.Duration != 500*time.Millisecond ||
		c.ObjectStore.FallocateReserve != 1000 {
		t.Fatalf("overridden: %+v", c.ObjectStore)
	}
	t.Setenv("KUMO_OBJECT_STORE_NODE", "maybe")
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "KUMO_OBJECT_STORE_NODE") {
		t.Fatalf("bad KUMO_OBJECT_STORE_NODE: %v", err)
	}
	t.Setenv("KUMO_OBJECT_STORE_NODE", "true")
	t.Setenv("KUMO_OBJECT_STORE_REPLICATION_INTERVAL", "0s")
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "replication_interval") {
		t.Fatalf("zero replication interval: %v", err)
	}
}

// The advertised host is public_host, else the listen address unless that
// is every address.
func TestHost(t *testing.T) {
	for _, tc := range []struct{ listen, public, want string }{
		{"127.0.0.1", "", "127.0.0.1"},
		{"10.1.2.3", "", "10.1.2.3"},
		{"0.0.0.0", "", "127.0.0.1"},
		{"::", "", "127.0.0.1"},
		{"0.0.0.0", "cloud.example", "cloud.example"},
		{"127.0.0.1", "10.1.2.3", "10.1.2.3"},
	} {
		if got := (Config{Listen: tc.listen, PublicHost: tc.public}).Host(); got != tc.want {
			t.Errorf("listen %q public %q: host %q, want %q", tc.listen, tc.public, got, tc.want)
		}
	}
}
