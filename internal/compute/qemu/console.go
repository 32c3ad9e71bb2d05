package qemu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"kumo/internal/compute/virt"
)

// consoleReadMax bounds how much of console.log is read: Nova's API returns
// a tail too, and a chatty guest can write megabytes.
const consoleReadMax = 1 << 20

// ConsoleOutput implements virt.Driver.
func (d *Driver) ConsoleOutput(ctx context.Context, uuid string, lines int) (string, error) {
	if err := validUUID(uuid); err != nil {
		return "", err
	}
	in := d.instance(uuid)
	if !in.exists() {
		return "", virt.ErrNotFound
	}
	f, err := os.Open(in.path(consoleLog))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil // never started, nothing written yet
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > consoleReadMax {
		f.Seek(-consoleReadMax, io.SeekEnd)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	return tailLines(stripTerminal(b), lines), nil
}

// tailLines returns the last n lines of s (all of s when n <= 0).
func tailLines(s string, n int) string {
	if n <= 0 {
		return s
	}
	// The final newline ends the last line; it does not start another.
	i := len(strings.TrimSuffix(s, "\n"))
	for k := 0; k < n; k++ {
		j := strings.LastIndexByte(s[:i], '\n')
		if j < 0 {
			return s
		}
		i = j
	}
	return s[i+1:]
}

// stripTerminal removes what a terminal would interpret rather than show:
// escape sequences (SeaBIOS's ESC c, busybox ash's ESC[6n, colours),
// carriage returns and other control characters but newline and tab.
func stripTerminal(b []byte) string {
	var out bytes.Buffer
	out.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == 0x1b:
			i = skipEscape(b, i)
		case c == '\n' || c == '\t':
			out.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			// CR, BEL, backspace, NUL...: not text
		default:
			out.WriteByte(c)
		}
	}
	return strings.ToValidUTF8(out.String(), "\uFFFD")
}

// skipEscape returns the index of the last byte of the escape sequence
// starting at b[i] (ESC).
func skipEscape(b []byte, i int) int {
	if i+1 >= len(b) {
		return i
	}
	switch b[i+1] {
	case '[': // CSI: parameters and intermediates, then a final byte 0x40-0x7e
		j := i + 2
		for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
			j++
		}
		return min(j, len(b)-1)
	case ']', 'P', '_', '^': // OSC, DCS...: up to BEL or ESC \
		for j := i + 2; j < len(b); j++ {
			if b[j] == 0x07 {
				return j
			}
			if b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\' {
				return j + 1
			}
		}
		return len(b) - 1
	case '(', ')', '*', '+', '#', '%': // charset selection: one more byte
		return min(i+2, len(b)-1)
	}
	return i + 1 // two-byte sequences such as ESC c (reset), ESC 7, ESC =
}
