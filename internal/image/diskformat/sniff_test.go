package diskformat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// These tests build headers by hand, so they run without qemu-img and cover
// crafted images that qemu-img would never write.

const testCluster = 64 << 10

// craftQcow2 returns a minimal, well-formed qcow2 v3 image of 1 MiB virtual
// size: header, refcount table at cluster 1, L1 table at cluster 3.
func craftQcow2() []byte {
	b := make([]byte, 4*testCluster)
	copy(b, "QFI\xfb")
	be.PutUint32(b[4:], 3)
	be.PutUint32(b[20:], 16)       // cluster_bits
	be.PutUint64(b[24:], 1<<20)    // size
	be.PutUint32(b[36:], 1)        // l1_size
	be.PutUint64(b[40:], 3*64<<10) // l1_table_offset
	be.PutUint64(b[48:], 64<<10)   // refcount_table_offset
	be.PutUint32(b[56:], 1)        // refcount_table_clusters
	be.PutUint32(b[96:], 4)        // refcount_order
	be.PutUint32(b[100:], 104)     // header_length
	return b
}

// craftVMDK returns a monolithicSparse vmdk header with descriptor text.
func craftVMDK(capacity uint64, desc string) []byte {
	b := make([]byte, 4096)
	copy(b, "KDMV")
	le.PutUint32(b[4:], 1)
	le.PutUint64(b[12:], capacity)
	le.PutUint64(b[20:], 128)
	le.PutUint64(b[28:], 1) // descriptor at sector 1
	le.PutUint64(b[36:], 2) // two sectors long
	copy(b[512:], desc)
	return b
}

// craftStreamVMDK returns a streamOptimized-style vmdk whose header defers
// to a footer (gdOffset at end), with the footer's capacity.
func craftStreamVMDK(footerCapacity uint64) []byte {
	b := craftVMDK(2048, goodDescriptor)
	footer := bytes.Clone(b[:512])
	le.PutUint64(b[56:], vmdkGDAtEnd)
	le.PutUint64(footer[12:], footerCapacity)
	le.PutUint64(footer[56:], 8)
	marker := make([]byte, 512)
	le.PutUint32(marker[12:], vmdkMarkerFooter)
	b = append(b, marker...)
	b = append(b, footer...)
	return append(b, make([]byte, 512)...)
}

const goodDescriptor = `# Disk DescriptorFile
version=1
CID=12345678
parentCID=ffffffff
createType="monolithicSparse"

# Extent description
RW 2048 SPARSE "disk.vmdk"

# The Disk Data Base
#DDB
ddb.virtualHWVersion = "4"
ddb.geometry.cylinders = "2"
ddb.adapterType = "ide"
`

func craftVHD(diskType uint32, atStart bool) []byte {
	f := make([]byte, 512)
	copy(f, "conectix")
	be.PutUint64(f[40:], 1<<20)
	be.PutUint64(f[48:], 1<<20)
	be.PutUint32(f[60:], diskType)
	var sum uint32
	for _, c := range f {
		sum += uint32(c)
	}
	be.PutUint32(f[64:], ^sum)
	img := make([]byte, 1<<20)
	if atStart {
		// A dynamic disk: footer copy at 0, dynamic header at 512.
		be.PutUint64(f[16:], 512)
		sum = 0
		be.PutUint32(f[64:], 0)
		for _, c := range f {
			sum += uint32(c)
		}
		be.PutUint32(f[64:], ^sum)
		copy(img, f)
		copy(img[512:], "cxsparse")
	}
	return append(img, f...)
}

