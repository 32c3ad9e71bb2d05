package configdrive

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"
)

type writer struct {
	img  []byte
	t    time.Time
	l    *imageLayout
	root *node
}

func (w *writer) sector(lba uint32) []byte {
	return w.img[lba*sectorSize : (lba+1)*sectorSize]
}

// volumeDescriptors writes the primary descriptor, the Joliet
// supplementary descriptor (UCS-2 level 3, escape "%/E") and the
// terminator.
func (w *writer) volumeDescriptors(volumeID string) {
	l := w.l
	root := l.pDirs[0]
	for i, joliet := range []bool{false, true} {
		b := w.sector(firstVD + uint32(i))
		b[0] = 1
		str := ascii
		ptSize, ptL, ptM := l.ptSize, l.ptL, l.ptM
		rootRec := dirRecord([]byte{0}, root.extent, root.size, true, w.t, nil)
		if joliet {
			b[0] = 2
			copy(b[88:], "%/E")
			str = ucs2
			ptSize, ptL, ptM = l.jptSize, l.jptL, l.jptM
			rootRec = dirRecord([]byte{0}, root.jExtent, root.jSize, true, w.t, nil)
		}
		copy(b[1:], "CD001")
		b[6] = 1
		str(b[8:40], "LINUX")
		str(b[40:72], volumeID)
		both32(b[80:], l.total)
		both16(b[120:], 1) // volume set size
		both16(b[124:], 1) // volume sequence number
		both16(b[128:], sectorSize)
		both32(b[132:], ptSize)
		binary.LittleEndian.PutUint32(b[140:], ptL)
		binary.BigEndian.PutUint32(b[148:], ptM)
		copy(b[156:190], rootRec)
		str(b[190:318], "")
		str(b[318:446], "KUMO")
		str(b[446:574], "")
		str(b[574:702], "KUMO CONFIGDRIVE")
		str(b[702:739], "")
		str(b[739:776], "")
		str(b[776:813], "")
		stamp17(b[813:], w.t)             // creation
		stamp17(b[830:], w.t)             // modification
		copy(b[847:], "0000000000000000") // expiration: none
		copy(b[864:], "0000000000000000") // effective: now
		b[881] = 1
	}
	term := w.sector(firstVD + 2)
	term[0] = 255
	copy(term[1:], "CD001")
	term[6] = 1
}

// pathTables writes the four tables; each may span several sectors.
func (w *writer) pathTables() {
	l := w.l
	copy(w.img[l.ptL*sectorSize:], pathTable(l.pDirs, false, false))
	copy(w.img[l.ptM*sectorSize:], pathTable(l.pDirs, false, true))
	copy(w.img[l.jptL*sectorSize:], pathTable(l.jDirs, true, false))
	copy(w.img[l.jptM*sectorSize:], pathTable(l.jDirs, true, true))
}

func (w *writer) primaryDir(d *node) {
	copy(w.img[d.extent*sectorSize:], pack(primaryRecords(d, w.root, w.l.ceLBA, w.t)))
}

func (w *writer) jolietDir(d *node) {
	copy(w.img[d.jExtent*sectorSize:], pack(jolietRecords(d, w.t)))
}

// ascii fills a descriptor field, space padded.
func ascii(b []byte, s string) {
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
}

// ucs2 fills a Joliet descriptor field with UCS-2 big-endian, padded
// with UCS-2 spaces (an odd trailing byte stays 0).
func ucs2(b []byte, s string) {
	u := utf16.Encode([]rune(s))
	for i := 0; i+1 < len(b); i += 2 {
		c := uint16(' ')
		if i/2 < len(u) {
			c = u[i/2]
		}
		binary.BigEndian.PutUint16(b[i:], c)
	}
}

// stamp17 is the volume descriptor date: 16 digits and a zone byte.
func stamp17(b []byte, t time.Time) {
	copy(b, fmt.Sprintf("%04d%02d%02d%02d%02d%02d%02d",
		t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e7))
	b[16] = 0
}
