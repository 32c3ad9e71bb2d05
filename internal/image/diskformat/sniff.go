package diskformat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sort"
	"strings"
)

// Header is what an image's own bytes say about it, read without qemu.
type Header struct {
	// Format is the content's format in Glance's words (raw, qcow2, vmdk,
	// vhd, vhdx, vdi, iso, ploop), or the name of a format that is only
	// recognised to be refused (qed, luks, bochs, cloop). It is raw when no
	// signature matched, and the matched names joined with "+" (iso+qcow2)
	// when several did.
	Format string
	// VirtualSize is the disk size the header declares; for raw, the file
	// size. It is zero for formats that are only recognised.
	VirtualSize int64
	// Subformat is the vmdk createType or the vhd disk type (fixed, dynamic).
	Subformat string
}

var (
	be = binary.BigEndian
	le = binary.LittleEndian
)

// readAt reads up to n bytes at off, fewer at the end of the file. Only real
// I/O errors are returned.
func readAt(r io.ReaderAt, off, n, size int64) ([]byte, error) {
	if off < 0 || n <= 0 || off >= size {
		return nil, nil
	}
	if n > size-off {
		n = size - off
	}
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:got], nil
}

// Sector offsets of the ISO 9660 / UDF volume recognition sequence.
const isoSector = 2048

// Sniff identifies the content of an image from its signatures and parses
// the header of the format it finds, reading at most a few megabytes of r,
// whose length is size. It returns the detected Header even with an *Error,
// so that a caller can report what the content is. Content that carries the
// signatures of two formats is refused: a polyglot is how a header is hidden.
func Sniff(r io.ReaderAt, size int64) (Header, error) {
	if size < 0 {
		return Header{Format: "raw"}, invalidImage("raw", "negative size")
	}
	head, err := readAt(r, 0, 512, size)
	if err != nil {
		return Header{Format: "raw"}, err
	}
	found := map[string]bool{}
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		found["qcow2"] = true
	case bytes.HasPrefix(head, []byte("QED\x00")):
		found["qed"] = true
	case bytes.HasPrefix(head, []byte("KDMV")):
		found["vmdk"] = true
	case bytes.HasPrefix(head, []byte("conectix")):
		found["vhd"] = true
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		found["vhdx"] = true
	case bytes.HasPrefix(head, []byte("WithoutFreeSpace")), bytes.HasPrefix(head, []byte("WithouFreSpacExt")):
		found["ploop"] = true
	case bytes.HasPrefix(head, []byte("LUKS\xba\xbe")):
		found["luks"] = true
	case bytes.HasPrefix(head, []byte("Bochs Virtual HD Image")):
		found["bochs"] = true
	case bytes.HasPrefix(head, []byte("#!/bin/sh\n#V2.0 Format\nmodprobe cloop")):
		found["cloop"] = true
	}
	if len(head) >= 0x44 && le.Uint32(head[0x40:]) == vdiMagic {
		found["vdi"] = true
	}
	if !found["vmdk"] && isVMDKDescriptor(head) {
		found["vmdk"] = true
	}
	iso, err := isISO(r, size)
	if err != nil {
		return Header{Format: "raw"}, err
	}
	if iso {
		found["iso"] = true
	}
	if !found["vhd"] {
		tail, err := readAt(r, size-512, 512, size)
		if err != nil {
			return Header{Format: "raw"}, err
		}
		if size >= 512 && vhdFooterOK(tail) {
			found["vhd"] = true
			// A fixed VHD is raw data and a footer, and a raw ISO is
			// often converted to one.
			delete(found, "iso")
		}
	}

	switch len(found) {
	case 0:
		return Header{Format: "raw", VirtualSize: size}, nil
	case 1:
	default:
		names := make([]string, 0, len(found))
		for n := range found {
			names = append(names, n)
		}
		sort.Strings(names)
		f := strings.Join(names, "+")
		return Header{Format: f}, unsafeImage(f, "content matches several formats (%s): a header may be hidden in another", strings.Join(names, ", "))
	}
	var format string
	for f := range found {
		format = f
	}
	var h Header
	switch format {
	case "qcow2":
		h, err = sniffQcow2(r, size)
	case "vmdk":
		h, err = sniffVMDK(r, size)
	case "vhd":
		h, err = sniffVHD(r, size)
	case "vhdx":
		h, err = sniffVHDX(r, size)
	case "vdi":
		h, err = sniffVDI(head)
	case "ploop":
		h, err = sniffPloop(head)
	case "iso":
		h, err = sniffISO(r, size)
	default:
		h = Header{}
	}
	h.Format = format
	return h, err
}

// isISO reports whether an ISO 9660 or UDF volume recognition sequence
// starts at sector 16: "CD001", or "BEA01" followed by "NSR02"/"NSR03".
func isISO(r io.ReaderAt, size int64) (bool, error) {
	id := func(sector int64) (string, error) {
		b, err := readAt(r, sector*isoSector+1, 5, size)
		return string(b), err
	}
	first, err := id(16)
	if err != nil || first == "CD001" {
		return first == "CD001", err
	}
	if first != "BEA01" {
		return false, nil
	}
	for s := int64(17); s < 24; s++ {
		v, err := id(s)
		if err != nil {
			return false, err
		}
		if v == "NSR02" || v == "NSR03" {
			return true, nil
		}
	}
	return false, nil
}

func sniffISO(r io.ReaderAt, size int64) (Header, error) {
	h := Header{VirtualSize: size}
	pvd, err := readAt(r, 16*isoSector, isoSector, size)
	if err != nil {
		return h, err
	}
	// A primary volume descriptor (type 1) gives the volume size as
	// blocks × block size, both stored in both byte orders.
	if len(pvd) >= 132 && pvd[0] == 1 {
		blocks := int64(le.Uint32(pvd[80:]))
		bs := int64(le.Uint16(pvd[128:]))
		if blocks > 0 && bs > 0 {
			h.VirtualSize = blocks * bs
		}
	}
	return h, nil
}

const vdiMagic = 0xbeda107f

// sniffVDI reads the VirtualBox header. Only normal (dynamic) and fixed
// images are accepted: an undo or differencing image has a parent.
func sniffVDI(head []byte) (Header, error) {
	if len(head) < 0x178 {
		return Header{}, invalidImage("vdi", "header is truncated")
	}
	if v := le.Uint32(head[0x44:]); v != 0x00010001 {
		return Header{}, invalidImage("vdi", "unsupported version %#x", v)
	}
	switch t := le.Uint32(head[0x4c:]); t {
	case 1, 2:
	case 3, 4:
		return Header{}, unsafeImage("vdi", "image type %d (undo/differencing) has a parent image", t)
	default:
		return Header{}, invalidImage("vdi", "unknown image type %d", t)
	}
	size := le.Uint64(head[0x170:])
	if size > math.MaxInt64 {
		return Header{}, invalidImage("vdi", "disk size out of range")
	}
	return Header{VirtualSize: int64(size)}, nil
}

// sniffPloop reads the Parallels (ploop) header.
func sniffPloop(head []byte) (Header, error) {
	if len(head) < 64 {
		return Header{}, invalidImage("ploop", "header is truncated")
	}
	if v := le.Uint32(head[16:]); v != 2 {
		return Header{}, invalidImage("ploop", "unsupported version %d", v)
	}
	sectors := le.Uint64(head[36:])
	if string(head[:16]) == "WithoutFreeSpace" {
		sectors &= 0xffffffff
	}
	if sectors > math.MaxInt64/512 {
		return Header{}, invalidImage("ploop", "disk size out of range")
	}
	return Header{VirtualSize: int64(sectors) * 512}, nil
}
