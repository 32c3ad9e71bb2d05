package diskformat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// qemu-img runs under these limits (as OpenStack runs it): a crafted image
// must not make it eat the host's memory or CPU.
const (
	qemuAddressSpace = 1 << 30 // bytes
	qemuCPUSeconds   = 30
	qemuMaxOutput    = 1 << 20
)

// qemuInfo is the part of `qemu-img info --output=json` that is checked.
type qemuInfo struct {
	Format             string `json:"format"`
	VirtualSize        int64  `json:"virtual-size"`
	BackingFilename    string `json:"backing-filename"`
	FullBackingFile    string `json:"full-backing-filename"`
	BackingFilenameFmt string `json:"backing-filename-format"`
	FormatSpecific     struct {
		Type string `json:"type"`
		Data struct {
			DataFile    *string `json:"data-file"`
			DataFileRaw *bool   `json:"data-file-raw"`
			CreateType  string  `json:"create-type"`
			Extents     []struct {
				Filename string `json:"filename"`
			} `json:"extents"`
		} `json:"data"`
	} `json:"format-specific"`

	path   string // the absolute path given to qemu-img
	driver string // the -f given to qemu-img
}

// qemuInfo runs `qemu-img info --output=json -f driver path`. The explicit
// -f means qemu-img never probes the content, and the absolute path means
// it never reads the name as a protocol ("json:", "nbd:").
func (in *Inspector) qemuInfo(ctx context.Context, path, driver string) (*qemuInfo, error) {
	bin := in.QemuImg
	if bin == "" {
		bin = "qemu-img"
	}
	bin, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("inspect image: %w", ErrQemuImgMissing)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("inspect image: %w", err)
	}
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	args := []string{bin, "info", "--output=json", "-f", driver, abs}
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		args = append([]string{prlimit,
			fmt.Sprintf("--as=%d", qemuAddressSpace),
			fmt.Sprintf("--cpu=%d", qemuCPUSeconds), "--"}, args...)
	}
	cmd := exec.CommandContext(runCtx, args[0], args[1:]...)
	cmd.Env = []string{"LC_ALL=C"}
	cmd.WaitDelay = time.Second
	stdout := &capWriter{max: qemuMaxOutput}
	stderr := &capWriter{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("inspect image: %w", ctx.Err())
	case runCtx.Err() != nil:
		return nil, &Error{Kind: ErrUnsafe, Reason: fmt.Sprintf("qemu-img info did not finish within %s", timeout)}
	case err != nil:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("inspect image: run qemu-img: %w", err)
		}
		msg := firstLine(stderr.String())
		return nil, &Error{Kind: ErrInvalidImage, Reason: fmt.Sprintf("qemu-img cannot read it as %s: %s", driver, msg)}
	case stdout.over:
		return nil, &Error{Kind: ErrUnsafe, Reason: "qemu-img info output is too large"}
	}
	q := &qemuInfo{path: abs, driver: driver}
	if err := json.Unmarshal(stdout.Bytes(), q); err != nil {
		return nil, fmt.Errorf("inspect image: parse qemu-img info: %w", err)
	}
	return q, nil
}

// check repeats the safety rules on what qemu-img reports, and checks that
// it agrees with the header parser.
func (q *qemuInfo) check(h Header, fileSize int64) *Error {
	bad := func(kind error, reason string, args ...any) *Error {
		return &Error{Kind: kind, Reason: "qemu-img: " + fmt.Sprintf(reason, args...)}
	}
	if q.Format != q.driver {
		return bad(ErrFormatMismatch, "reports format %q, expected %q", q.Format, q.driver)
	}
	if q.BackingFilename != "" || q.FullBackingFile != "" || q.BackingFilenameFmt != "" {
		return bad(ErrUnsafe, "image has a backing file")
	}
	d := q.FormatSpecific.Data
	if d.DataFile != nil || (d.DataFileRaw != nil && *d.DataFileRaw) {
		return bad(ErrUnsafe, "image has an external data file")
	}
	if q.VirtualSize < 0 {
		return bad(ErrInvalidImage, "negative virtual size")
	}
	if q.driver == "vmdk" {
		if !vmdkSafeTypes[strings.ToLower(d.CreateType)] {
			return bad(ErrUnsafe, "vmdk create-type %q is not allowed", d.CreateType)
		}
		for _, e := range d.Extents {
			if e.Filename != q.path {
				return bad(ErrUnsafe, "vmdk extent %q is another file", e.Filename)
			}
		}
	}
	// The header and qemu-img must agree on the size, except for vhd, where
	// QEMU may derive it from the CHS geometry instead of the footer. For
	// raw and iso, QEMU reports the file size rounded up to whole sectors.
	want := h.VirtualSize
	switch h.Format {
	case "raw", "iso":
		want = (fileSize + 511) / 512 * 512
	case "vhd":
		return nil
	}
	if q.VirtualSize != want {
		return bad(ErrInvalidImage, "virtual size %d differs from the header's %d", q.VirtualSize, want)
	}
	return nil
}

// capWriter keeps at most max bytes and notes when more were written.
type capWriter struct {
	bytes.Buffer
	max  int
	over bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.Len(); len(p) > room {
		w.over = true
		if room > 0 {
			w.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return w.Buffer.Write(p)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
