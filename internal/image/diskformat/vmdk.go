package diskformat

import (
	"bytes"
	"io"
	"math"
	"strings"
)

// VMDK hosted sparse extent header (little-endian; VMware's "Virtual Disk
// Format 1.1"). Only single-file images whose data is in the file itself are
// accepted: monolithicSparse and streamOptimized. Every other createType is
// a descriptor whose extents are other files on the host.
const (
	vmdkSector       = 512
	vmdkGDAtEnd      = 0xffffffffffffffff
	vmdkMaxDescBytes = 1 << 20
	vmdkMarkerEOS    = 0
	vmdkMarkerFooter = 3
)

// vmdkSafeTypes are the createTypes whose extents live inside the file.
var vmdkSafeTypes = map[string]bool{"monolithicsparse": true, "streamoptimized": true}

// isVMDKDescriptor reports whether the start of a file is a text vmdk
// descriptor, which QEMU's vmdk driver would open and follow.
func isVMDKDescriptor(head []byte) bool {
	if i := bytes.IndexByte(head, 0); i >= 0 {
		head = head[:i]
	}
	if !isText(head) {
		return false
	}
	s := strings.ToLower(string(head))
	if strings.Contains(s, "createtype=") || strings.Contains(s, "# disk descriptorfile") {
		return true
	}
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		return strings.HasPrefix(line, "version=")
	}
	return false
}

func isText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
			return false
		}
	}
	return true
}

type vmdkHeader struct {
	version  uint32
	capacity uint64 // sectors
	descSec  uint64
	descNum  uint64
	gdOffset uint64
}

func parseVMDKHeader(b []byte) vmdkHeader {
	return vmdkHeader{
		version:  le.Uint32(b[4:]),
		capacity: le.Uint64(b[12:]),
		descSec:  le.Uint64(b[28:]),
		descNum:  le.Uint64(b[36:]),
		gdOffset: le.Uint64(b[56:]),
	}
}

// sniffVMDK parses a sparse vmdk and its embedded descriptor.
func sniffVMDK(r io.ReaderAt, size int64) (Header, error) {
	b, err := readAt(r, 0, vmdkSector, size)
	if err != nil {
		return Header{}, err
	}
	if !bytes.HasPrefix(b, []byte("KDMV")) {
		return Header{}, unsafeImage("vmdk", "image is a text descriptor whose extents are other files; only monolithicSparse and streamOptimized are accepted")
	}
	if len(b) < vmdkSector {
		return Header{}, invalidImage("vmdk", "header is truncated")
	}
	h := parseVMDKHeader(b)
	if h.version < 1 || h.version > 3 {
		return Header{}, invalidImage("vmdk", "unsupported version %d", h.version)
	}
	if h.gdOffset == vmdkGDAtEnd {
		// streamOptimized: QEMU uses the footer's header instead.
		f, err := vmdkFooter(r, size, h)
		if err != nil {
			return Header{}, err
		}
		h = f
	}
	// QEMU reads the embedded descriptor of a zero-capacity sparse file as a
	// descriptor file, whose extents can be any host file.
	if h.capacity == 0 {
		return Header{}, unsafeImage("vmdk", "zero capacity sparse header (its descriptor would be followed as a descriptor file)")
	}
	if h.capacity > math.MaxInt64/vmdkSector {
		return Header{}, invalidImage("vmdk", "capacity out of range")
	}
	if h.descSec != 1 {
		return Header{}, invalidImage("vmdk", "descriptor is not at sector 1")
	}
	if h.descNum == 0 || h.descNum > vmdkMaxDescBytes/vmdkSector {
		return Header{}, invalidImage("vmdk", "descriptor size %d sectors out of range", h.descNum)
	}
	desc, err := readAt(r, vmdkSector, int64(h.descNum)*vmdkSector, size)
	if err != nil {
		return Header{}, err
	}
	if uint64(len(desc)) < h.descNum*vmdkSector {
		return Header{}, invalidImage("vmdk", "descriptor is truncated")
	}
	createType, err := checkVMDKDescriptor(desc)
	if err != nil {
		return Header{}, err
	}
	return Header{VirtualSize: int64(h.capacity) * vmdkSector, Subformat: createType}, nil
}

