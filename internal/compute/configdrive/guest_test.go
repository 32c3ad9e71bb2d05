package configdrive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// guestInit mounts the drive through the kernel's isofs twice, Rock
// Ridge first, then Joliet (norock), and prints what it reads.
const guestInit = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys
for m in $(cat /mods); do insmod /m/$m; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
echo "FINDFS $(findfs LABEL=config-2)"
mkdir -p /mnt
for opt in ro ro,norock; do
  if mount -t iso9660 -o $opt /dev/vda /mnt; then
    cd /mnt
    find . -type f | while IFS= read -r f; do echo "SUM $opt $(sha256sum "$f")"; done
    cd /; umount /mnt
  else echo "MOUNTFAIL $opt"; fi
done
echo GUEST-DONE
poweroff -f
`

// TestISOLinuxGuest boots Debian's cloud kernel under QEMU (TCG) with the
// image as a virtio disk and checks the kernel reads every file by its
// real name with the right bytes. This host's kernel has no isofs, so
// the guest is the only Linux reader. The kernel package comes from
// KUMO_GUEST_KERNEL_DEB or the guest build's cache (build/guest/cache).
func TestISOLinuxGuest(t *testing.T) {
	needTool(t, "qemu-system-x86_64", "busybox", "dpkg-deb", "depmod", "modprobe")
	deb := os.Getenv("KUMO_GUEST_KERNEL_DEB")
	if deb == "" {
		m, _ := filepath.Glob("../../../build/guest/cache/linux-image-*-cloud-amd64_*.deb")
		if len(m) > 0 {
			deb = m[len(m)-1]
		}
	}
	if deb == "" {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatal("no guest kernel: set KUMO_GUEST_KERNEL_DEB or build the test guest first")
		}
		t.Skip("no guest kernel package")
	}
	dir := t.TempDir()
	kroot := filepath.Join(dir, "kroot")
	run(t, "dpkg-deb", "-x", deb, kroot)
	kvs, _ := filepath.Glob(filepath.Join(kroot, "lib/modules/*"))
	if len(kvs) != 1 {
		t.Fatalf("kernel package has %d module trees", len(kvs))
	}
	kv := filepath.Base(kvs[0])
	run(t, "depmod", "-b", kroot, kv)
	var mods []string
	seen := map[string]bool{}
	for _, m := range []string{"virtio_pci", "virtio_blk", "isofs", "nls_utf8"} {
		for _, l := range strings.Split(string(run(t, "modprobe", "-d", kroot, "-S", kv, "--show-depends", m)), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "insmod" && !seen[f[1]] {
				seen[f[1]] = true
				mods = append(mods, f[1])
			}
		}
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	var cp cpioWriter
	cp.file(t, "init", 0o755, []byte(guestInit))
	cp.dir("bin")
	cp.dir("dev")
	cp.dir("proc")
	cp.dir("sys")
	cp.dir("m")
	cp.fileFrom(t, "bin/busybox", 0o755, bb)
	var names []string
	for _, m := range mods {
		cp.fileFrom(t, "m/"+filepath.Base(m), 0o644, m)
		names = append(names, filepath.Base(m))
	}
	cp.file(t, "mods", 0o644, []byte(strings.Join(names, "\n")+"\n"))
	initrd := filepath.Join(dir, "initrd")
	if err := os.WriteFile(initrd, cp.close(), 0o644); err != nil {
		t.Fatal(err)
	}

	// One image holds a whole drive and, under x/, the awkward sample names.
	all, err := Files(sampleMetadata())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sampleFiles() {
		all = append(all, File{Path: "x/" + f.Path, Data: f.Data})
	}
	img, err := BuildISO(all, VolumeID, stamp)
	if err != nil {
		t.Fatal(err)
	}
	iso := writeImage(t, img)
	kernels, _ := filepath.Glob(filepath.Join(kroot, "boot/vmlinuz-*"))
	if len(kernels) != 1 {
		t.Fatalf("kernel package has %d kernels", len(kernels))
	}
	log := filepath.Join(dir, "serial.log")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-nodefaults", "-no-user-config",
		"-display", "none", "-m", "256", "-no-reboot", "-kernel", kernels[0], "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1", "-serial", "file:"+log,
		"-drive", "file="+iso+",if=virtio,format=raw,readonly=on").CombinedOutput()
	if err != nil {
		t.Fatalf("qemu: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(log)
	console := strings.ReplaceAll(string(raw), "\r", "")
	t.Logf("guest ran %.1fs", time.Since(start).Seconds())
	if !strings.Contains(console, "GUEST-DONE") {
		t.Fatalf("guest did not finish:\n%s", console)
	}
	if !strings.Contains(console, "FINDFS /dev/vda\n") {
		t.Errorf("findfs LABEL=config-2 did not find /dev/vda:\n%s", console)
	}
	want := map[string]string{}
	for _, f := range all {
		s := sha256.Sum256(f.Data)
		want["./"+f.Path] = hex.EncodeToString(s[:])
	}
	for _, opt := range []string{"ro", "ro,norock"} {
		got := map[string]string{}
		for _, l := range strings.Split(console, "\n") {
			if rest, ok := strings.CutPrefix(l, "SUM "+opt+" "); ok {
				sum, p, _ := strings.Cut(rest, "  ")
				got[p] = sum
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: guest sees %d files, want %d", opt, len(got), len(want))
		}
		for p, sum := range want {
			if got[p] != sum {
				t.Errorf("%s: %s: guest read %q, want %q", opt, p, got[p], sum)
			}
		}
	}
}

// cpioWriter writes the "newc" archive format an initramfs uses.
type cpioWriter struct {
	buf bytes.Buffer
	ino int
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte) {
	c.ino++
	fmt.Fprintf(&c.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	c.buf.WriteString(name)
	c.buf.WriteByte(0)
	c.pad()
	c.buf.Write(data)
	c.pad()
}

func (c *cpioWriter) pad() {
	for c.buf.Len()%4 != 0 {
		c.buf.WriteByte(0)
	}
}

func (c *cpioWriter) dir(name string) { c.entry(name, 0o040755, nil) }

func (c *cpioWriter) file(t *testing.T, name string, perm uint32, data []byte) {
	c.entry(name, 0o100000|perm, data)
}

func (c *cpioWriter) fileFrom(t *testing.T, name string, perm uint32, src string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	c.file(t, name, perm, b)
}

func (c *cpioWriter) close() []byte {
	c.entry("TRAILER!!!", 0, nil)
	return c.buf.Bytes()
}
