package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"kumo/internal/compute/virt"
)

// imageCache holds verified base images in dir (CacheDir/_base), one file
// per Glance image id, shared read-only by every overlay on it.
type imageCache struct {
	dir     string
	qemuImg string
	log     *slog.Logger

	mu       sync.Mutex
	inflight map[string]*fetchCall // downloads under way, by image id
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// base is a cached image ready to back a disk.
type base struct {
	Path   string
	Format string // qemu format of the cached file: qcow2 or raw
	ISO    bool   // boot it as a CD-ROM
	Size   int64  // virtual size
}

func newImageCache(dir, qemuImg string, log *slog.Logger) (*imageCache, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("qemu: image cache: %w", err)
	}
	// Partial downloads of a crashed kumo are never completed; drop them.
	if parts, _ := filepath.Glob(filepath.Join(dir, ".*.part-*")); len(parts) > 0 {
		for _, p := range parts {
			os.Remove(p)
		}
	}
	return &imageCache{dir: dir, qemuImg: qemuImg, log: log, inflight: map[string]*fetchCall{}}, nil
}

// cachedFormat maps a Glance disk_format to the QEMU format of the file
// kept in the cache; formats QEMU reads slowly or that may name other
// files are converted to qcow2 once.
func cachedFormat(diskFormat string) (src, cached string, err error) {
	switch diskFormat {
	case "qcow2":
		return "qcow2", "qcow2", nil
	case "raw":
		return "raw", "raw", nil
	case "iso":
		return "raw", "raw", nil
	case "vmdk", "vdi", "vhdx":
		return diskFormat, "qcow2", nil
	case "vhd":
		return "vpc", "qcow2", nil
	}
	return "", "", fmt.Errorf("disk format %q is not supported by the QEMU driver", diskFormat)
}

// get returns the cached base of img, downloading and verifying it first
// if needed. Concurrent calls for one image download it once.
func (c *imageCache) get(ctx context.Context, img virt.Image) (base, error) {
	if img.ID == "" || strings.ContainsAny(img.ID, "/\\\x00") || strings.HasPrefix(img.ID, ".") {
		return base{}, fmt.Errorf("invalid image id %q", img.ID)
	}
	src, format, err := cachedFormat(img.DiskFormat)
	if err != nil {
		return base{}, err
	}
	path := filepath.Join(c.dir, img.ID)
	for attempt := 0; attempt < 3; attempt++ {
		if _, err := os.Stat(path); err == nil {
			break
		}
		c.mu.Lock()
		call, running := c.inflight[img.ID]
		if !running {
			call = &fetchCall{done: make(chan struct{})}
			c.inflight[img.ID] = call
		}
		c.mu.Unlock()
		if !running {
			call.err = c.download(ctx, img, src, format, path)
			c.mu.Lock()
			delete(c.inflight, img.ID)
			c.mu.Unlock()
			close(call.done)
			if call.err != nil {
				return base{}, call.err
			}
			break
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			return base{}, ctx.Err()
		}
		// A download cancelled by its own caller is retried by a waiter
		// that still wants the image; other failures are shared.
		if call.err != nil && !errors.Is(call.err, context.Canceled) && !errors.Is(call.err, context.DeadlineExceeded) {
			return base{}, call.err
		}
	}
	// Defence in depth: check the cached file each time it is used.
	info, err := inspect(ctx, c.qemuImg, path, format)
	if err != nil {
		return base{}, err
	}
	if err := checkSafe(info, format); err != nil {
		return base{}, fmt.Errorf("cached image %s: %w", img.ID, err)
	}
	return base{Path: path, Format: format, ISO: img.DiskFormat == "iso", Size: info.VirtualSize}, nil
}

// download fetches img into a temporary file, verifies its checksums and
// format, converts it when needed and renames it into place, synced.
func (c *imageCache) download(ctx context.Context, img virt.Image, src, format, path string) error {
	if img.Open == nil {
		return fmt.Errorf("image %s: no data source", img.ID)
	}
	verify, err := virt.NewVerifier(img)
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(c.dir, "."+img.ID+".part-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	defer tmp.Close()

	rc, err := img.Open(ctx)
	if err != nil {
		return fmt.Errorf("image %s: open data: %w", img.ID, err)
	}
	n, err := io.Copy(io.MultiWriter(tmp, verify), ctxReader{ctx, rc})
	rc.Close()
	if err != nil {
		return fmt.Errorf("image %s: download: %w", img.ID, err)
	}
	if err := verify.Check(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	info, err := inspect(ctx, c.qemuImg, tmpName, src)
	if err != nil {
		return fmt.Errorf("image %s: not a valid %s image: %w", img.ID, img.DiskFormat, err)
	}
	if err := checkSafe(info, src); err != nil {
		return fmt.Errorf("image %s: %w", img.ID, err)
	}
	final := tmpName
	if src != format {
		conv := tmpName + ".qcow2"
		defer os.Remove(conv)
		if _, err := runTool(ctx, c.qemuImg, "convert", "-q", "-f", src, "-O", format, tmpName, conv); err != nil {
			return fmt.Errorf("image %s: convert to %s: %w", img.ID, format, err)
		}
		if err := syncFile(conv); err != nil {
			return err
		}
		final = conv
	}
	os.Chmod(final, 0o640)
	if err := os.Rename(final, path); err != nil {
		return err
	}
	c.log.Info("cached base image", "image", img.ID, "format", img.DiskFormat, "bytes", n)
	return syncFile(c.dir)
}

// syncFile fsyncs a file or directory by name.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
