package diskformat

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needQemuImg skips a test that builds images with qemu-img when it is not
// installed, except in CI (CI set), where .ci/run installs qemu-utils and a
// skip would hide the safety tests.
func needQemuImg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("qemu-img not found: CI must install the qemu-utils package")
		}
		t.Skip("qemu-img not found (apt-get install qemu-utils)")
	}
}

func qemuImg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("qemu-img", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawDisk writes a 4 MiB raw disk with a little data in it.
func rawDisk(t *testing.T, dir string) string {
	b := make([]byte, 4<<20)
	copy(b[1<<20:], "some data in the middle of the disk")
	return writeFile(t, filepath.Join(dir, "disk.raw"), b)
}

const mib = 1 << 20

func TestInspect(t *testing.T) {
	needQemuImg(t)
	tests := []struct {
		name     string
		declared string
		build    func(t *testing.T, dir string) string
		format   string
		size     int64 // 0: do not check
		kind     error
	}{
		{"raw", "raw", rawDisk, "raw", 4 * mib, nil},
		{"ami is raw", "ami", rawDisk, "raw", 4 * mib, nil},
		{"unknown disk_format is raw", "aki", rawDisk, "raw", 4 * mib, nil},
		{"qcow2", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			return p
		}, "qcow2", 10 * mib, nil},
		{"qcow2 v2 converted from raw", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "convert", "-q", "-f", "raw", "-O", "qcow2", "-o", "compat=0.10", rawDisk(t, dir), p)
			return p
		}, "qcow2", 4 * mib, nil},
		{"qcow2 with backing file", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", "-b", rawDisk(t, dir), "-F", "raw", p)
			return p
		}, "", 0, ErrUnsafe},
		{"qcow2 with data file", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), p, "10M")
			return p
		}, "", 0, ErrUnsafe},
		{"qcow2 with raw data file", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw")+",data_file_raw=on", p, "10M")
			return p
		}, "", 0, ErrUnsafe},
		{"declared raw but qcow2", "raw", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.img")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
		{"declared raw but qcow2 with backing file", "raw", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.img")
			qemuImg(t, "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", p)
			return p
		}, "", 0, ErrFormatMismatch},
		{"declared qcow2 but raw", "qcow2", rawDisk, "", 0, ErrFormatMismatch},
		{"declared qcow2 but iso", "qcow2", func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "d.iso"), craftISO())
		}, "", 0, ErrFormatMismatch},
		{"declared vmdk but qcow2", "vmdk", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
		{"truncated qcow2", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			if err := os.Truncate(p, 70<<10); err != nil {
				t.Fatal(err)
			}
			return p
		}, "", 0, ErrInvalidImage},
		{"qcow2 header only", "qcow2", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.qcow2")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			b, _ := os.ReadFile(p)
			return writeFile(t, p, b[:100])
		}, "", 0, ErrInvalidImage},
		{"garbage qcow2", "qcow2", func(t *testing.T, dir string) string {
			b := []byte("QFI\xfb")
			for i := range 70000 {
				b = append(b, byte(i*7919>>3))
			}
			return writeFile(t, filepath.Join(dir, "d.qcow2"), b)
		}, "", 0, ErrInvalidImage},
		{"vmdk monolithicSparse", "vmdk", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vmdk")
			qemuImg(t, "create", "-q", "-f", "vmdk", p, "10M")
			return p
		}, "vmdk", 10 * mib, nil},
		{"vmdk streamOptimized", "vmdk", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vmdk")
			qemuImg(t, "convert", "-q", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", rawDisk(t, dir), p)
			return p
		}, "vmdk", 4 * mib, nil},
		{"vmdk monolithicFlat", "vmdk", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vmdk")
			qemuImg(t, "create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", p, "10M")
			return p
		}, "", 0, ErrUnsafe},
		{"vmdk twoGbMaxExtentSparse", "vmdk", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vmdk")
			qemuImg(t, "create", "-q", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", p, "10M")
			return p
		}, "", 0, ErrUnsafe},
		{"vmdk with parent", "vmdk", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vmdk")
			qemuImg(t, "create", "-q", "-f", "vmdk", p, "10M")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			// Put a parent hint into the embedded descriptor, in place of
			// padding, as an attacker would.
			end := 512 + strings.IndexByte(string(b[512:]), 0)
			copy(b[end:], "parentFileNameHint=\"/etc/hostname\"\n")
			return writeFile(t, p, b)
		}, "", 0, ErrUnsafe},
		{"declared raw but vmdk", "raw", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.img")
			qemuImg(t, "create", "-q", "-f", "vmdk", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
		{"vhd dynamic", "vhd", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vhd")
			qemuImg(t, "create", "-q", "-f", "vpc", p, "10M")
			return p
		}, "vhd", 10514432, nil}, // QEMU rounds up to the CHS geometry
		{"vhd fixed", "vhd", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vhd")
			qemuImg(t, "convert", "-q", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", rawDisk(t, dir), p)
			return p
		}, "vhd", 0, nil},
		{"declared raw but vhd", "raw", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.img")
			qemuImg(t, "create", "-q", "-f", "vpc", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
		{"vhdx", "vhdx", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vhdx")
			qemuImg(t, "create", "-q", "-f", "vhdx", p, "10M")
			return p
		}, "vhdx", 10 * mib, nil},
		{"declared raw but vhdx", "raw", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.img")
			qemuImg(t, "create", "-q", "-f", "vhdx", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
		{"vdi", "vdi", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.vdi")
			qemuImg(t, "create", "-q", "-f", "vdi", p, "10M")
			return p
		}, "vdi", 10 * mib, nil},
		{"declared raw but vdi", "raw", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.img")
			qemuImg(t, "create", "-q", "-f", "vdi", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
		{"ploop", "ploop", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.hds")
			qemuImg(t, "create", "-q", "-f", "parallels", p, "10M")
			return p
		}, "ploop", 10 * mib, nil},
		{"iso", "iso", func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "d.iso"), craftISO())
		}, "iso", 20 * isoSector, nil},
		{"iso declared raw", "raw", func(t *testing.T, dir string) string {
			return writeFile(t, filepath.Join(dir, "d.iso"), craftISO())
		}, "iso", 20 * isoSector, nil},
		{"declared iso but raw", "iso", rawDisk, "", 0, ErrFormatMismatch},
		{"qcow2 hiding an iso header", "iso", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.iso")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			b, _ := os.ReadFile(p)
			copy(b[16*isoSector:], craftISO()[16*isoSector:18*isoSector])
			return writeFile(t, p, b)
		}, "", 0, ErrUnsafe},
		{"declared iso but qcow2", "iso", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "d.iso")
			qemuImg(t, "create", "-q", "-f", "qcow2", p, "10M")
			return p
		}, "", 0, ErrFormatMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.build(t, t.TempDir())
			info, err := Inspect(context.Background(), path, tt.declared)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) || !IsBadImage(err) {
					t.Fatalf("Inspect = %+v, %v; want %v", info, err, tt.kind)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Format != tt.format {
				t.Errorf("Format = %q, want %q", info.Format, tt.format)
			}
			if tt.size != 0 && info.VirtualSize != tt.size {
				t.Errorf("VirtualSize = %d, want %d", info.VirtualSize, tt.size)
			}
			if info.VirtualSize <= 0 {
				t.Errorf("VirtualSize = %d", info.VirtualSize)
			}
		})
	}
}