// vmdkFooter checks the end of a streamOptimized file: a footer marker, a
// footer header that agrees with the first one, and an end-of-stream marker.
func vmdkFooter(r io.ReaderAt, size int64, h vmdkHeader) (vmdkHeader, error) {
	if size < 4*vmdkSector {
		return h, invalidImage("vmdk", "file is too short for a stream footer")
	}
	b, err := readAt(r, size-3*vmdkSector, 3*vmdkSector, size)
	if err != nil {
		return h, err
	}
	if len(b) < 3*vmdkSector {
		return h, invalidImage("vmdk", "stream footer is truncated")
	}
	marker, footer, eos := b[:512], b[512:1024], b[1024:]
	if le.Uint32(marker[8:]) != 0 || le.Uint32(marker[12:]) != vmdkMarkerFooter || !allZero(marker[16:]) {
		return h, invalidImage("vmdk", "footer marker is invalid")
	}
	if !allZero(eos[:12]) || le.Uint32(eos[12:]) != vmdkMarkerEOS || !allZero(eos[16:]) {
		return h, invalidImage("vmdk", "end-of-stream marker is invalid")
	}
	if !bytes.HasPrefix(footer, []byte("KDMV")) {
		return h, invalidImage("vmdk", "footer has no KDMV signature")
	}
	f := parseVMDKHeader(footer)
	if f.version != h.version || f.descSec != h.descSec || f.descNum != h.descNum {
		return h, unsafeImage("vmdk", "footer disagrees with the header")
	}
	if f.gdOffset == vmdkGDAtEnd {
		return h, invalidImage("vmdk", "footer points at another footer")
	}
	return f, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkVMDKDescriptor accepts only descriptors it fully understands: comments,
// ddb.* lines, key=value lines and extent lines, with a safe createType, no
// parent, and at least one extent, each a SPARSE extent with a plain file
// name. It returns the createType as written.
func checkVMDKDescriptor(desc []byte) (string, error) {
	if i := bytes.IndexByte(desc, 0); i >= 0 {
		desc = desc[:i]
	}
	if !isText(desc) {
		return "", invalidImage("vmdk", "descriptor is not ASCII text")
	}
	createType := ""
	extents := 0
	for line := range strings.Lines(string(desc)) {
		line = strings.TrimSpace(line)
		lower := strings.ToLower(line)
		fields := strings.Fields(lower)
		switch {
		case line == "" || line[0] == '#' || strings.HasPrefix(lower, "ddb."):
		case len(fields) > 0 && (fields[0] == "rw" || fields[0] == "rdonly" || fields[0] == "noaccess"):
			if err := checkVMDKExtent(line); err != nil {
				return "", err
			}
			extents++
		case strings.Contains(line, "=") && !strings.ContainsAny(strings.SplitN(line, "=", 2)[0], " \t"):
			key, val, _ := strings.Cut(line, "=")
			val = strings.Trim(strings.TrimSpace(val), `"`)
			switch strings.ToLower(key) {
			case "createtype":
				createType = val
			case "parentfilenamehint":
				return "", unsafeImage("vmdk", "image has a parent (parentFileNameHint)")
			case "parentcid":
				if strings.ToLower(val) != "ffffffff" {
					return "", unsafeImage("vmdk", "image has a parent (parentCID %s)", val)
				}
			}
		default:
			return "", unsafeImage("vmdk", "descriptor has an unexpected line")
		}
	}
	if !vmdkSafeTypes[strings.ToLower(createType)] {
		if len(createType) > 64 {
			createType = createType[:64]
		}
		return "", unsafeImage("vmdk", "createType %q is not allowed; only monolithicSparse and streamOptimized are accepted", createType)
	}
	if extents == 0 {
		return "", unsafeImage("vmdk", "descriptor has no extents")
	}
	return createType, nil
}

// checkVMDKExtent accepts `ACCESS SECTORS SPARSE "name"` where name is a
// plain file name (QEMU reads a sparse file's data from the file itself).
func checkVMDKExtent(line string) error {
	fields := strings.Fields(line)
	if len(fields) < 3 || strings.ToLower(fields[2]) != "sparse" {
		return unsafeImage("vmdk", "extent is not a SPARSE extent in the image itself")
	}
	if strings.ContainsAny(line, `/\:`) {
		return unsafeImage("vmdk", "extent names a path")
	}
	return nil
}
