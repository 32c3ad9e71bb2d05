package objserver

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// tempFile is the part of *os.File a write path uses. It is an interface so
// that a test can record the order of writes, fsyncs and renames on the
// real file system (see fsync_test.go).
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
	Fd() uintptr
	// Allocate reserves n bytes so a full disk fails before the upload.
	Allocate(n int64) error
}

// fileSystem is every durability-relevant call the store makes.
type fileSystem interface {
	CreateTemp(dir string) (tempFile, error)
	Rename(from, to string) error
	SyncDir(dir string) error
	// CreateUnnamed opens a file without a name in dir (O_TMPFILE); Link
	// gives it one, atomically, failing if the name exists.
	CreateUnnamed(dir string) (tempFile, error)
	Link(f tempFile, to string) error
	// LinkPath gives the file at from a second name, failing if it exists.
	LinkPath(from, to string) error
	// Datasync makes a journal segment's written bytes durable.
	Datasync(f *os.File) error
	// Syncfs makes everything written on f's file system durable (a
	// journal checkpoint).
	Syncfs(f *os.File) error
}

type osFS struct{}

// osFile is a temp file that starts writing its data back to disk while it
// is being written (writeback): the fsync at the end of a large upload then
// finds most of it on disk already instead of flushing it all at once.
// A large upload of known size is written with O_DIRECT instead (see
// Allocate): no page-cache copy and no writeback to wait for.
type osFile struct {
	*os.File
	written, flushed int64
	// direct, while not nil, collects data for aligned O_DIRECT writes.
	direct *[]byte
	held   int // bytes in *direct
}

// writebackChunk is how much written data starts its writeback at once
// (Swift does the like with fdatasync every mb_per_sync).
const writebackChunk = 4 << 20

func (osFS) CreateTemp(dir string) (tempFile, error) {
	f, err := os.CreateTemp(dir, "tmp-")
	if err != nil {
		return nil, err
	}
	return &osFile{File: f}, nil
}

// unnamedName is what an unnamed file's Name says: never a real file.
const unnamedName = "tmp-unnamed"

func (osFS) CreateUnnamed(dir string) (tempFile, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &osFile{File: os.NewFile(uintptr(fd), filepath.Join(dir, unnamedName))}, nil
}

func (osFS) Link(f tempFile, to string) error {
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, to, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: to, Err: err}
	}
	return nil
}

func (osFS) LinkPath(from, to string) error { return os.Link(from, to) }

func (f *osFile) Write(p []byte) (int, error) {
	if f.direct != nil {
		return f.writeDirect(p)
	}
	n, err := f.File.Write(p)
	f.written += int64(n)
	if f.written-f.flushed >= writebackChunk {
		// SYNC_FILE_RANGE_WRITE only queues the range for writeback and
		// returns; durability still comes from the fsync before the rename.
		const syncFileRangeWrite = 0x2
		_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, f.Fd(), uintptr(f.flushed),
			uintptr(f.written-f.flushed), syncFileRangeWrite, 0, 0)
		f.flushed = f.written
	}
	return n, err
}

// Sync writes what the direct buffer still holds, then fsyncs.
func (f *osFile) Sync() error {
	if err := f.endDirect(true); err != nil {
		return err
	}
	return f.File.Sync()
}

// Close drops unwritten direct data: a file closed without Sync is being
// discarded.
func (f *osFile) Close() error {
	_ = f.endDirect(false)
	return f.File.Close()
}
func (osFS) Rename(from, to string) error { return os.Rename(from, to) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) Datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

func (osFS) Syncfs(f *os.File) error {
	for {
		err := unix.Syncfs(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// Allocate uses fallocate with KEEP_SIZE, like Swift; file systems that do
// not support it simply skip the reservation. A large file switches to
// O_DIRECT writes.
func (f *osFile) Allocate(n int64) error {
	if n <= 0 {
		return nil
	}
	if n >= directMin {
		f.startDirect()
	}
	const keepSize = 0x1 // FALLOC_FL_KEEP_SIZE
	err := syscall.Fallocate(int(f.Fd()), keepSize, 0, n)
	if err == syscall.EOPNOTSUPP || err == syscall.ENOSYS {
		return nil
	}
	return err
}
