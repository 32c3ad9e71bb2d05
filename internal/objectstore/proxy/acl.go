package proxy

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// containerACL is a parsed X-Container-Read or X-Container-Write, as
// Swift's acl.parse_acl: referrer rules (.r:), .rlistings, and identity
// entries ("project:user", "project:*", ...).
type containerACL struct {
	referrers []string
	listings  bool
	groups    []string
}

func parseContainerACL(v string) containerACL {
	var a containerACL
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case e == ".rlistings":
			a.listings = true
		case strings.HasPrefix(e, ".r:"):
			a.referrers = append(a.referrers, e[3:])
		default:
			a.groups = append(a.groups, e)
		}
	}
	return a
}

var errACL = errors.New("invalid ACL")

// cleanACL normalizes an ACL header as Swift's clean_acl and rejects what
// Swift rejects (400): unknown designators, empty referrer hosts, and
// referrer rules in a write ACL.
func cleanACL(header, v string) (string, error) {
	var out []string
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.HasPrefix(e, ".") {
			out = append(out, e)
			continue
		}
		if e == ".rlistings" {
			out = append(out, e)
			continue
		}
		first, second, ok := strings.Cut(e, ":")
		switch first {
		case ".r", ".ref", ".referer", ".referrer":
		default:
			return "", errors.New("Unknown designator " + strings.TrimSpace(first) + " in ACL: " + v)
		}
		if header == "X-Container-Write" {
			return "", errors.New("Referrers not allowed in write ACL: " + v)
		}
		second = strings.TrimSpace(second)
		neg := strings.HasPrefix(second, "-")
		second = strings.TrimPrefix(second, "-")
		if second != "*" && strings.HasPrefix(second, "*") {
			second = second[1:]
		}
		if !ok || second == "" || second == "-" {
			return "", errors.New("No host/domain value after referrer designation in ACL: " + v)
		}
		if neg {
			second = "-" + second
		}
		out = append(out, ".r:"+second)
	}
	return strings.Join(out, ","), nil
}

// referrerAllowed is Swift's referrer_allowed: the last matching rule wins,
// "-host" denies, ".domain" matches subdomains.
func referrerAllowed(referrer string, rules []string) bool {
	if len(rules) == 0 {
		return false
	}
	rhost := "unknown"
	if u, err := url.Parse(referrer); err == nil && u.Hostname() != "" {
		rhost = u.Hostname()
	}
	allow := false
	for _, m := range rules {
		if neg, ok := strings.CutPrefix(m, "-"); ok {
			if neg == rhost || (strings.HasPrefix(neg, ".") && strings.HasSuffix(rhost, neg)) {
				allow = false
			}
		} else if m == "*" || m == rhost || (strings.HasPrefix(m, ".") && strings.HasSuffix(rhost, m)) {
			allow = true
		}
	}
	return allow
}

// accountACL is X-Account-Access-Control: three lists of identities.
type accountACL struct {
	Admin     []string `json:"admin,omitempty"`
	ReadWrite []string `json:"read-write,omitempty"`
	ReadOnly  []string `json:"read-only,omitempty"`
}

// parseAccountACL validates the JSON Swift accepts: an object of at most
// those three keys, each a list of strings.
func parseAccountACL(v string) (accountACL, error) {
	var raw map[string]any
	var a accountACL
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return a, errACL
	}
	for k, val := range raw {
		list, ok := val.([]any)
		if !ok {
			return a, errACL
		}
		var ss []string
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return a, errACL
			}
			ss = append(ss, s)
		}
		switch k {
		case "admin":
			a.Admin = ss
		case "read-write":
			a.ReadWrite = ss
		case "read-only":
			a.ReadOnly = ss
		default:
			return a, errACL
		}
	}
	return a, nil
}

// encode renders the ACL as Swift stores and returns it (compact JSON).
func (a accountACL) encode() string {
	b, _ := json.Marshal(a)
	return string(b)
}
