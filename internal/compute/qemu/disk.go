package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// imgInfo is the part of `qemu-img info --output=json` kumo reads.
type imgInfo struct {
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
	FormatSpecific  struct {
		Type string `json:"type"`
		Data struct {
			DataFile   string `json:"data-file"`
			CreateType string `json:"create-type"` // vmdk
		} `json:"data"`
	} `json:"format-specific"`
}

// runTool runs a command and returns its stdout; a failure carries the
// command's stderr, which says what went wrong.
func runTool(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", name, args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// inspect reads an image's header with its format given, never guessed
// (a raw image whose data looks like qcow2 must stay raw). -U: reading the
// header is safe while a guest holds the image's lock.
func inspect(ctx context.Context, qemuImg, path, format string) (imgInfo, error) {
	out, err := runTool(ctx, qemuImg, "info", "-U", "--output=json", "-f", format, path)
	if err != nil {
		return imgInfo{}, err
	}
	var info imgInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return imgInfo{}, fmt.Errorf("qemu-img info %s: %w", path, err)
	}
	return info, nil
}

// checkSafe refuses an image that points at other files: a backing file or
// an external data file would let a user read any file on the host through
// their guest's disk.
func checkSafe(info imgInfo, format string) error {
	if info.Format != format {
		return fmt.Errorf("image is %s, not %s", info.Format, format)
	}
	if info.BackingFilename != "" {
		return fmt.Errorf("image has a backing file (%s)", info.BackingFilename)
	}
	if info.FormatSpecific.Data.DataFile != "" {
		return fmt.Errorf("image has an external data file (%s)", info.FormatSpecific.Data.DataFile)
	}
	if format == "vmdk" {
		// Only the single-file variants; the others name extent files.
		switch info.FormatSpecific.Data.CreateType {
		case "monolithicSparse", "streamOptimized":
		default:
			return fmt.Errorf("vmdk create-type %q is not allowed", info.FormatSpecific.Data.CreateType)
		}
	}
	return nil
}

// createOverlay makes path a qcow2 overlay on base, grown to sizeBytes
// when that is larger than the base.
func createOverlay(ctx context.Context, qemuImg, path, base, baseFormat string, sizeBytes int64) error {
	args := []string{"create", "-q", "-f", "qcow2", "-F", baseFormat, "-b", base, path}
	if _, err := runTool(ctx, qemuImg, args...); err != nil {
		return err
	}
	return growDisk(ctx, qemuImg, path, sizeBytes)
}

// createBlank makes an empty qcow2 disk of sizeBytes.
func createBlank(ctx context.Context, qemuImg, path string, sizeBytes int64) error {
	_, err := runTool(ctx, qemuImg, "create", "-q", "-f", "qcow2", path, strconv.FormatInt(sizeBytes, 10))
	return err
}

// growDisk resizes a qcow2 disk to sizeBytes if it is smaller; disks never
// shrink (that would cut the guest's filesystem).
func growDisk(ctx context.Context, qemuImg, path string, sizeBytes int64) error {
	if sizeBytes <= 0 {
		return nil
	}
	info, err := inspect(ctx, qemuImg, path, "qcow2")
	if err != nil {
		return err
	}
	if info.VirtualSize >= sizeBytes {
		return nil
	}
	_, err = runTool(ctx, qemuImg, "resize", "-q", "-f", "qcow2", path, strconv.FormatInt(sizeBytes, 10))
	return err
}

const gib = int64(1) << 30
