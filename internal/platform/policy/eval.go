package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// eval evaluates n. rules holds the roots of the Enforcer's rules, indexed
// by the idx that New resolved into every rule:NAME node; New refuses
// cycles, so the recursion ends.
func (n *node) eval(rules []*node, creds Credentials, target map[string]any) bool {
	switch n.op {
	case opTrue:
		return true
	case opFalse:
		return false
	case opAnd:
		for _, k := range n.kids {
			if !k.eval(rules, creds, target) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.eval(rules, creds, target) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].eval(rules, creds, target)
	case opRule:
		if n.idx < 0 || n.idx >= len(rules) {
			return false
		}
		return rules[n.idx].eval(rules, creds, target)
	case opRole:
		want, ok := n.match.render(target)
		if !ok {
			return false
		}
		return hasRole(creds["roles"], want)
	case opGeneric:
		want, ok := n.match.render(target)
		if !ok {
			return false
		}
		if n.isLit {
			return n.lit == want
		}
		return findInCreds(map[string]any(creds), n.path, want)
	}
	return false
}

// render applies the %(key)s substitutions. A key missing from the target
// makes the check false, as the KeyError does in oslo.policy.
func (t *template) render(target map[string]any) (string, bool) {
	if len(t.parts) == 1 {
		p := t.parts[0]
		if !p.isKey {
			return p.text, true
		}
		v, ok := lookupTarget(target, p.text)
		if !ok {
			return "", false
		}
		return pyStr(v), true
	}
	var b strings.Builder
	for _, p := range t.parts {
		if !p.isKey {
			b.WriteString(p.text)
			continue
		}
		v, ok := lookupTarget(target, p.text)
		if !ok {
			return "", false
		}
		b.WriteString(pyStr(v))
	}
	return b.String(), true
}

// lookupTarget finds key in a target that may be flat ("target.user.id" as
// one key, the way keystone flattens it before enforcement), nested
// ({"target": {"user": {"id": ...}}}), or a mix of the two.
func lookupTarget(m map[string]any, key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if v, ok := m[key]; ok {
		return v, true
	}
	for i := 0; i < len(key); i++ {
		if key[i] != '.' {
			continue
		}
		sub, ok := m[key[:i]]
		if !ok {
			continue
		}
		switch sub := sub.(type) {
		case map[string]any:
			if v, ok := lookupTarget(sub, key[i+1:]); ok {
				return v, true
			}
		case Credentials:
			if v, ok := lookupTarget(sub, key[i+1:]); ok {
				return v, true
			}
		case map[string]string:
			if v, ok := sub[key[i+1:]]; ok {
				return v, true
			}
		}
	}
	return nil, false
}

// findInCreds reports whether the credential value at the dotted path
// equals want, as oslo.policy's GenericCheck._find_in_dict does: each path
// segment descends into a map, and a list found at a segment matches when
// any of its elements matches the rest of the path. A flat dotted key is
// accepted as well as nesting.
func findInCreds(cur any, path string, want string) bool {
	if path == "" {
		return pyStrEq(cur, want)
	}
	switch m := cur.(type) {
	case map[string]any:
		return findInMap(m, path, want)
	case Credentials:
		return findInMap(m, path, want)
	case map[string]string:
		v, ok := m[path]
		return ok && v == want
	}
	return false
}

func findInMap(m map[string]any, path string, want string) bool {
	if v, ok := m[path]; ok && afterKey(v, "", want) {
		return true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if v, ok := m[path[:i]]; ok && afterKey(v, path[i+1:], want) {
			return true
		}
	}
	return false
}

func afterKey(v any, rest string, want string) bool {
	switch l := v.(type) {
	case []string:
		if rest != "" {
			return false
		}
		for _, e := range l {
			if e == want {
				return true
			}
		}
		return false
	case []any:
		for _, e := range l {
			if findInCreds(e, rest, want) {
				return true
			}
		}
		return false
	}
	return findInCreds(v, rest, want)
}

// hasRole compares role names case-insensitively, as oslo.policy's
// RoleCheck lowercases both sides.
func hasRole(roles any, want string) bool {
	switch rs := roles.(type) {
	case []string:
		for _, r := range rs {
			if strings.EqualFold(r, want) {
				return true
			}
		}
	case []any:
		for _, r := range rs {
			if s, ok := r.(string); ok && strings.EqualFold(s, want) {
				return true
			}
		}
	}
	return false
}

// pyStrEq is pyStr(v) == want without allocating for the common types.
func pyStrEq(v any, want string) bool {
	switch v := v.(type) {
	case string:
		return v == want
	case nil:
		return want == "None"
	case bool:
		if v {
			return want == "True"
		}
		return want == "False"
	}
	return pyStr(v) == want
}

// pyStr renders a value as Python's str() would, since oslo.policy compares
// the string forms of both sides: nil is "None", booleans are "True" and
// "False", floats keep a ".0".
func pyStr(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int8:
		return strconv.FormatInt(int64(v), 10)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case float64:
		return pyFloat(v)
	case float32:
		return pyFloat(float64(v))
	case json.Number:
		return v.String()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}
