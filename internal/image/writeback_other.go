//go:build !linux

package image

import "os"

// writeback is the image data file as is where sync_file_range does not
// exist (see writeback_linux.go).
type writeback struct{ f *os.File }

func newWriteback(f *os.File) *writeback { return &writeback{f: f} }

func (w *writeback) Write(p []byte) (int, error) { return w.f.Write(p) }
