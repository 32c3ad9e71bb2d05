package qemu

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// kvmUnusableHere reports whether this host is known to make auto pick
// TCG: no /dev/kvm, or a PVM-backed one (see the feasibility notes).
func kvmUnusableHere() bool {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		return true
	}
	_, err := os.Stat("/sys/module/kvm_pvm")
	return err == nil
}

func TestAccelAuto(t *testing.T) {
	requireTools(t, "qemu-system-x86_64", "qemu-img")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	open := func(accel string) (*Driver, error) {
		return New(Config{StateDir: state, CacheDir: filepath.Join(dir, "cache"), Accel: accel,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	d, err := open("auto")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("auto chose %s", d.Accel())
	if kvmUnusableHere() && d.Accel() != "tcg" {
		t.Fatalf("auto chose %s on a host where KVM cannot run stock guests", d.Accel())
	}
	var v accelVerdict
	b, err := os.ReadFile(filepath.Join(state, "accel.json"))
	if err != nil || json.Unmarshal(b, &v) != nil {
		t.Fatalf("accel.json: %v %s", err, b)
	}
	if v.Kernel != kernelRelease() || v.KVM != (d.Accel() == "kvm") || v.Reason == "" {
		t.Fatalf("verdict %+v for accel %s", v, d.Accel())
	}

	// The cached verdict is used while the kernel is the same...
	write := func(v accelVerdict) {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(state, "accel.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(accelVerdict{Kernel: kernelRelease(), KVM: true, Reason: "cached"})
	if d, err := open("auto"); err != nil || d.Accel() != "kvm" {
		t.Fatalf("cached verdict ignored: %v", err)
	}
	// ...and a kernel change probes again.
	write(accelVerdict{Kernel: "some-other-kernel", KVM: true, Reason: "stale"})
	d, err = open("auto")
	if err != nil {
		t.Fatal(err)
	}
	if kvmUnusableHere() && d.Accel() != "tcg" {
		t.Fatalf("stale verdict for another kernel was used: %s", d.Accel())
	}
	b, _ = os.ReadFile(filepath.Join(state, "accel.json"))
	json.Unmarshal(b, &v)
	if v.Kernel != kernelRelease() {
		t.Fatalf("verdict not refreshed: %+v", v)
	}

	// Explicit choices are taken as given; nonsense is refused.
	if d, err := open("tcg"); err != nil || d.Accel() != "tcg" {
		t.Fatalf("accel tcg: %v", err)
	}
	if _, err := open("xen"); err == nil {
		t.Fatal("accel xen accepted")
	}
}

// The probe sees a vCPU that reaches long mode (TCG always does) and
// fails one that cannot (a 32-bit CPU model faults on EFER.LME).
func TestProbeGuest(t *testing.T) {
	requireTools(t, "qemu-system-x86_64")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{StateDir: t.TempDir(), QEMUBinary: "qemu-system-x86_64"}
	start := time.Now()
	if err := probeGuest(ctx, cfg, "tcg"); err != nil {
		t.Fatalf("probe of a TCG guest: %v", err)
	}
	t.Logf("TCG probe: %v", time.Since(start))
	// TCG reaches long mode in well under a second; 3 s is plenty.
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	err := probeGuest(short, cfg, "tcg", "-cpu", "qemu32")
	if err == nil {
		t.Fatal("the probe passed a CPU without long mode")
	}
	t.Logf("32-bit CPU probe: %v", err)
	if ents, _ := os.ReadDir(cfg.StateDir); len(ents) != 0 {
		t.Errorf("probe left %d files", len(ents))
	}
}
