package objserver

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// A store marks each device's objects/ top-level, so ext4 spreads the
// partition directories; a file system without the flag is left alone.
func TestObjectsDirectoriesAreMarkedTopLevel(t *testing.T) {
	probe := t.TempDir()
	if err := setTopdir(probe); errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
		t.Skipf("this file system has no top-level flag: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t, []string{"sdb1", "sdb2"}, nil)
	for _, dev := range []string{"sdb1", "sdb2"} {
		dir := filepath.Join(n.root, dev, "objects")
		f, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if flags&fsTopdirFlag == 0 {
			t.Fatalf("%s has flags %#x, without FS_TOPDIR_FL", dir, flags)
		}
	}
	// Setting it again changes nothing.
	if err := setTopdir(filepath.Join(n.root, "sdb1", "objects")); err != nil {
		t.Fatal(err)
	}
	// A device's new objects/ is durable before anything is written in it.
	if err := os.Mkdir(filepath.Join(n.root, "sdb3"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := &recordingFS{root: n.root}
	n.store.fs = rec
	n.store.spreadObjects()
	if got := rec.take(); !slices.Equal(got, []string{"fsyncdir sdb3"}) {
		t.Fatalf("opening a new device did %q, want its directory fsynced", got)
	}
}
