package containerserver

import (
	"crypto/md5"
	"encoding/hex"
	"path/filepath"
	"strconv"
)

// HashPath is the cluster's secret path salt (swift_hash_path_prefix and
// suffix). It must match the ring's, so a database lives where the ring says.
type HashPath struct {
	Prefix, Suffix string
}

// Hash is Swift's hash_path: md5 of prefix + "/account[/container]" + suffix.
func (h HashPath) Hash(account, container string) string {
	p := h.Prefix + "/" + account
	if container != "" {
		p += "/" + container
	}
	sum := md5.Sum([]byte(p + h.Suffix))
	return hex.EncodeToString(sum[:])
}

// Kind names the two database types; it is also their directory name.
type Kind string

const (
	KindContainer Kind = "containers"
	KindAccount   Kind = "accounts"
)

// dbPath places a database as Swift does:
// <root>/<dev>/<kind>/<part>/<last 3 hex of hash>/<hash>/<hash>.db.
func dbPath(root, dev string, kind Kind, part int, hash string) string {
	return filepath.Join(root, dev, string(kind), strconv.Itoa(part), hash[len(hash)-3:], hash, hash+".db")
}
