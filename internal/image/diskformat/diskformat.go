// Package diskformat inspects uploaded disk images before the image service
// makes them active, so that a user cannot smuggle a host file into a guest.
//
// A disk image is not just bytes: qcow2, vmdk and friends can name other
// files (a backing file, an external data file, vmdk extents, a parent disk)
// that QEMU will open on the host when the image is used. An image whose
// declared disk_format is raw but whose content is qcow2 is the classic form of
// the attack (CVE-2022-47951, CVE-2024-32498): a later probe or conversion
// trusts the content and reads the host file it points at.
//
// The defence has two layers, as in OpenStack's format_inspector:
//
//  1. Sniff, a header parser written in Go, identifies what the content really
//     is from its magic numbers and parses the header of that format, rejecting
//     anything that refers to another file. It reads the file; it never runs
//     anything from it.
//  2. qemu-img info, always with an explicit -f so that it never probes, run
//     with a timeout and resource limits, confirms the format and gives the
//     virtual size; its backing-file and data-file fields are checked again.
package diskformat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Info is what an accepted image really is.
type Info struct {
	// Format is the content's format in Glance's disk_format words: raw,
	// qcow2, vmdk, vhd, vhdx, vdi, iso, ploop. A raw upload whose content is
	// an ISO 9660 image is reported as iso.
	Format string
	// VirtualSize is the size of the disk the guest sees, in bytes.
	VirtualSize int64
}

// The kinds of refusal. The image API maps all three to 400 Bad Request;
// IsBadImage tells them apart from failures of the host (I/O, qemu-img
// missing, a cancelled context).
var (
	// ErrUnsafe means the image refers to something outside itself (a
	// backing file, an external data file, vmdk extents in other files, a
	// parent disk) or uses a feature that cannot be checked.
	ErrUnsafe = errors.New("disk image is unsafe")
	// ErrFormatMismatch means the content is not what disk_format declares.
	ErrFormatMismatch = errors.New("disk image content does not match its disk_format")
	// ErrInvalidImage means the content has the declared format's signature
	// but its header cannot be parsed (truncated, corrupt, unsupported).
	ErrInvalidImage = errors.New("disk image is invalid")
	// ErrQemuImgMissing means qemu-img is not installed (Debian: qemu-utils).
	ErrQemuImgMissing = errors.New("qemu-img not found: install the qemu-utils package")
)

// Error is a refusal with the reason a user can act on. errors.Is matches it
// against its Kind.
type Error struct {
	Kind     error  // ErrUnsafe, ErrFormatMismatch or ErrInvalidImage
	Declared string // the image's disk_format, when known
	Detected string // what the content is, when known
	Reason   string
}

func (e *Error) Error() string {
	msg := e.Kind.Error() + ": " + e.Reason
	if e.Declared != "" {
		msg = "disk_format " + e.Declared + ": " + msg
	}
	return msg
}

// Unwrap returns the kind, so errors.Is(err, ErrUnsafe) works.
func (e *Error) Unwrap() error { return e.Kind }

// IsBadImage reports whether err refuses the image itself (a 400 for the
// API) rather than reporting a failure on the host.
func IsBadImage(err error) bool {
	return errors.Is(err, ErrUnsafe) || errors.Is(err, ErrFormatMismatch) || errors.Is(err, ErrInvalidImage)
}

func unsafeImage(format, reason string, args ...any) *Error {
	return &Error{Kind: ErrUnsafe, Detected: format, Reason: fmt.Sprintf(reason, args...)}
}

func invalidImage(format, reason string, args ...any) *Error {
	return &Error{Kind: ErrInvalidImage, Detected: format, Reason: fmt.Sprintf(reason, args...)}
}

// DefaultTimeout bounds one qemu-img run.
const DefaultTimeout = 30 * time.Second

// Inspector runs inspections. The zero value is ready to use.
type Inspector struct {
	// QemuImg is the qemu-img command; empty means "qemu-img" on PATH.
	QemuImg string
	// Timeout bounds the qemu-img run; zero means DefaultTimeout.
	Timeout time.Duration
}

// Inspect checks the file at path with the zero Inspector.
func Inspect(ctx context.Context, path string, declared string) (Info, error) {
	var in Inspector
	return in.Inspect(ctx, path, declared)
}

// target is what a declared disk_format must contain, and the qemu-img
// driver that reads it.
type target struct {
	content string // Sniff's Format name
	driver  string // qemu-img -f
}

// targetFor maps a Glance disk_format to its content and qemu driver. ami,
// ari, aki and anything unknown are raw bytes.
func targetFor(declared string) target {
	switch declared {
	case "qcow2", "vmdk", "vhdx", "vdi":
		return target{declared, declared}
	case "vhd":
		return target{"vhd", "vpc"}
	case "iso":
		return target{"iso", "raw"}
	case "ploop":
		return target{"ploop", "parallels"}
	default:
		return target{"raw", "raw"}
	}
}

// Inspect checks that the file at path is a safe image of the declared
// disk_format and returns what it is. A refusal is an *Error (see
// IsBadImage); anything else is a failure on the host, such as
// ErrQemuImgMissing.
func (in *Inspector) Inspect(ctx context.Context, path string, declared string) (Info, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return Info{}, fmt.Errorf("inspect image: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("inspect image %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("inspect image: %w", err)
	}
	h, sniffErr := Sniff(f, fi.Size())
	f.Close()
	var refusal *Error
	if sniffErr != nil && !errors.As(sniffErr, &refusal) {
		return Info{}, fmt.Errorf("inspect image: %w", sniffErr)
	}

	t := targetFor(declared)
	if !contentMatches(t.content, h.Format) && !strings.Contains(h.Format, "+") {
		return Info{}, &Error{
			Kind: ErrFormatMismatch, Declared: declared, Detected: h.Format,
			Reason: fmt.Sprintf("content is %s, not %s", h.Format, t.content),
		}
	}
	if refusal != nil {
		refusal.Declared = declared
		return Info{}, refusal
	}

	q, err := in.qemuInfo(ctx, path, t.driver)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Declared = declared
			e.Detected = h.Format
		}
		return Info{}, err
	}
	if err := q.check(h, fi.Size()); err != nil {
		err.Declared = declared
		err.Detected = h.Format
		return Info{}, err
	}
	size := q.VirtualSize
	if h.Format == "raw" || h.Format == "iso" {
		size = fi.Size() // exact, where QEMU rounds up to a sector
	}
	return Info{Format: h.Format, VirtualSize: size}, nil
}

// contentMatches reports whether content is acceptable for a declared
// content format. An ISO is a valid raw disk (it is written to USB sticks as
// is), so raw accepts it; nothing else is accepted in place of another.
func contentMatches(want, got string) bool {
	return want == got || (want == "raw" && got == "iso")
}
