package configdrive

import "time"

// System Use Sharing Protocol (IEEE P1281) and Rock Ridge (IEEE P1282,
// RRIP 1.10 "RRIP_1991A") entries. Each starts with a two-letter
// signature, its length and version 1.

func suspSP() []byte { return []byte{'S', 'P', 7, 1, 0xBE, 0xEF, 0} }

// suspCE points at a continuation area; the block is filled in by the
// writer once the layout is known.
func suspCE(block, off, length uint32) []byte {
	e := make([]byte, 28)
	copy(e, []byte{'C', 'E', 28, 1})
	both32(e[4:], block)
	both32(e[12:], off)
	both32(e[20:], length)
	return e
}

const (
	erID  = "RRIP_1991A"
	erDes = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS"
	erSrc = "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION."
)

func suspER() []byte {
	e := []byte{'E', 'R', byte(8 + len(erID) + len(erDes) + len(erSrc)), 1,
		byte(len(erID)), byte(len(erDes)), byte(len(erSrc)), 1}
	return append(append(append(e, erID...), erDes...), erSrc...)
}

// rrPX gives read-only POSIX modes: directories 0555, files 0444.
func rrPX(n *node) []byte {
	mode, links := uint32(0o100444), uint32(1)
	if n.dir {
		mode, links = 0o040555, uint32(2+n.subdirs)
	}
	e := make([]byte, 36)
	copy(e, []byte{'P', 'X', 36, 1})
	both32(e[4:], mode)
	both32(e[12:], links)
	// uid and gid stay 0 (root)
	return e
}

// rrTF records modify, access and attribute-change times, short form.
func rrTF(t time.Time) []byte {
	e := make([]byte, 26)
	copy(e, []byte{'T', 'F', 26, 1, 0x0E})
	for i := 0; i < 3; i++ {
		stamp7(e[5+7*i:], t)
	}
	return e
}

func rrNM(name string) []byte {
	return append([]byte{'N', 'M', byte(5 + len(name)), 1, 0}, name...)
}
