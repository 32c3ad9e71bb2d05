package compute

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"kumo/internal/compute/qemu"
	"kumo/internal/placement"
	"kumo/internal/platform/db"
)

// TestDriverHypervisorsFromQEMUAndPlacement feeds os-hypervisors from the
// real QEMU driver's host report (no guest is started), a real placement
// store with a claim on the host's provider, and the instances table.
func TestDriverHypervisorsFromQEMUAndPlacement(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatal("qemu-system-x86_64 is required:", err)
		}
		t.Skip("qemu-system-x86_64 not installed")
	}
	tc := newTestCloud(t)
	reg, _ := tc.withRegistry()
	ctx := context.Background()
	dir := t.TempDir()
	drv, err := qemu.New(qemu.Config{StateDir: filepath.Join(dir, "state"), CacheDir: filepath.Join(dir, "cache"), Accel: "tcg", Hostname: "c1.local"})
	if err != nil {
		t.Fatal(err)
	}
	pdb, err := db.OpenSQLite(filepath.Join(dir, "placement.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	pl, err := placement.Open(ctx, pdb)
	if err != nil {
		t.Fatal(err)
	}
	rp := newUUID()
	if err := pl.SetInventory(ctx, rp, "c1.local", map[string]placement.Inventory{
		"VCPU": {Total: 16}, "MEMORY_MB": {Total: 32768}, "DISK_GB": {Total: 500}}); err != nil {
		t.Fatal(err)
	}
	vm := newUUID()
	if err := pl.Claim(ctx, vm, tc.projA, "u", rp, map[string]int64{"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 10}); err != nil {
		t.Fatal(err)
	}
	tc.insertInstance(vm, tc.projA, "c1", 2, 1024, 10, false)
	reg.Hypervisors = tc.svc.DriverHypervisors([]DriverHost{{Host: "c1", ProviderUUID: rp, HostIP: "127.0.0.1", Driver: drv,
		Uptime: func(context.Context) (string, error) { return LocalUptime(reg.now()) }}}, pl.Usages)

	r := tc.must(200, "GET", "/v2.1/os-hypervisors/detail", tc.admin, nil, "mv", "2.53")
	hs := r.json["hypervisors"].([]any)
	if len(hs) != 1 {
		t.Fatalf("%s", r.raw)
	}
	h := hs[0].(map[string]any)
	if p := hypDetail253.check(h); p != "" {
		t.Fatal(p)
	}
	if h["id"] != rp || h["hypervisor_hostname"] != "c1.local" || h["hypervisor_type"] != "QEMU" || h["vcpus"] != float64(runtime.NumCPU()) ||
		h["vcpus_used"] != 2.0 || h["memory_mb_used"] != 1024.0 || h["local_gb_used"] != 10.0 || h["running_vms"] != 1.0 {
		t.Fatalf("detail %v", h)
	}
	if v := h["hypervisor_version"].(float64); v < 1000000 {
		t.Fatalf("hypervisor_version %v", v)
	}
	r = tc.must(200, "GET", "/v2.1/os-hypervisors/"+rp+"/uptime", tc.admin, nil, "mv", "2.53")
	if !strings.Contains(str(r.json, "hypervisor", "uptime"), " up ") {
		t.Fatalf("uptime %s", r.raw)
	}
}