// TestInspectRealISO uses genisoimage or xorriso when one is installed.
func TestInspectRealISO(t *testing.T) {
	needQemuImg(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hello.txt"), []byte("hello\n"))
	iso := filepath.Join(t.TempDir(), "d.iso")
	var cmd *exec.Cmd
	if p, err := exec.LookPath("genisoimage"); err == nil {
		cmd = exec.Command(p, "-quiet", "-o", iso, dir)
	} else if p, err := exec.LookPath("xorriso"); err == nil {
		cmd = exec.Command(p, "-as", "mkisofs", "-quiet", "-o", iso, dir)
	} else {
		t.Skip("neither genisoimage nor xorriso is installed")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	info, err := Inspect(context.Background(), iso, "iso")
	if err != nil || info.Format != "iso" {
		t.Fatalf("Inspect = %+v, %v", info, err)
	}
	fi, _ := os.Stat(iso)
	if info.VirtualSize != fi.Size() {
		t.Errorf("VirtualSize = %d, want file size %d", info.VirtualSize, fi.Size())
	}
}

// The header check needs no qemu-img: an unsafe image is refused even when
// qemu-img is missing, and a safe one reports that qemu-img is missing.
func TestInspectWithoutQemuImg(t *testing.T) {
	dir := t.TempDir()
	in := &Inspector{QemuImg: filepath.Join(dir, "no-such-qemu-img")}
	bad := craftQcow2()
	be.PutUint64(bad[8:], 512)
	be.PutUint32(bad[16:], 10)
	badPath := writeFile(t, filepath.Join(dir, "bad.qcow2"), bad)
	if _, err := in.Inspect(context.Background(), badPath, "qcow2"); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("unsafe qcow2 without qemu-img: %v, want ErrUnsafe", err)
	}
	if _, err := in.Inspect(context.Background(), badPath, "raw"); !errors.Is(err, ErrFormatMismatch) {
		t.Fatalf("qcow2 declared raw without qemu-img: %v, want ErrFormatMismatch", err)
	}
	good := writeFile(t, filepath.Join(dir, "good.raw"), []byte("plain bytes"))
	_, err := in.Inspect(context.Background(), good, "raw")
	if !errors.Is(err, ErrQemuImgMissing) || IsBadImage(err) {
		t.Fatalf("raw without qemu-img: %v, want ErrQemuImgMissing", err)
	}
	if !strings.Contains(err.Error(), "qemu-utils") {
		t.Errorf("error %q does not name qemu-utils", err)
	}
}

// The second check alone, on real qemu-img output: it refuses what the
// header parser refuses, without the header parser.
func TestQemuImgLayerAlone(t *testing.T) {
	needQemuImg(t)
	dir := t.TempDir()
	backing := filepath.Join(dir, "backing.qcow2")
	qemuImg(t, "create", "-q", "-f", "qcow2", "-b", rawDisk(t, dir), "-F", "raw", backing)
	dataFile := filepath.Join(dir, "datafile.qcow2")
	qemuImg(t, "create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), dataFile, "1M")
	flat := filepath.Join(dir, "flat.vmdk")
	qemuImg(t, "create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", flat, "1M")
	tests := []struct{ path, driver string }{
		{backing, "qcow2"},
		{dataFile, "qcow2"},
		{flat, "vmdk"},
	}
	var in Inspector
	for _, tt := range tests {
		q, err := in.qemuInfo(context.Background(), tt.path, tt.driver)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		h := Header{Format: tt.driver, VirtualSize: q.VirtualSize}
		if err := q.check(h, 0); err == nil || !errors.Is(err, ErrUnsafe) {
			t.Errorf("%s: check = %v, want ErrUnsafe", filepath.Base(tt.path), err)
		} else {
			t.Logf("%s: %v", filepath.Base(tt.path), err)
		}
	}
}

// fakeQemuImg writes a script standing in for qemu-img.
func fakeQemuImg(t *testing.T, body string) *Inspector {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	p := filepath.Join(t.TempDir(), "qemu-img")
	writeFile(t, p, []byte("#!/bin/sh\n"+body+"\n"))
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Inspector{QemuImg: p, Timeout: 500 * time.Millisecond}
}

// The second check: whatever the header parser missed, qemu-img's report of
// a backing file or data file still refuses the image.
func TestQemuImgReportIsChecked(t *testing.T) {
	raw := writeFile(t, filepath.Join(t.TempDir(), "d.raw"), make([]byte, 4096))
	tests := []struct {
		name string
		json string
		kind error
	}{
		{"ok", `{"format":"raw","virtual-size":4096}`, nil},
		{"backing file", `{"format":"raw","virtual-size":4096,"backing-filename":"/etc/passwd"}`, ErrUnsafe},
		{"data file", `{"format":"raw","virtual-size":4096,"format-specific":{"type":"x","data":{"data-file":"/etc/passwd"}}}`, ErrUnsafe},
		{"other format", `{"format":"qcow2","virtual-size":4096}`, ErrFormatMismatch},
		{"size disagrees", `{"format":"raw","virtual-size":1}`, ErrInvalidImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fakeQemuImg(t, "cat <<'EOF'\n"+tt.json+"\nEOF")
			info, err := in.Inspect(context.Background(), raw, "raw")
			if tt.kind == nil {
				if err != nil || info.VirtualSize != 4096 {
					t.Fatalf("Inspect = %+v, %v", info, err)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Inspect = %v, want %v", err, tt.kind)
			}
		})
	}
}

func TestQemuImgArgumentsAndFailures(t *testing.T) {
	dir := t.TempDir()
	raw := writeFile(t, filepath.Join(dir, "d.raw"), make([]byte, 4096))
	t.Run("explicit -f and absolute path", func(t *testing.T) {
		args := filepath.Join(t.TempDir(), "args")
		in := fakeQemuImg(t, `echo "$@" > `+args+`; echo '{"format":"raw","virtual-size":4096}'`)
		wd, _ := os.Getwd()
		rel, err := filepath.Rel(wd, raw)
		if err != nil {
			t.Skip(err)
		}
		if _, err := in.Inspect(context.Background(), rel, "raw"); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(args)
		if want := "info --output=json -f raw " + raw + "\n"; string(got) != want {
			t.Errorf("qemu-img args = %q, want %q", got, want)
		}
	})
	t.Run("qemu-img fails", func(t *testing.T) {
		in := fakeQemuImg(t, "echo 'qemu-img: Could not open: bad image' >&2; exit 1")
		_, err := in.Inspect(context.Background(), raw, "raw")
		if !errors.Is(err, ErrInvalidImage) || !strings.Contains(err.Error(), "bad image") {
			t.Fatalf("Inspect = %v, want ErrInvalidImage with qemu-img's message", err)
		}
	})
	t.Run("qemu-img hangs", func(t *testing.T) {
		in := fakeQemuImg(t, "exec sleep 30")
		start := time.Now()
		_, err := in.Inspect(context.Background(), raw, "raw")
		if !errors.Is(err, ErrUnsafe) {
			t.Fatalf("Inspect = %v, want ErrUnsafe (timeout)", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		in := fakeQemuImg(t, "exec sleep 30")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := in.Inspect(ctx, raw, "raw")
		if !errors.Is(err, context.Canceled) || IsBadImage(err) {
			t.Fatalf("Inspect = %v, want context.Canceled", err)
		}
	})
	t.Run("not a regular file", func(t *testing.T) {
		link := filepath.Join(dir, "link")
		if err := os.Symlink("/etc/hostname", link); err != nil {
			t.Skip(err)
		}
		if _, err := Inspect(context.Background(), link, "raw"); err == nil {
			t.Fatal("Inspect followed a symlink")
		}
	})
}
