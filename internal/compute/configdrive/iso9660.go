package configdrive

import (
	"fmt"
	"strings"
	"time"
)

// The writer lays the image out as ECMA-119 expects a reader to find it:
//
//	0-15   system area (zeros)
//	16     primary volume descriptor (Rock Ridge names live in its tree)
//	17     Joliet supplementary volume descriptor (UCS-2 names, for Windows)
//	18     volume descriptor set terminator
//	19-    path tables (L, M; primary then Joliet), the SUSP continuation
//	       area holding the ER entry, primary directories, Joliet
//	       directories, then file data shared by both trees.
const (
	sectorSize = 2048
	firstVD    = 16
	// A file record is 33 + 14 (8.3 id ";1") + 1 pad + PX 36 + TF 26 +
	// NM (5 + name) bytes, rounded up to even; its length is one byte.
	maxNameUTF8 = 139
	maxNameUCS2 = 64        // Joliet's limit on a file identifier
	maxFileSize = 1<<32 - 1 // one extent; multi-extent files are not written
)

// File is one regular file of an image. Path is slash-separated and
// relative ("openstack/latest/meta_data.json"); directories are implied.
type File struct {
	Path string
	Data []byte
}

// BuildISO writes an ISO9660 image of files with Rock Ridge and Joliet
// names. Output depends only on its arguments: t stamps every record.
func BuildISO(files []File, volumeID string, t time.Time) ([]byte, error) {
	if len(volumeID) == 0 || len(volumeID) > 32 {
		return nil, fmt.Errorf("iso9660: volume id %q must be 1 to 32 bytes", volumeID)
	}
	if y := t.UTC().Year(); y < 1900 || y > 2155 {
		// directory records store the year as a byte after 1900
		return nil, fmt.Errorf("iso9660: timestamp %v is outside 1900-2155", t)
	}
	root, err := buildTree(files)
	if err != nil {
		return nil, err
	}
	l := layout(root)
	if len(l.pDirs) > 0xFFFF {
		return nil, fmt.Errorf("iso9660: %d directories; path tables number at most 65535", len(l.pDirs))
	}
	img := make([]byte, int(l.total)*sectorSize)
	t = t.UTC()
	w := &writer{img: img, t: t, l: l, root: root}
	w.volumeDescriptors(volumeID)
	w.pathTables()
	copy(img[l.ceLBA*sectorSize:], suspER())
	for _, d := range l.pDirs {
		w.primaryDir(d)
	}
	for _, d := range l.jDirs {
		w.jolietDir(d)
	}
	for _, f := range l.files {
		copy(img[f.extent*sectorSize:], f.data)
	}
	return img, nil
}

// node is a file or directory in both trees at once.
type node struct {
	name     string // the real name (Rock Ridge NM, Joliet)
	base     string // primary identifier parts, for 8.3 names and sorting
	ext      string
	dir      bool
	data     []byte
	parent   *node
	kids     map[string]*node
	pKids    []*node // in primary identifier order
	jKids    []*node // in Joliet identifier order
	extent   uint32  // file data, or primary directory
	size     uint32  // file length, or primary directory length
	jExtent  uint32
	jSize    uint32
	pNum     uint16 // path table numbers
	jNum     uint16
	subdirs  int
	jolietID []byte
}

func (n *node) isoID() []byte {
	if n.dir {
		return []byte(n.base)
	}
	return []byte(n.base + "." + n.ext + ";1")
}

func buildTree(files []File) (*node, error) {
	root := &node{dir: true, kids: map[string]*node{}}
	root.parent = root
	for _, f := range files {
		parts := strings.Split(f.Path, "/")
		cur := root
		for i, p := range parts {
			if err := checkName(p); err != nil {
				return nil, fmt.Errorf("iso9660: path %q: %w", f.Path, err)
			}
			last := i == len(parts)-1
			k, ok := cur.kids[p]
			switch {
			case ok && (last || !k.dir):
				return nil, fmt.Errorf("iso9660: path %q: duplicate or conflicting entry", f.Path)
			case ok:
				cur = k
				continue
			}
			k = &node{name: p, parent: cur, dir: !last}
			if last && len(f.Data) > maxFileSize {
				return nil, fmt.Errorf("iso9660: %q is larger than %d bytes", f.Path, maxFileSize)
			}
			if last {
				k.data = f.Data
				k.size = uint32(len(f.Data))
			} else {
				k.kids = map[string]*node{}
				cur.subdirs++
			}
			cur.kids[p] = k
			cur = k
		}
	}
	if err := nameTree(root); err != nil {
		return nil, err
	}
	return root, nil
}
