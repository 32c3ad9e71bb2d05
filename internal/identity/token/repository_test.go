package token

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyFiles lists the names in dir that are key files, in index order.
func keyFiles(t *testing.T, dir string) []string {
	t.Helper()
	indexes, err := keyIndexes(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range indexes {
		names = append(names, strconv.Itoa(i))
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func setup(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fernet-keys")
	if err := Setup(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSetup(t *testing.T) {
	dir := setup(t)
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "1"}) {
		t.Fatalf("keys after setup = %v, want [0 1]", got)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode = %o, want 700", perm)
	}
	for _, name := range []string{"0", "1"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("key %s mode = %o, want 600", name, perm)
		}
		if text := readFile(t, filepath.Join(dir, name)); len(text) != 44 {
			t.Errorf("key %s = %q, want 44 characters", name, text)
		}
	}
	if readFile(t, filepath.Join(dir, "0")) == readFile(t, filepath.Join(dir, "1")) {
		t.Error("keys 0 and 1 are equal")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("setup left %d files, want 2", len(entries))
	}

	// Idempotent: a second Setup changes nothing.
	k0, k1 := readFile(t, filepath.Join(dir, "0")), readFile(t, filepath.Join(dir, "1"))
	if err := Setup(dir); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(dir, "0")) != k0 || readFile(t, filepath.Join(dir, "1")) != k1 {
		t.Error("second Setup changed the keys")
	}
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "1"}) {
		t.Errorf("keys after second setup = %v", got)
	}

	// A missing staged key is written again; the primary stays.
	os.Remove(filepath.Join(dir, "0"))
	if err := Setup(dir); err != nil {
		t.Fatal(err)
	}
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "1"}) {
		t.Errorf("keys after repair = %v", got)
	}
	if readFile(t, filepath.Join(dir, "1")) != k1 {
		t.Error("repairing setup changed the primary")
	}
}

func TestRotate(t *testing.T) {
	dir := setup(t)
	want := [][]string{
		{"0", "1", "2"},
		{"0", "2", "3"},
		{"0", "3", "4"},
	}
	for _, w := range want {
		staged := readFile(t, filepath.Join(dir, "0"))
		if err := Rotate(dir, DefaultMaxActiveKeys); err != nil {
			t.Fatal(err)
		}
		got := keyFiles(t, dir)
		if !slices.Equal(got, w) {
			t.Fatalf("keys = %v, want %v", got, w)
		}
		primary := filepath.Join(dir, got[len(got)-1])
		if readFile(t, primary) != staged {
			t.Error("new primary is not the old staged key")
		}
		if readFile(t, filepath.Join(dir, "0")) == staged {
			t.Error("staged key not replaced")
		}
		for _, name := range got {
			info, _ := os.Stat(filepath.Join(dir, name))
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("key %s mode = %o", name, perm)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("rotation left %d files, want 3", len(entries))
	}

	// A larger maxActive keeps more keys; a smaller one purges down to it.
	for range 3 {
		if err := Rotate(dir, 5); err != nil {
			t.Fatal(err)
		}
	}
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "4", "5", "6", "7"}) {
		t.Errorf("keys with max 5 = %v", got)
	}
	if err := Rotate(dir, 2); err != nil {
		t.Fatal(err)
	}
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "8"}) {
		t.Errorf("keys with max 2 = %v", got)
	}

	if err := Rotate(dir, 1); err == nil {
		t.Error("Rotate with max 1 accepted")
	}
	if err := Rotate(t.TempDir(), 3); err == nil {
		t.Error("Rotate of an empty directory accepted")
	}
}

func TestRotateCompletesInterruptedRotation(t *testing.T) {
	dir := setup(t)
	// A rotation that stopped right after promoting key 0.
	if err := os.Rename(filepath.Join(dir, "0"), filepath.Join(dir, "2")); err != nil {
		t.Fatal(err)
	}
	if err := Rotate(dir, 3); err != nil {
		t.Fatal(err)
	}
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("keys = %v, want [0 1 2]", got)
	}
}

func TestRotateRefusesBrokenStagedKey(t *testing.T) {
	dir := setup(t)
	os.WriteFile(filepath.Join(dir, "0"), []byte("garbage"), 0o600)
	err := Rotate(dir, 3)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "0")) {
		t.Errorf("err = %v, want one naming key file 0", err)
	}
	if got := keyFiles(t, dir); !slices.Equal(got, []string{"0", "1"}) {
		t.Errorf("keys = %v, want them untouched", got)
	}
}

func TestRotationAndTokens(t *testing.T) {
	dir := setup(t)
	keys, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := keys.Seal(samplePayload())
	if err != nil {
		t.Fatal(err)
	}

	// After one rotation the old primary is a secondary: the token opens.
	if err := Rotate(dir, DefaultMaxActiveKeys); err != nil {
		t.Fatal(err)
	}
	keys, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(tok); err != nil {
		t.Fatalf("token of the old primary after one rotation: %v", err)
	}
	if keys.keys[0].index != 2 {
		t.Errorf("primary index = %d, want 2", keys.keys[0].index)
	}
	// A token made before the rotation with the staged key opens as well
	// (that is what staging is for).

	// After a second rotation key 1 is gone.
	if err := Rotate(dir, DefaultMaxActiveKeys); err != nil {
		t.Fatal(err)
	}
	keys, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("token of a rotated-out key: err = %v, want ErrInvalid", err)
	}
}

