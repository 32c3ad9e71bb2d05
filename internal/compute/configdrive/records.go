package configdrive

import (
	"encoding/binary"
	"time"
)

var time0 = time.Unix(0, 0).UTC()

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

// stamp7 is the 7-byte recording date of directory records and RRIP TF.
func stamp7(b []byte, t time.Time) {
	b[0] = byte(t.Year() - 1900)
	b[1] = byte(t.Month())
	b[2] = byte(t.Day())
	b[3] = byte(t.Hour())
	b[4] = byte(t.Minute())
	b[5] = byte(t.Second())
	b[6] = 0 // UTC
}

// dirRecord is one ECMA-119 directory record with a system use area.
func dirRecord(id []byte, extent, size uint32, dir bool, t time.Time, su []byte) []byte {
	at := 33 + len(id)
	if len(id)%2 == 0 {
		at++ // padding so the system use area starts even
	}
	n := at + len(su)
	if n%2 == 1 {
		n++
	}
	r := make([]byte, n)
	r[0] = byte(n)
	both32(r[2:], extent)
	both32(r[10:], size)
	stamp7(r[18:], t)
	if dir {
		r[25] = 2
	}
	both16(r[28:], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	copy(r[at:], su)
	return r
}

func primaryRecords(d, root *node, ceLBA uint32, t time.Time) [][]byte {
	self := append(rrPX(d), rrTF(t)...)
	if d == root {
		// SP first in the root's "." record announces SUSP; CE leads to ER,
		// which is what makes Linux and isoinfo use the Rock Ridge names.
		self = append(suspSP(), self...)
		self = append(self, suspCE(ceLBA, 0, uint32(len(suspER())))...)
	}
	recs := [][]byte{
		dirRecord([]byte{0}, d.extent, d.size, true, t, self),
		dirRecord([]byte{1}, d.parent.extent, d.parent.size, true, t, append(rrPX(d.parent), rrTF(t)...)),
	}
	for _, k := range d.pKids {
		su := append(append(rrPX(k), rrTF(t)...), rrNM(k.name)...)
		recs = append(recs, dirRecord(k.isoID(), k.extent, k.size, k.dir, t, su))
	}
	return recs
}

func jolietRecords(d *node, t time.Time) [][]byte {
	recs := [][]byte{
		dirRecord([]byte{0}, d.jExtent, d.jSize, true, t, nil),
		dirRecord([]byte{1}, d.parent.jExtent, d.parent.jSize, true, t, nil),
	}
	for _, k := range d.jKids {
		ext, size := k.extent, k.size
		if k.dir {
			ext, size = k.jExtent, k.jSize
		}
		recs = append(recs, dirRecord(k.jolietID, ext, size, k.dir, t, nil))
	}
	return recs
}

// pathTable is the L (little-endian) or M (big-endian) path table.
func pathTable(dirs []*node, joliet, bigEndian bool) []byte {
	var out []byte
	for _, d := range dirs {
		id, ext, parent := d.isoID(), d.extent, d.parent.pNum
		if joliet {
			id, ext, parent = d.jolietID, d.jExtent, d.parent.jNum
		}
		if d.parent == d {
			id = []byte{0}
		}
		e := make([]byte, 8, 8+len(id)+1)
		e[0] = byte(len(id))
		if bigEndian {
			binary.BigEndian.PutUint32(e[2:], ext)
			binary.BigEndian.PutUint16(e[6:], parent)
		} else {
			binary.LittleEndian.PutUint32(e[2:], ext)
			binary.LittleEndian.PutUint16(e[6:], parent)
		}
		e = append(e, id...)
		if len(id)%2 == 1 {
			e = append(e, 0)
		}
		out = append(out, e...)
	}
	return out
}
