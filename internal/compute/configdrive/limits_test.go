package configdrive

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// A 139-byte (the longest allowed) Rock Ridge name whose 8.3 identifier is full length
// ("________.TXT;1") makes the longest directory record: it must still fit
// the record's one-byte length.
func TestISOLongestRecordReadBack(t *testing.T) {
	needTool(t, "isoinfo")
	name := strings.Repeat("名", 45) + ".txt" // 139 bytes, 49 UCS-2 characters
	if len(name) != maxNameUTF8 {
		t.Fatalf("test name is %d bytes, want %d", len(name), maxNameUTF8)
	}
	if _, err := BuildISO([]File{{"d/x" + name, nil}}, "config-2", stamp); err == nil {
		t.Error("a 140-byte name was accepted")
	}
	files := []File{{"d/" + name, []byte("longest record")}, {"d/z", []byte("after it")}}
	img, err := BuildISO(files, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	p := writeImage(t, img)
	if got, want := listing(run(t, "isoinfo", "-R", "-f", "-i", p)), fileNames(files); !slices.Equal(got, want) {
		t.Fatalf("isoinfo -R -f:\n got %q\nwant %q", got, want)
	}
	for _, f := range files {
		if got := run(t, "isoinfo", "-R", "-x", "/"+f.Path, "-i", p); !bytes.Equal(got, f.Data) {
			t.Errorf("/%s: got %q, want %q", f.Path, got, f.Data)
		}
	}
}

// Path tables longer than one sector are written whole.
func TestISOPathTableOverOneSector(t *testing.T) {
	var files []File
	for i := range 300 {
		files = append(files, File{Path: "dir" + strings.Repeat("x", i%20) + string(rune('a'+i%26)) + "/" + strings.Repeat("y", i/26+1) + "/f", Data: []byte{byte(i)}})
	}
	img, err := BuildISO(files, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	root, err := buildTree(files)
	if err != nil {
		t.Fatal(err)
	}
	l := layout(root)
	for _, vd := range []int{firstVD, firstVD + 1} { // primary, Joliet
		pvd := img[vd*sectorSize:]
		size := binary.LittleEndian.Uint32(pvd[132:])
		lba := binary.LittleEndian.Uint32(pvd[140:])
		if size <= sectorSize {
			t.Fatalf("descriptor %d: path table only %d bytes; the test needs more than a sector", vd, size)
		}
		want := pathTable(l.pDirs, false, false)
		if vd == firstVD+1 {
			want = pathTable(l.jDirs, true, false)
		}
		if got := img[lba*sectorSize : lba*sectorSize+size]; !bytes.Equal(got, want) {
			t.Errorf("descriptor %d: L path table on disk differs from the %d-byte table", vd, len(want))
		}
	}
}
