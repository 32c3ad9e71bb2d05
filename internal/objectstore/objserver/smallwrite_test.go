package objserver

import (
	"os"
	"path/filepath"
	"testing"
)

// mkdirFirst makes what is missing, whatever is there already.
func TestMkdirFirst(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "objects", "7", "ee9", "hash")
	for range 2 { // made, then already there
		if err := mkdirFirst(deep); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(deep); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", deep, err)
		}
	}
	if err := mkdirFirst(filepath.Join(root, "objects", "7", "ee9", "other")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mkdirFirst(filepath.Join(file, "sub", "dir")); err == nil {
		t.Fatal("made a directory under a file")
	}
}