// craftVHDX returns a minimal VHDX: identifier, a region table at 192 KiB
// naming a metadata region at 1 MiB, whose table holds the file parameters
// (with the given flags) and the virtual disk size (1 MiB).
func craftVHDX(paramFlags uint32) []byte {
	b := make([]byte, 3<<20)
	copy(b, "vhdxfile")
	rt := b[vhdxRegionTable : vhdxRegionTable+vhdxRegionSize]
	copy(rt, "regi")
	le.PutUint32(rt[8:], 1)
	copy(rt[16:], vhdxMetadataRegion[:])
	le.PutUint64(rt[32:], 1<<20)
	le.PutUint32(rt[40:], 1<<20)
	le.PutUint32(rt[44:], 1)
	le.PutUint32(rt[4:], crcWithHole(rt, 4))
	mt := b[1<<20:]
	copy(mt, "metadata")
	le.PutUint16(mt[10:], 2)
	copy(mt[32:], vhdxFileParameters[:])
	le.PutUint32(mt[48:], 64<<10)
	le.PutUint32(mt[52:], 8)
	copy(mt[64:], vhdxVirtualSize[:])
	le.PutUint32(mt[80:], 64<<10+8)
	le.PutUint32(mt[84:], 8)
	le.PutUint32(mt[64<<10:], 32<<20) // block size
	le.PutUint32(mt[64<<10+4:], paramFlags)
	le.PutUint64(mt[64<<10+8:], 1<<20)
	return b
}

func craftVDI(imageType uint32) []byte {
	b := make([]byte, 1024)
	copy(b, "<<< Oracle VM VirtualBox Disk Image >>>\n")
	le.PutUint32(b[0x40:], vdiMagic)
	le.PutUint32(b[0x44:], 0x00010001)
	le.PutUint32(b[0x4c:], imageType)
	le.PutUint64(b[0x170:], 1<<20)
	return b
}

// craftISO returns a tiny ISO 9660 image: a primary volume descriptor at
// sector 16 and a terminator at sector 17, 20 sectors of 2048 bytes.
func craftISO() []byte {
	const sectors = 20
	b := make([]byte, sectors*isoSector)
	pvd := b[16*isoSector:]
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	pvd[6] = 1
	copy(pvd[40:], "KUMO")
	le.PutUint32(pvd[80:], sectors)
	binary.BigEndian.PutUint32(pvd[84:], sectors)
	le.PutUint16(pvd[128:], isoSector)
	binary.BigEndian.PutUint16(pvd[130:], isoSector)
	term := b[17*isoSector:]
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1
	return b
}

func sniff(b []byte) (Header, error) { return Sniff(bytes.NewReader(b), int64(len(b))) }

