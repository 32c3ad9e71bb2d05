package configdrive

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// checkName rejects names no reader could show back unchanged.
func checkName(p string) error {
	switch {
	case p == "" || p == "." || p == "..":
		return fmt.Errorf("bad name %q", p)
	case !utf8.ValidString(p) || strings.ContainsRune(p, 0):
		return errors.New("name is not valid UTF-8 without NUL")
	case len(p) > maxNameUTF8:
		return fmt.Errorf("name %q longer than %d bytes", p, maxNameUTF8)
	case len(utf16.Encode([]rune(p))) > maxNameUCS2:
		return fmt.Errorf("name %q longer than %d UCS-2 characters", p, maxNameUCS2)
	}
	return nil
}

// nameTree gives every node its primary (8.3, d-characters) and Joliet
// identifiers, unique within each directory, and sorts both child lists.
func nameTree(d *node) error {
	names := make([]string, 0, len(d.kids))
	for n := range d.kids {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic choice of who gets a suffix
	usedP := map[string]bool{}
	usedJ := map[string]bool{}
	for _, n := range names {
		k := d.kids[n]
		k.base, k.ext = primaryName(k.name, k.dir, usedP)
		k.jolietID = jolietName(k.name)
		if usedJ[string(k.jolietID)] {
			return fmt.Errorf("iso9660: names in %q collide in Joliet", d.name)
		}
		usedJ[string(k.jolietID)] = true
		d.pKids = append(d.pKids, k)
		d.jKids = append(d.jKids, k)
		if k.dir {
			if err := nameTree(k); err != nil {
				return err
			}
		}
	}
	// ECMA-119 9.3: identifiers compare as if padded with spaces.
	sort.Slice(d.pKids, func(i, j int) bool {
		a, b := d.pKids[i], d.pKids[j]
		if c := padCompare(a.base, b.base); c != 0 {
			return c < 0
		}
		return padCompare(a.ext, b.ext) < 0
	})
	sort.Slice(d.jKids, func(i, j int) bool {
		return bytes.Compare(d.jKids[i].jolietID, d.jKids[j].jolietID) < 0
	})
	return nil
}

func padCompare(a, b string) int {
	for len(a) < len(b) {
		a += " "
	}
	for len(b) < len(a) {
		b += " "
	}
	return strings.Compare(a, b)
}

// primaryName maps a name to ISO9660 level 1 (8.3 upper-case d-characters),
// adding a numeric suffix when two names map to the same identifier.
func primaryName(name string, dir bool, used map[string]bool) (string, string) {
	base, ext := name, ""
	if !dir {
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			base, ext = name[:i], name[i+1:]
		}
	}
	base, ext = dchars(base, 8), dchars(ext, 3)
	if base == "" {
		base = "_"
	}
	b := base
	for n := 1; used[b+"."+ext]; n++ {
		s := strconv.Itoa(n)
		b = base
		if len(b)+len(s) > 8 {
			b = b[:8-len(s)]
		}
		b += s
	}
	used[b+"."+ext] = true
	return b, ext
}

func dchars(s string, max int) string {
	var out []byte
	for _, r := range strings.ToUpper(s) {
		if len(out) == max {
			break
		}
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			out = append(out, byte(r))
		} else {
			out = append(out, '_')
		}
	}
	return string(out)
}

// jolietName is the UCS-2 big-endian identifier; characters Joliet
// forbids become '_'. Like genisoimage (and so like Nova's drives), file
// names carry no ";1" version, which keeps 64-character names legal.
func jolietName(name string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(name)) {
		if u < 0x20 || strings.ContainsRune(`*/:;?\`, rune(u)) {
			u = '_'
		}
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}
