package diskformat

import (
	"io"
	"math"
)

// qcow2 header fields used here (big-endian; docs/interop/qcow2.txt in QEMU).
const (
	qcowV2HeaderLen = 72
	qcowV3HeaderLen = 104

	// Incompatible feature bits.
	qcowIncompatCorrupt  = 1 << 1
	qcowIncompatDataFile = 1 << 2
	qcowIncompatKnown    = 1<<5 - 1 // dirty, corrupt, data file, compression type, extended L2

	// Autoclear feature bits.
	qcowAutoclearDataFileRaw = 1 << 1

	// Header extension types.
	qcowExtEnd           = 0x00000000
	qcowExtBackingFormat = 0xe2792aca
	qcowExtDataFile      = 0x44415441
	qcowMaxExtensions    = 1024
)

// sniffQcow2 parses a qcow2 header and refuses anything that makes QEMU open
// another file: a backing file, an external data file (incompatible feature
// bit, data_file_raw, or the data file name extension), or a feature bit this
// parser does not know. It also checks that the metadata the header points
// at is inside the file, which catches truncated uploads.
func sniffQcow2(r io.ReaderAt, size int64) (Header, error) {
	b, err := readAt(r, 0, qcowV3HeaderLen, size)
	if err != nil {
		return Header{}, err
	}
	if len(b) < qcowV2HeaderLen {
		return Header{}, invalidImage("qcow2", "header is truncated (%d bytes)", len(b))
	}
	version := be.Uint32(b[4:])
	if version != 2 && version != 3 {
		return Header{}, invalidImage("qcow2", "unsupported qcow version %d", version)
	}
	if be.Uint64(b[8:]) != 0 || be.Uint32(b[16:]) != 0 {
		return Header{}, unsafeImage("qcow2", "image has a backing file")
	}
	hdrLen := uint64(qcowV2HeaderLen)
	if version == 3 {
		if len(b) < qcowV3HeaderLen {
			return Header{}, invalidImage("qcow2", "version 3 header is truncated")
		}
		incompat := be.Uint64(b[72:])
		autoclear := be.Uint64(b[88:])
		hdrLen = uint64(be.Uint32(b[100:]))
		switch {
		case incompat&qcowIncompatDataFile != 0:
			return Header{}, unsafeImage("qcow2", "image has an external data file")
		case autoclear&qcowAutoclearDataFileRaw != 0:
			return Header{}, unsafeImage("qcow2", "image has an external raw data file (data_file_raw)")
		case incompat&^qcowIncompatKnown != 0:
			return Header{}, unsafeImage("qcow2", "unknown incompatible features %#x", incompat&^qcowIncompatKnown)
		case incompat&qcowIncompatCorrupt != 0:
			return Header{}, invalidImage("qcow2", "image is marked corrupt")
		}
		if o := be.Uint32(b[96:]); o > 6 {
			return Header{}, invalidImage("qcow2", "refcount_order %d out of range", o)
		}
	}
	clusterBits := be.Uint32(b[20:])
	if clusterBits < 9 || clusterBits > 21 {
		return Header{}, invalidImage("qcow2", "cluster_bits %d out of range", clusterBits)
	}
	cluster := uint64(1) << clusterBits
	if hdrLen < qcowV2HeaderLen || hdrLen > cluster || (version == 3 && hdrLen < qcowV3HeaderLen) {
		return Header{}, invalidImage("qcow2", "header_length %d out of range", hdrLen)
	}
	if err := qcow2Extensions(r, size, hdrLen, cluster); err != nil {
		return Header{}, err
	}
	vsize := be.Uint64(b[24:])
	if vsize > math.MaxInt64 {
		return Header{}, invalidImage("qcow2", "virtual size out of range")
	}
	if m := be.Uint32(b[32:]); m > 2 {
		return Header{}, invalidImage("qcow2", "unknown encryption method %d", m)
	}
	l1Size := uint64(be.Uint32(b[36:]))
	l1Off := be.Uint64(b[40:])
	rtOff := be.Uint64(b[48:])
	rtClusters := uint64(be.Uint32(b[56:]))
	fsize := uint64(size)
	if rtOff == 0 || rtOff%cluster != 0 || rtClusters == 0 || rtOff > fsize || rtClusters*cluster > fsize-rtOff {
		return Header{}, invalidImage("qcow2", "refcount table is outside the file (truncated image?)")
	}
	if l1Off%cluster != 0 || (l1Size > 0 && (l1Off == 0 || l1Off > fsize || l1Size*8 > fsize-l1Off)) {
		return Header{}, invalidImage("qcow2", "L1 table is outside the file (truncated image?)")
	}

	return Header{VirtualSize: int64(vsize)}, nil
}

// qcow2Extensions walks the header extensions, which run from the end of the
// header to the end of the first cluster, and refuses the ones that name
// another file.
func qcow2Extensions(r io.ReaderAt, size int64, start, cluster uint64) error {
	data, err := readAt(r, int64(start), int64(cluster-start), size)
	if err != nil {
		return err
	}
	off := uint64(0)
	for range qcowMaxExtensions {
		if off+8 > uint64(len(data)) {
			return invalidImage("qcow2", "header extensions run past the first cluster or the end of the file")
		}
		typ := be.Uint32(data[off:])
		n := uint64(be.Uint32(data[off+4:]))
		switch typ {
		case qcowExtEnd:
			return nil
		case qcowExtDataFile:
			return unsafeImage("qcow2", "image names an external data file")
		case qcowExtBackingFormat:
			return unsafeImage("qcow2", "image names a backing file format")
		}
		next := off + 8 + (n+7)&^7
		if next > uint64(len(data)) {
			return invalidImage("qcow2", "header extension %#x runs past the first cluster", typ)
		}
		off = next
	}
	return invalidImage("qcow2", "too many header extensions")
}