func TestSniff(t *testing.T) {
	mod := func(b []byte, f func([]byte)) []byte { f(b); return b }
	tests := []struct {
		name   string
		data   []byte
		format string
		size   int64
		kind   error
	}{
		{"empty", nil, "raw", 0, nil},
		{"raw text", []byte("hello, world\n"), "raw", 13, nil},
		{"qcow2", craftQcow2(), "qcow2", 1 << 20, nil},
		{"qcow2 backing file", mod(craftQcow2(), func(b []byte) {
			be.PutUint64(b[8:], 512)
			be.PutUint32(b[16:], 11)
			copy(b[512:], "/etc/passwd")
		}), "qcow2", 0, ErrUnsafe},
		{"qcow2 data file bit", mod(craftQcow2(), func(b []byte) { b[79] |= 1 << 2 }), "qcow2", 0, ErrUnsafe},
		{"qcow2 data_file_raw", mod(craftQcow2(), func(b []byte) { b[95] |= 1 << 1 }), "qcow2", 0, ErrUnsafe},
		{"qcow2 data file extension", mod(craftQcow2(), func(b []byte) {
			be.PutUint32(b[104:], qcowExtDataFile)
			be.PutUint32(b[108:], 11)
			copy(b[112:], "/etc/shadow")
		}), "qcow2", 0, ErrUnsafe},
		{"qcow2 unknown incompatible feature", mod(craftQcow2(), func(b []byte) { b[72] = 0x80 }), "qcow2", 0, ErrUnsafe},
		{"qcow2 corrupt", mod(craftQcow2(), func(b []byte) { b[79] |= 1 << 1 }), "qcow2", 0, ErrInvalidImage},
		{"qcow v1", mod(craftQcow2(), func(b []byte) { be.PutUint32(b[4:], 1) }), "qcow2", 0, ErrInvalidImage},
		{"qcow2 truncated header", craftQcow2()[:60], "qcow2", 0, ErrInvalidImage},
		{"qcow2 truncated body", craftQcow2()[:testCluster], "qcow2", 0, ErrInvalidImage},
		{"qcow2 bad cluster bits", mod(craftQcow2(), func(b []byte) { be.PutUint32(b[20:], 40) }), "qcow2", 0, ErrInvalidImage},
		{"qcow2 endless extensions", mod(craftQcow2(), func(b []byte) {
			for off := 104; off+8 <= testCluster; off += 8 {
				be.PutUint32(b[off:], 0x12345678)
			}
		}), "qcow2", 0, ErrInvalidImage},
		{"qcow2 extension past cluster", mod(craftQcow2(), func(b []byte) {
			be.PutUint32(b[104:], 0x12345678)
			be.PutUint32(b[108:], 1<<30)
		}), "qcow2", 0, ErrInvalidImage},
		{"qed", []byte("QED\x00aaaaaaaa"), "qed", 0, nil},
		{"vmdk monolithicSparse", craftVMDK(2048, goodDescriptor), "vmdk", 2048 * 512, nil},
		{"vmdk zero capacity", craftVMDK(0, goodDescriptor), "vmdk", 0, ErrUnsafe},
		{"vmdk parent", craftVMDK(2048, goodDescriptor+"parentFileNameHint=\"/etc/passwd\"\n"), "vmdk", 0, ErrUnsafe},
		{"vmdk flat extent", craftVMDK(2048, `createType="monolithicSparse"
RW 2048 FLAT "/etc/passwd" 0
`), "vmdk", 0, ErrUnsafe},
		{"vmdk extent path", craftVMDK(2048, `createType="monolithicSparse"
RW 2048 SPARSE "../../etc/passwd"
`), "vmdk", 0, ErrUnsafe},
		{"vmdk monolithicFlat", craftVMDK(2048, `createType="monolithicFlat"
RW 2048 SPARSE "x.vmdk"
`), "vmdk", 0, ErrUnsafe},
		{"vmdk unknown line", craftVMDK(2048, goodDescriptor+"include /etc/passwd\n"), "vmdk", 0, ErrUnsafe},
		{"vmdk no extents", craftVMDK(2048, "createType=\"monolithicSparse\"\n"), "vmdk", 0, ErrUnsafe},
		{"vmdk text descriptor", []byte("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/passwd\" 0\n"), "vmdk", 0, ErrUnsafe},
		{"vmdk stream without footer", mod(craftVMDK(2048, goodDescriptor), func(b []byte) { le.PutUint64(b[56:], vmdkGDAtEnd) }), "vmdk", 0, ErrInvalidImage},
		{"vmdk stream footer", craftStreamVMDK(4096), "vmdk", 4096 * 512, nil},
		{"vmdk stream footer zero capacity", craftStreamVMDK(0), "vmdk", 0, ErrUnsafe},
		{"vmdk stream footer bad marker", mod(craftStreamVMDK(4096), func(b []byte) { b[len(b)-1536+12] = 9 }), "vmdk", 0, ErrInvalidImage},
		{"vmdk stream footer other descriptor", mod(craftStreamVMDK(4096), func(b []byte) { le.PutUint64(b[len(b)-1024+28:], 7) }), "vmdk", 0, ErrUnsafe},
		{"vhd dynamic", craftVHD(vhdDynamic, true), "vhd", 1 << 20, nil},
		{"vhd fixed", craftVHD(vhdFixed, false), "vhd", 1 << 20, nil},
		{"vhd differencing", craftVHD(vhdDifferencing, true), "vhd", 0, ErrUnsafe},
		{"vhd bad footer checksum is raw", mod(craftVHD(vhdFixed, false), func(b []byte) { b[len(b)-1] ^= 1 }), "raw", 1<<20 + 512, nil},
		{"vhdx", craftVHDX(0), "vhdx", 1 << 20, nil},
		{"vhdx differencing", craftVHDX(vhdxHasParent), "vhdx", 0, ErrUnsafe},
		{"vhdx bad region checksum", mod(craftVHDX(0), func(b []byte) { b[vhdxRegionTable+100] = 1 }), "vhdx", 0, ErrInvalidImage},
		{"vhdx without region table", append([]byte("vhdxfile"), make([]byte, 1000)...), "vhdx", 0, ErrInvalidImage},
		{"vdi", craftVDI(1), "vdi", 1 << 20, nil},
		{"vdi differencing", craftVDI(4), "vdi", 0, ErrUnsafe},
		{"iso", craftISO(), "iso", 20 * isoSector, nil},
		{"qcow2 and iso polyglot", mod(craftQcow2(), func(b []byte) { copy(b[16*isoSector+1:], "CD001") }), "iso+qcow2", 0, ErrUnsafe},
		{"ploop", mod(make([]byte, 512), func(b []byte) {
			copy(b, "WithouFreSpacExt")
			le.PutUint32(b[16:], 2)
			le.PutUint64(b[36:], 2048)
		}), "ploop", 1 << 20, nil},
		{"luks", []byte("LUKS\xba\xbe\x00\x01"), "luks", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := sniff(tt.data)
			if h.Format != tt.format {
				t.Errorf("Format = %q, want %q", h.Format, tt.format)
			}
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Sniff: %v", err)
				}
				if h.VirtualSize != tt.size {
					t.Errorf("VirtualSize = %d, want %d", h.VirtualSize, tt.size)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Sniff error = %v, want %v", err, tt.kind)
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("error %v is not an *Error with a reason", err)
			}
		})
	}
}

