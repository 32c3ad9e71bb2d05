package configdrive

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var stamp = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// sampleFiles has long, mixed-case names, an empty file, a multi-sector
// file and nesting deeper than the config drive needs.
func sampleFiles() []File {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes, 79 sectors
	return []File{
		{"openstack/latest/meta_data.json", []byte(`{"uuid":"d8e02d56"}`)},
		{"openstack/2012-08-10/meta_data.json", []byte(`{"uuid":"old"}`)},
		{"openstack/latest/user_data", []byte("#!/bin/sh\necho hello\n")},
		{"ec2/latest/meta-data.json", []byte(`{}`)},
		{"ec2/latest/Empty File", nil},
		{"a/b/c/d/e/f/g/h/i/A Long Mixed-Case Name With.Several.Dots.txt", big},
		{"a/b/meta_data.json2", []byte("collides with meta_data.json in 8.3")},
		{"a/b/meta_data.json", []byte("the other one")},
		{"a/ünïcödé-名前.txt", []byte("utf-8 in Rock Ridge, UCS-2 in Joliet")},
		{"a/" + strings.Repeat("名", 46) + "a", []byte("a 139-byte name, the longest allowed")},
		{"zz/empty, and the last file", nil},
	}
}

func fileNames(files []File) []string {
	var out []string
	dirs := map[string]bool{}
	for _, f := range files {
		out = append(out, "/"+f.Path)
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			dirs["/"+d] = true
		}
	}
	for d := range dirs {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// listing is `isoinfo -f` output as a sorted list; Joliet names carry
// their ";1" version, which every reader drops.
func listing(out []byte) []string {
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			names = append(names, strings.TrimSuffix(l, ";1"))
		}
	}
	sort.Strings(names)
	return names
}

