package image

import (
	"os"
	"syscall"
)

// writebackEvery is how much written data is handed to the disk at a time
// while an upload streams.
const writebackEvery = 32 << 20

// writeback is an image data file that starts the disk writes of what was
// written every writebackEvery bytes (sync_file_range, SYNC_FILE_RANGE_WRITE:
// asynchronous), so the disk works while the data streams in, and the fsync
// that makes the upload durable has little left to do.
type writeback struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes handed to the disk
}

func newWriteback(f *os.File) *writeback { return &writeback{f: f} }

// syncFileRangeWrite is Linux's SYNC_FILE_RANGE_WRITE (not in syscall).
const syncFileRangeWrite = 0x2

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackEvery {
		// Best effort: a failure here only leaves more to the fsync.
		_ = syscall.SyncFileRange(int(w.f.Fd()), w.started, w.off-w.started, syncFileRangeWrite)
		w.started = w.off
	}
	return n, err
}
