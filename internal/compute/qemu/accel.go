package qemu

import (
	"context"
	"encoding/json"
	"fmt"
	"kumo/internal/compute/qemu/qmp"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// accelVerdict is StateDir/accel.json: the outcome of the KVM probe, kept
// until the host kernel changes.
type accelVerdict struct {
	Kernel string `json:"kernel"` // uname -r when probed
	KVM    bool   `json:"kvm"`
	Reason string `json:"reason"`
}

// chooseAccel settles the accelerator. "/dev/kvm exists" is not enough:
// on a PVM-backed host (/sys/module/kvm_pvm) stock guest kernels hang
// under KVM, so auto picks KVM only when /dev/kvm is not PVM's and a probe
// guest really ran under it. (The probe alone does not catch PVM: there
// SeaBIOS and the probe's long mode, even at a kernel's high-half address,
// work; measured 5-8 s to reach it.)
func chooseAccel(ctx context.Context, cfg Config, log *slog.Logger) (string, error) {
	switch cfg.Accel {
	case "kvm", "tcg":
		return cfg.Accel, nil
	case "auto":
	default:
		return "", fmt.Errorf("qemu: accel must be auto, kvm or tcg, not %q", cfg.Accel)
	}
	kernel := kernelRelease()
	file := filepath.Join(cfg.StateDir, "accel.json")
	var v accelVerdict
	if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &v) == nil && v.Kernel == kernel {
		return verdictAccel(v, log), nil
	}
	v = accelVerdict{Kernel: kernel}
	v.KVM, v.Reason = probeKVM(ctx, cfg)
	if b, err := json.Marshal(v); err == nil {
		if err := writeFileAtomic(file, b); err != nil {
			log.Warn("cannot cache accelerator verdict", "err", err)
		}
	}
	return verdictAccel(v, log), nil
}

func verdictAccel(v accelVerdict, log *slog.Logger) string {
	if v.KVM {
		log.Info("guests run under KVM")
		return "kvm"
	}
	log.Warn("KVM unusable, guests run under TCG (slow)", "reason", v.Reason)
	return "tcg"
}

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

// probeKVM reports whether guests can run under KVM here, and why not.
func probeKVM(ctx context.Context, cfg Config) (bool, string) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false, "cannot open /dev/kvm: " + err.Error()
	}
	f.Close()
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		return false, "/dev/kvm is backed by PVM, which runs only PVM guest kernels"
	}
	if err := probeGuest(ctx, cfg, "kvm"); err != nil {
		return false, "probe guest failed under KVM: " + err.Error()
	}
	return true, "probe guest ran under KVM"
}

// probeGuest boots the probe boot sector under accel and checks over QMP
// that (for kvm) KVM is enabled and that the vCPU reached long mode: RAX
// holds probeMagic. TCG gets there in well under a second. extra are more
// QEMU arguments (tests).
func probeGuest(ctx context.Context, cfg Config, accel string, extra ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp(cfg.StateDir, "kvm-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	disk := filepath.Join(dir, "probe.img")
	if err := os.WriteFile(disk, probeBootSector(), 0o600); err != nil {
		return err
	}
	// SeaBIOS does not boot a virtio disk of a single sector.
	if err := os.Truncate(disk, 1<<20); err != nil {
		return err
	}
	args := append([]string{"-machine", "pc", "-accel", accel,
		"-m", "32", "-nodefaults", "-no-user-config", "-display", "none",
		"-blockdev", `{"driver":"file","filename":"probe.img","node-name":"f","read-only":true}`,
		"-blockdev", `{"driver":"raw","file":"f","node-name":"d","read-only":true}`,
		"-device", "virtio-blk-pci,drive=d,bootindex=0",
		"-qmp", "unix:qmp.sock,server=on,wait=off"}, extra...)
	cmd := exec.CommandContext(ctx, cfg.QEMUBinary, args...)
	cmd.Dir = dir // relative paths: a socket path is never too long
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var m *qmp.Monitor
	for m == nil {
		if ctx.Err() != nil {
			return fmt.Errorf("no QMP: %v (stderr: %s)", err, strings.TrimSpace(stderr.String()))
		}
		time.Sleep(100 * time.Millisecond)
		m, err = dialQMP(ctx, filepath.Join(dir, "qmp.sock"))
	}
	defer m.Close()
	if accel == "kvm" {
		k, err := m.QueryKVM(ctx)
		if err != nil {
			return err
		}
		if !k.Enabled {
			return fmt.Errorf("query-kvm says KVM is not enabled")
		}
	}
	regs := ""
	for ctx.Err() == nil {
		if regs, err = m.HumanCommand(ctx, "info registers"); err != nil {
			return err
		}
		if strings.Contains(regs, "RAX="+probeMagic) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	ip := regexp.MustCompile(`\b[RE]IP=[0-9a-f]+`).FindString(regs)
	return fmt.Errorf("the probe guest did not reach long mode in time (stuck at %s)", ip)
}