func TestISOReadByIsoinfo(t *testing.T) {
	needTool(t, "isoinfo")
	files := sampleFiles()
	img, err := BuildISO(files, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	p := writeImage(t, img)

	d := string(run(t, "isoinfo", "-d", "-i", p))
	for _, want := range []string{"Volume id: config-2\n", "Joliet with UCS level 3 found", "Rock Ridge signatures version 1 found",
		fmt.Sprintf("Volume size is: %d\n", len(img)/2048)} {
		if !strings.Contains(d, want) {
			t.Errorf("isoinfo -d lacks %q:\n%s", want, d)
		}
	}
	// isoinfo can show Joliet names only in 8-bit charsets, so its Joliet
	// reader gets an image of the ASCII names; xorriso and the Linux guest
	// test read the others through Joliet.
	var ascii []File
	for _, f := range files {
		if isASCII(f.Path) {
			ascii = append(ascii, f)
		}
	}
	jimg, err := BuildISO(ascii, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	jp := writeImage(t, jimg)
	for _, c := range []struct {
		mode, path string
		files      []File
	}{{"-R", p, files}, {"-J", jp, ascii}} {
		want := fileNames(c.files)
		if got := listing(run(t, "isoinfo", c.mode, "-f", "-i", c.path)); !slices.Equal(got, want) {
			t.Errorf("isoinfo %s -f:\n got %q\nwant %q", c.mode, got, want)
		}
		for _, f := range c.files {
			if got := run(t, "isoinfo", c.mode, "-x", "/"+f.Path, "-i", c.path); !bytes.Equal(got, f.Data) {
				t.Errorf("isoinfo %s -x /%s: %d bytes, want %d", c.mode, f.Path, len(got), len(f.Data))
			}
		}
	}
	// The primary tree stays plain level 1 (8.3, upper case) for old readers.
	for _, n := range listing(run(t, "isoinfo", "-f", "-i", p)) {
		for _, part := range strings.Split(strings.Trim(n, "/"), "/") {
			base, ext, _ := strings.Cut(part, ".")
			if len(base) > 8 || len(ext) > 3 || strings.ToUpper(part) != part {
				t.Errorf("primary name %q is not level 1", n)
			}
		}
	}
}

func TestISOReadByXorriso(t *testing.T) {
	needTool(t, "xorriso")
	files := sampleFiles()
	img, err := BuildISO(files, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	p := writeImage(t, img)
	for _, readFS := range []string{"any", "norock"} { // Rock Ridge, then Joliet
		cmd := exec.Command("xorriso", "-abort_on", "FAILURE", "-report_about", "WARNING", "-local_charset", "UTF-8",
			"-read_fs", readFS, "-indev", p, "-find", "/", "-exec", "lsdl")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xorriso: %v\n%s", err, out)
		}
		s := string(out)
		for _, bad := range []string{"WARNING", "SORRY", "FAILURE"} {
			if strings.Contains(s, bad) {
				t.Errorf("xorriso -read_fs %s reports %s:\n%s", readFS, bad, s)
			}
		}
		for _, n := range fileNames(files) {
			if !strings.Contains(s, "'"+n+"'") {
				t.Errorf("xorriso -read_fs %s does not list %q:\n%s", readFS, n, s)
			}
		}
		// Rock Ridge modes come through: read-only files and directories.
		if readFS == "any" && (!strings.Contains(s, "-r--r--r--") || !strings.Contains(s, "dr-xr-xr-x")) {
			t.Errorf("xorriso shows no Rock Ridge modes:\n%s", s)
		}
	}
	// Extract one file through xorriso and compare the bytes.
	dst := filepath.Join(t.TempDir(), "md.json")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", p, "-extract", "/openstack/latest/meta_data.json", dst).CombinedOutput(); err != nil {
		t.Fatalf("xorriso -extract: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, files[0].Data) {
		t.Errorf("xorriso extracted %q, want %q", got, files[0].Data)
	}
}

func TestISOLabelByBlkid(t *testing.T) {
	needTool(t, "blkid")
	img, err := BuildISO(sampleFiles(), "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	p := writeImage(t, img)
	if got := strings.TrimSpace(string(run(t, "blkid", "-p", "-o", "value", "-s", "LABEL", p))); got != "config-2" {
		t.Errorf("blkid LABEL = %q, want config-2", got)
	}
	if got := strings.TrimSpace(string(run(t, "blkid", "-p", "-o", "value", "-s", "TYPE", p))); got != "iso9660" {
		t.Errorf("blkid TYPE = %q, want iso9660", got)
	}
}

func TestISODeterministic(t *testing.T) {
	a, err := BuildISO(sampleFiles(), "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	files := sampleFiles()
	slices.Reverse(files) // input order must not matter either
	b, err := BuildISO(files, "config-2", stamp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same files gave different images")
	}
	c, err := BuildISO(sampleFiles(), "config-2", stamp.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("the timestamp is not recorded")
	}
}

func TestISORejectsBadInput(t *testing.T) {
	long := strings.Repeat("x", 65)
	for name, files := range map[string][]File{
		"empty component": {{"a//b", nil}},
		"dot":             {{"a/./b", nil}},
		"dotdot":          {{"../b", nil}},
		"absolute":        {{"/b", nil}},
		"too long":        {{long, nil}},
		"duplicate":       {{"a/b", nil}, {"a/b", nil}},
		"file and dir":    {{"a/b", nil}, {"a/b/c", nil}},
		"bad utf8":        {{"a/\xff", nil}},
		"joliet collide":  {{"a:b", nil}, {"a_b", nil}},
	} {
		if _, err := BuildISO(files, "config-2", stamp); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := BuildISO(nil, "config-2", time.Time{}); err == nil {
		t.Error("zero timestamp: no error")
	}
	if _, err := BuildISO(nil, strings.Repeat("v", 33), stamp); err == nil {
		t.Error("33-byte volume id: no error")
	}
	// 64 characters is the most Joliet allows, and it works.
	if _, err := BuildISO([]File{{strings.Repeat("y", 64), nil}}, "config-2", stamp); err != nil {
		t.Errorf("64-character name: %v", err)
	}
}

// TestISORandomTrees builds random trees and reads every name and byte
// back through isoinfo's Rock Ridge and Joliet readers.
func TestISORandomTrees(t *testing.T) {
	needTool(t, "isoinfo")
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- "
	name := func() string {
		n := 1 + rng.Intn(64)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		s := strings.Trim(string(b), " ")
		if s == "" || s == "." || s == ".." {
			s = "n"
		}
		return s
	}
	deadline := time.Now().Add(40 * time.Second)
	total := 0
	defer func() { t.Logf("%d files checked", total) }()
	for round := 0; round < 30 && time.Now().Before(deadline); round++ {
		seen := map[string]bool{}
		dirs := []string{""}
		var files []File
		for i := 0; i < 3+rng.Intn(25); i++ {
			parent := dirs[rng.Intn(len(dirs))]
			p := strings.TrimPrefix(parent+"/"+name(), "/")
			if seen[p] {
				continue // names differing only in case are kept: both trees preserve case
			}
			seen[p] = true
			if rng.Intn(3) == 0 {
				dirs = append(dirs, p)
				continue
			}
			data := make([]byte, rng.Intn(200<<10+1))
			rng.Read(data)
			files = append(files, File{p, data})
		}
		// A directory with no file under it is not recorded; drop those
		// names from the expected list by listing only what files imply.
		img, err := BuildISO(files, "config-2", stamp)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		p := writeImage(t, img)
		want := fileNames(files)
		for _, mode := range []string{"-R", "-J"} {
			got := listing(run(t, "isoinfo", mode, "-f", "-i", p))
			if !slices.Equal(got, want) {
				t.Fatalf("round %d isoinfo %s -f:\n got %q\nwant %q", round, mode, got, want)
			}
		}
		for _, f := range files {
			total++
			got := run(t, "isoinfo", "-R", "-x", "/"+f.Path, "-i", p)
			if !bytes.Equal(got, f.Data) {
				t.Fatalf("round %d: /%s: %d bytes back, want %d", round, f.Path, len(got), len(f.Data))
			}
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
