package qemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// The cache refuses data that does not match Glance's checksums, size or
// declared format, and a failed download leaves neither a base image, a
// partial file nor an instance behind.
func TestCacheRefusesBadImages(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	good := blankImage(t, "img-good")

	withBacking := filepath.Join(t.TempDir(), "backed.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
		"-b", "/etc/hostname", withBacking).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	cases := []struct {
		name string
		img  func() virt.Image
		want string
	}{
		{"wrong md5", func() virt.Image {
			i := good
			i.Checksum = strings.Repeat("0", 32)
			return i
		}, "md5 checksum mismatch"},
		{"wrong sha512", func() virt.Image {
			i := good
			i.HashValue = strings.Repeat("ab", 64)
			return i
		}, "sha512 checksum mismatch"},
		{"no checksum", func() virt.Image {
			i := good
			i.Checksum, i.HashAlgo, i.HashValue = "", "", ""
			return i
		}, "no checksum"},
		{"wrong size", func() virt.Image {
			i := good
			i.Size++
			return i
		}, "bytes"},
		{"unknown hash", func() virt.Image {
			i := good
			i.HashAlgo = "crc32"
			return i
		}, "unsupported hash"},
		{"backing file", func() virt.Image {
			return fileImage(t, "img-backed", withBacking, "qcow2", nil)
		}, "backing file"},
		{"not the declared format", func() virt.Image {
			i := good
			i.DiskFormat = "vdi"
			return i
		}, "vdi"},
		{"unsupported format", func() virt.Image {
			i := good
			i.DiskFormat = "ploop"
			return i
		}, "not supported"},
	}
	for i, c := range cases {
		id := "0b1a4c00-0000-4000-8000-0000000001" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		err := d.Spawn(ctx, testSpec(id), c.img())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: spawn error %v, want %q", c.name, err, c.want)
		}
		if _, err := os.Stat(d.instance(id).dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: instance dir left: %v", c.name, err)
		}
	}
	ents, _ := os.ReadDir(d.cache.dir)
	for _, e := range ents {
		t.Errorf("cache holds %s after refused downloads", e.Name())
	}
}

// Concurrent spawns of one image download it once; a vmdk is converted
// to qcow2 once, and an ISO becomes a CD-ROM over a blank root disk.
func TestCacheFetchOnceAndFormats(t *testing.T) {
	d := newTestDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var opens atomic.Int32
	src := filepath.Join(t.TempDir(), "disk.vmdk")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "vmdk", src, "32M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	vmdk := fileImage(t, "img-vmdk", src, "vmdk", &opens)

	var wg sync.WaitGroup
	paths := make([]string, 6)
	errs := make([]error, 6)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := d.cache.get(ctx, vmdk)
			paths[i], errs[i] = b.Path+"|"+b.Format, err
		}()
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil || paths[i] != filepath.Join(d.cache.dir, "img-vmdk")+"|qcow2" {
			t.Errorf("get %d: %s %v", i, paths[i], errs[i])
		}
	}
	if n := opens.Load(); n != 1 {
		t.Errorf("image downloaded %d times, want once", n)
	}
	if info, err := inspect(ctx, "qemu-img", filepath.Join(d.cache.dir, "img-vmdk"), "qcow2"); err != nil || info.VirtualSize != 32<<20 {
		t.Errorf("converted base: %+v %v", info, err)
	}

	requireTools(t, "genisoimage")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README"), []byte("an installer would be here\n"), 0o644)
	iso := filepath.Join(t.TempDir(), "x.iso")
	if out, err := exec.Command("genisoimage", "-quiet", "-o", iso, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	const id = "0b1a4c00-0000-4000-8000-000000000201"
	spec := testSpec(id)
	spec.RootGB = 2
	if err := d.Spawn(ctx, spec, fileImage(t, "img-iso", iso, "iso", nil)); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, id, virt.Running)
	root, err := inspect(ctx, "qemu-img", d.instance(id).path(rootDisk), "qcow2")
	if err != nil || root.BackingFilename != "" || root.VirtualSize != 2*gib {
		t.Errorf("root disk of an ISO boot: %+v %v", root, err)
	}
	if cl := cmdline(t, d, id); !strings.Contains(cl, "ide-cd,drive=iso,bootindex=0") {
		t.Errorf("ISO not the boot CD-ROM: %s", cl)
	}
}