func TestGUIDEncoding(t *testing.T) {
	// The metadata region GUID as it appears on disk (MS-VHDX 2.2.3.1).
	want := []byte{0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e}
	if got := vhdxMetadataRegion; !bytes.Equal(got[:], want) {
		t.Fatalf("guid = % x, want % x", got, want)
	}
}

// FuzzSniff runs the parser on arbitrary bytes, and on well-formed images
// with arbitrary bytes written over them at an arbitrary offset, so that the
// fuzzer reaches the structures deep inside (the vhdx metadata at 1 MiB, a
// vmdk footer at the end). It must never panic.
func FuzzSniff(f *testing.F) {
	templates := [][]byte{
		craftQcow2(), craftVMDK(2048, goodDescriptor), craftStreamVMDK(4096),
		craftVHD(vhdDynamic, true), craftVHD(vhdFixed, false), craftVHDX(0),
		craftVDI(1), craftISO(),
	}
	seeds := [][]byte{
		nil, []byte("QFI\xfb"), craftQcow2()[:4096], craftVMDK(2048, goodDescriptor),
		craftVHD(vhdDynamic, true)[:2048], craftVDI(1), craftISO()[:34<<10],
		append([]byte("vhdxfile"), make([]byte, 512)...), []byte("KDMV\x01\x00\x00\x00"),
		[]byte("# Disk DescriptorFile\nversion=1\n"),
	}
	for i, s := range seeds {
		f.Add(s, uint8(i), uint32(i*4096))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint8(5), uint32(vhdxRegionTable+8))
	f.Add([]byte{0xff, 0xff}, uint8(5), uint32(1<<20+10))
	f.Fuzz(func(t *testing.T, b []byte, which uint8, off uint32) {
		check := func(img []byte) {
			h, err := sniff(img)
			if h.Format == "" {
				t.Fatalf("empty Format (err %v)", err)
			}
			var e *Error
			if errors.As(err, &e) && (e.Kind == nil || e.Reason == "") {
				t.Fatalf("incomplete error %#v", e)
			}
			if err == nil && h.VirtualSize < 0 {
				t.Fatalf("negative VirtualSize %d", h.VirtualSize)
			}
			_ = fmt.Sprint(err)
		}
		check(b)
		img := bytes.Clone(templates[int(which)%len(templates)])
		copy(img[int(off)%len(img):], b)
		check(img)
	})
}
