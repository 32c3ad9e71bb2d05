package configdrive

// imageLayout is where everything goes, in sectors.
type imageLayout struct {
	pDirs, jDirs    []*node // breadth-first: the order path tables require
	files           []*node
	ptSize, jptSize uint32 // path table lengths in bytes
	ptL, ptM        uint32
	jptL, jptM      uint32
	ceLBA           uint32 // SUSP continuation area (the ER entry)
	total           uint32
}

func layout(root *node) *imageLayout {
	l := &imageLayout{
		pDirs: breadthFirst(root, func(n *node) []*node { return n.pKids }),
		jDirs: breadthFirst(root, func(n *node) []*node { return n.jKids }),
	}
	for i, d := range l.pDirs {
		d.pNum = uint16(i + 1)
	}
	for i, d := range l.jDirs {
		d.jNum = uint16(i + 1)
	}
	l.ptSize = uint32(len(pathTable(l.pDirs, false, false)))
	l.jptSize = uint32(len(pathTable(l.jDirs, true, false)))
	lba := uint32(firstVD + 3)
	next := func(bytes uint32) uint32 {
		at := lba
		lba += (bytes + sectorSize - 1) / sectorSize
		return at
	}
	l.ptL, l.ptM = next(l.ptSize), next(l.ptSize)
	l.jptL, l.jptM = next(l.jptSize), next(l.jptSize)
	l.ceLBA = next(sectorSize)
	// Directory lengths do not depend on extents, so size them first.
	for _, d := range l.pDirs {
		d.size = uint32(len(pack(primaryRecords(d, root, 0, time0)))) // placeholder extents
	}
	for _, d := range l.jDirs {
		d.jSize = uint32(len(pack(jolietRecords(d, time0))))
	}
	for _, d := range l.pDirs {
		d.extent = next(d.size)
	}
	for _, d := range l.jDirs {
		d.jExtent = next(d.jSize)
	}
	var walk func(d *node)
	walk = func(d *node) {
		for _, k := range d.pKids {
			if k.dir {
				walk(k)
				continue
			}
			// An empty file points at the next free sector and takes none.
			k.extent = next(k.size)
			l.files = append(l.files, k)
		}
	}
	walk(root)
	// Like genisoimage, an empty file points at the next free sector; keep
	// that sector inside the image when an empty file comes last.
	if n := len(l.files); n > 0 && l.files[n-1].size == 0 && l.files[n-1].extent == lba {
		lba++
	}
	l.total = lba
	return l
}

func breadthFirst(root *node, kids func(*node) []*node) []*node {
	out := []*node{root}
	for i := 0; i < len(out); i++ {
		for _, k := range kids(out[i]) {
			if k.dir {
				out = append(out, k)
			}
		}
	}
	return out
}

// pack places directory records in sectors; a record never crosses a
// sector boundary (ECMA-119 6.8.1.1).
func pack(recs [][]byte) []byte {
	var out []byte
	for _, r := range recs {
		if room := sectorSize - len(out)%sectorSize; len(r) > room {
			out = append(out, make([]byte, room)...)
		}
		out = append(out, r...)
	}
	if rem := len(out) % sectorSize; rem != 0 {
		out = append(out, make([]byte, sectorSize-rem)...)
	}
	return out
}
