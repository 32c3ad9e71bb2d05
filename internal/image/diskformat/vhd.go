package diskformat

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"strconv"
	"strings"
)

// VHD ("vpc" in QEMU): a 512-byte big-endian footer at the end of the file,
// copied at the start for dynamic disks.
const (
	vhdFixed        = 2
	vhdDynamic      = 3
	vhdDifferencing = 4
)

// vhdFooterOK reports whether b is a VHD footer with a correct checksum:
// a fixed VHD has no signature at the start, only this footer at the end.
func vhdFooterOK(b []byte) bool {
	if len(b) < 512 || !bytes.HasPrefix(b, []byte("conectix")) {
		return false
	}
	var sum uint32
	for i, c := range b[:512] {
		if i < 64 || i >= 68 {
			sum += uint32(c)
		}
	}
	return ^sum == be.Uint32(b[64:])
}

// sniffVHD reads the footer (at the start when present, as QEMU does, else
// at the end) and refuses differencing disks, which name a parent file.
func sniffVHD(r io.ReaderAt, size int64) (Header, error) {
	b, err := readAt(r, 0, 512, size)
	if err != nil {
		return Header{}, err
	}
	if !bytes.HasPrefix(b, []byte("conectix")) {
		if b, err = readAt(r, size-512, 512, size); err != nil {
			return Header{}, err
		}
	}
	if len(b) < 512 {
		return Header{}, invalidImage("vhd", "footer is truncated")
	}
	var sub string
	switch t := be.Uint32(b[60:]); t {
	case vhdFixed:
		sub = "fixed"
	case vhdDynamic:
		sub = "dynamic"
	case vhdDifferencing:
		return Header{}, unsafeImage("vhd", "differencing disk has a parent file")
	default:
		return Header{}, invalidImage("vhd", "unknown disk type %d", t)
	}
	vsize := be.Uint64(b[48:])
	if vsize > math.MaxInt64 {
		return Header{}, invalidImage("vhd", "disk size out of range")
	}
	if sub == "dynamic" {
		off := be.Uint64(b[16:])
		if off > math.MaxInt64 {
			return Header{}, invalidImage("vhd", "dynamic header offset out of range")
		}
		dh, err := readAt(r, int64(off), 1024, size)
		if err != nil {
			return Header{}, err
		}
		if len(dh) < 1024 || !bytes.HasPrefix(dh, []byte("cxsparse")) {
			return Header{}, invalidImage("vhd", "dynamic disk header is missing (truncated image?)")
		}
	}
	return Header{VirtualSize: int64(vsize), Subformat: sub}, nil
}

// VHDX (little-endian; MS-VHDX): an identifier at 0, two headers, then the
// region table at 192 KiB, which locates the metadata region, whose table
// locates the items read here.
const (
	vhdxRegionTable   = 192 << 10
	vhdxRegionSize    = 64 << 10
	vhdxMaxEntries    = 2047
	vhdxMetaTableSize = 64 << 10
	vhdxHasParent     = 1 << 1
)

var (
	vhdxMetadataRegion = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxFileParameters = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxVirtualSize    = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxParentLocator  = guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
	castagnoli         = crc32.MakeTable(crc32.Castagnoli)
)

// guid encodes a Microsoft GUID as it is stored: the first three groups
// little-endian, the rest as written.
func guid(s string) [16]byte {
	var g [16]byte
	parts := strings.Split(s, "-")
	hex := func(p string) uint64 {
		v, err := strconv.ParseUint(p, 16, 64)
		if err != nil {
			panic("diskformat: bad GUID constant " + s)
		}
		return v
	}
	binary.LittleEndian.PutUint32(g[0:], uint32(hex(parts[0])))
	binary.LittleEndian.PutUint16(g[4:], uint16(hex(parts[1])))
	binary.LittleEndian.PutUint16(g[6:], uint16(hex(parts[2])))
	binary.BigEndian.PutUint16(g[8:], uint16(hex(parts[3])))
	rest := hex(parts[4])
	for i := range 6 {
		g[15-i] = byte(rest >> (8 * i))
	}
	return g
}

