package objserver

import (
	"os"
	"path/filepath"
	"testing"
)

// An older kumo filed each hash directory under a suffix directory. A
// store that opens on such a device moves them up into the partition,
// keeps the newest version of an object found in both places, and
// computes the same suffix hashes as a store that never had suffix
// directories.
func TestOpenFlattensSuffixDirectories(t *testing.T) {
	const pathB = "/sdb1/7/AUTH_a/photos/dogs/rex.jpg"
	writeAll := func(n *testNode, between func()) {
		expectStatus(t, n.put(objPath, "1700000000.1", []byte("cat"), nil), 201, "PUT a")
		expectStatus(t, n.put(pathB, "1700000000.1", []byte("dog v1"), nil), 201, "PUT b")
		between()
		expectStatus(t, n.put(pathB, "1700000000.2", []byte("dog v2"), nil), 201, "PUT b v2")
	}
	ref := newTestNode(t, []string{"sdb1"}, nil)
	writeAll(ref, func() {})
	want, err := ref.store.suffixHashes("sdb1", "7", nil)
	if err != nil || len(want) != 2 {
		t.Fatalf("reference hashes %v, %v", want, err)
	}

	n := newTestNode(t, []string{"sdb1"}, nil)
	dirA := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "cats/tabby.jpg")
	dirB := n.hashDirOf("sdb1", "7", "AUTH_a", "photos", "dogs/rex.jpg")
	inSuffix := func(dir string) string {
		return filepath.Join(filepath.Dir(dir), suffixOf(filepath.Base(dir)), filepath.Base(dir))
	}
	// Both objects move where an older kumo had them; then b gets a newer
	// version in the flat place, so b is in both.
	writeAll(n, func() {
		for _, dir := range []string{dirA, dirB} {
			if err := os.MkdirAll(filepath.Dir(inSuffix(dir)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dir, inSuffix(dir)); err != nil {
				t.Fatal(err)
			}
		}
	})
	if got := filesIn(t, dirB); len(got) != 1 || got[0] != "1700000000.20000.data" {
		t.Fatalf("flat dir of b before the restart holds %v", got)
	}

	restarted, err := NewStore(n.store.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	for _, dir := range []string{dirA, dirB} {
		if _, err := os.Stat(filepath.Dir(inSuffix(dir))); !os.IsNotExist(err) {
			t.Fatalf("suffix directory of %s still there (%v)", dir, err)
		}
	}
	if got := filesIn(t, dirA); len(got) != 1 || got[0] != "1700000000.10000.data" {
		t.Fatalf("a's dir holds %v", got)
	}
	if got := filesIn(t, dirB); len(got) != 1 || got[0] != "1700000000.20000.data" {
		t.Fatalf("b's dir holds %v", got)
	}
	got, err := restarted.suffixHashes("sdb1", "7", nil)
	if err != nil || !sameHashes(got, want) {
		t.Fatalf("hashes after the move %v (%v), want %v", got, err, want)
	}
}