func TestStagedKeyDecryptsBeforePromotion(t *testing.T) {
	// Another node that has already rotated issues tokens with what is our
	// staged key; we must accept them.
	dir := setup(t)
	keys, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	staged := keysFromText(t, readFile(t, filepath.Join(dir, "0")))
	tok, err := staged.Seal(samplePayload())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(tok); err != nil {
		t.Errorf("token of the staged key: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := setup(t)
	// Files that are not keys are ignored, as are numeric directories.
	os.WriteFile(filepath.Join(dir, "README"), []byte("hello"), 0o600)
	os.WriteFile(filepath.Join(dir, ".tmp-key-123"), []byte("junk"), 0o600)
	os.Mkdir(filepath.Join(dir, "9"), 0o700)
	// A key with a trailing newline, as `echo` writes it, is fine.
	os.WriteFile(filepath.Join(dir, "5"), append(generateKey(), '\n'), 0o600)
	k, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, fk := range k.keys {
		idx = append(idx, fk.index)
	}
	if !slices.Equal(idx, []int{5, 1, 0}) {
		t.Errorf("key order = %v, want [5 1 0]", idx)
	}

	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty directory accepted")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing directory accepted")
	}
}

func TestLoadRejectsBadKeyFile(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":  "this is not a key",
		"short":    "c2hvcnQ=",
		"standard": "cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4=",
		"empty":    "",
	} {
		t.Run(name, func(t *testing.T) {
			dir := setup(t)
			bad := filepath.Join(dir, "3")
			os.WriteFile(bad, []byte(content), 0o600)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), bad) {
				t.Errorf("err = %v, want an error naming %s", err, bad)
			}
		})
	}
	dir := setup(t)
	os.WriteFile(filepath.Join(dir, "01"), generateKey(), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "01") {
		t.Errorf("key named 01: err = %v", err)
	}
}

func TestLoadFollowsSymlinks(t *testing.T) {
	// A Kubernetes secret volume: each key is a link into ..data/.
	src := setup(t)
	dir := t.TempDir()
	os.Symlink(src, filepath.Join(dir, "..data"))
	for _, name := range []string{"0", "1"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	k, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.keys) != 2 {
		t.Errorf("loaded %d keys through links, want 2", len(k.keys))
	}
}

func TestRepositoryReloads(t *testing.T) {
	dir := setup(t)
	r, err := OpenRepository(dir)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := r.Keys()
	if err != nil {
		t.Fatal(err)
	}
	// Within the interval nothing is looked at.
	if err := Rotate(dir, 3); err != nil {
		t.Fatal(err)
	}
	if k, _ := r.Keys(); k != k1 {
		t.Error("Keys reloaded within the interval")
	}

	r.interval = 0
	k2, err := r.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if k2.keys[0].index != 2 {
		t.Fatalf("primary after rotation = %d, want 2", k2.keys[0].index)
	}
	// An unchanged directory with an old mtime is not read again.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dir, old, old)
	k3, _ := r.Keys()
	if k4, _ := r.Keys(); k4 != k3 {
		t.Error("unchanged directory was read again")
	}

	// A broken file: the error comes with the last good keys.
	bad := filepath.Join(dir, "7")
	os.WriteFile(bad, []byte("broken"), 0o600)
	k5, err := r.Keys()
	if err == nil || !strings.Contains(err.Error(), bad) || k5 != k3 {
		t.Errorf("broken file: keys %p (want %p), err %v", k5, k3, err)
	}
	// Fixed again: after a failure every check reads the directory.
	os.Remove(bad)
	if k6, err := r.Keys(); err != nil || k6.keys[0].index != 2 {
		t.Errorf("after fix: %v, %v", k6, err)
	}

	if _, err := OpenRepository(t.TempDir()); err == nil {
		t.Error("OpenRepository of an empty directory accepted")
	}
}

func TestRepositoryConcurrentUse(t *testing.T) {
	dir := setup(t)
	r, err := OpenRepository(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.interval = time.Millisecond
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Microsecond):
				}
				k, err := r.Keys()
				if err != nil {
					t.Error(err)
					return
				}
				tok, err := k.Seal(samplePayload())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := k.Open(tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 20 {
		if err := Rotate(dir, 3); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	time.Sleep(2 * time.Millisecond)
	k, _ := r.Keys()
	if k.keys[0].index != 21 {
		t.Errorf("primary after 20 rotations = %d, want 21", k.keys[0].index)
	}
}

func TestConcurrentRotations(t *testing.T) {
	dir := setup(t)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := Rotate(dir, 20); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := keyFiles(t, dir)
	if len(got) != 12 {
		t.Errorf("after 10 concurrent rotations keys = %v, want 0..11", got)
	}
	if _, err := Load(dir); err != nil {
		t.Error(err)
	}
}