// sniffVHDX finds the virtual disk size and refuses differencing disks (the
// HasParent flag or a parent locator).
func sniffVHDX(r io.ReaderAt, size int64) (Header, error) {
	rt, err := readAt(r, vhdxRegionTable, vhdxRegionSize, size)
	if err != nil {
		return Header{}, err
	}
	if len(rt) < vhdxRegionSize || string(rt[:4]) != "regi" {
		return Header{}, invalidImage("vhdx", "region table is missing (truncated image?)")
	}
	if crcWithHole(rt, 4) != le.Uint32(rt[4:]) {
		return Header{}, invalidImage("vhdx", "region table checksum mismatch")
	}
	count := le.Uint32(rt[8:])
	if count > vhdxMaxEntries {
		return Header{}, invalidImage("vhdx", "region table has %d entries", count)
	}
	var metaOff, metaLen uint64
	for i := range uint64(count) {
		e := rt[16+32*i : 16+32*i+32]
		if [16]byte(e[:16]) == vhdxMetadataRegion {
			metaOff, metaLen = le.Uint64(e[16:]), uint64(le.Uint32(e[24:]))
			break
		}
	}
	if metaOff == 0 || metaOff > uint64(size) || metaLen < vhdxMetaTableSize || metaLen > uint64(size)-metaOff {
		return Header{}, invalidImage("vhdx", "metadata region is missing or outside the file")
	}
	mt, err := readAt(r, int64(metaOff), vhdxMetaTableSize, size)
	if err != nil {
		return Header{}, err
	}
	if len(mt) < vhdxMetaTableSize || string(mt[:8]) != "metadata" {
		return Header{}, invalidImage("vhdx", "metadata table signature missing")
	}
	n := uint64(le.Uint16(mt[10:]))
	if n > vhdxMaxEntries {
		return Header{}, invalidImage("vhdx", "metadata table has %d entries", n)
	}
	item := func(e []byte, want uint32) ([]byte, error) {
		off, l := uint64(le.Uint32(e[16:])), uint64(le.Uint32(e[20:]))
		if l < uint64(want) || off > metaLen || l > metaLen-off {
			return nil, invalidImage("vhdx", "metadata item is outside its region")
		}
		b, err := readAt(r, int64(metaOff+off), int64(want), size)
		if err == nil && len(b) < int(want) {
			err = invalidImage("vhdx", "metadata item is truncated")
		}
		return b, err
	}
	var vsize uint64
	var haveSize, haveParams bool
	for i := range n {
		e := mt[32+32*i : 32+32*i+32]
		switch [16]byte(e[:16]) {
		case vhdxParentLocator:
			return Header{}, unsafeImage("vhdx", "differencing disk has a parent locator")
		case vhdxFileParameters:
			b, err := item(e, 8)
			if err != nil {
				return Header{}, err
			}
			if le.Uint32(b[4:])&vhdxHasParent != 0 {
				return Header{}, unsafeImage("vhdx", "differencing disk has a parent")
			}
			haveParams = true
		case vhdxVirtualSize:
			b, err := item(e, 8)
			if err != nil {
				return Header{}, err
			}
			vsize, haveSize = le.Uint64(b), true
		}
	}
	if !haveSize || !haveParams {
		return Header{}, invalidImage("vhdx", "required metadata items are missing")
	}
	if vsize > math.MaxInt64 {
		return Header{}, invalidImage("vhdx", "virtual size out of range")
	}
	return Header{VirtualSize: int64(vsize)}, nil
}

// crcWithHole is the CRC-32C of b with the 4-byte checksum field at off read
// as zero, as VHDX defines its checksums.
func crcWithHole(b []byte, off int) uint32 {
	c := crc32.Update(0, castagnoli, b[:off])
	c = crc32.Update(c, castagnoli, make([]byte, 4))
	return crc32.Update(c, castagnoli, b[off+4:])
}
