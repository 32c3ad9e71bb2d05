package objserver

import (
	"crypto/md5"
	"encoding/hex"
)

// HashPath is the cluster's secret salt (swift_hash_path_prefix/suffix). It
// must equal the ring's, or the node files objects under other names than
// the proxy asks for.
type HashPath struct {
	Prefix, Suffix string
}

// ObjectHash is Swift's hash_path(account, container, object).
func (h HashPath) ObjectHash(account, container, object string) string {
	sum := md5.Sum([]byte(h.Prefix + "/" + account + "/" + container + "/" + object + h.Suffix))
	return hex.EncodeToString(sum[:])
}

// suffixOf is the last three hex digits of an object hash: the group of
// objects that replication compares (a directory level in Swift's layout,
// not in kumo's: see layout.go).
func suffixOf(hash string) string { return hash[len(hash)-3:] }

func isHash(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isSuffix(s string) bool {
	if len(s) != 3 {
		return false
	}
	return isHash(s + "00000000000000000000000000000")
}
