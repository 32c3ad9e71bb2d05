package compute

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"kumo/internal/platform/httpapi"
)

// Schema is the subset of JSON Schema (draft 4) that Nova's request
// schemas use (nova/api/openstack/compute/schemas). Validate checks a
// decoded body in the order jsonschema does and fails with Nova's message:
// "Invalid input for field/attribute <field>. Value: <value>. <reason>",
// the reason worded as the Python jsonschema library words it.
type Schema struct {
	Type      []string // "object", "string", "integer", "number", "boolean", "null", "array"
	Enum      []any    // allowed values (strings, bools, numbers, nil)
	Format    string   // "name", "name_with_spaces", "uuid" (see checkFormat)
	MinLength int
	MaxLength int    // 0 means no limit
	Pattern   string // the regexp as Nova writes it, shown in messages
	// Match overrides Pattern for patterns Go's regexp cannot run
	// (look-arounds); nil means Pattern is used.
	Match func(string) bool
	// Minimum and Maximum bound numbers; nil means none.
	Minimum, Maximum *float64
	ExclusiveMin     bool

	Properties []Prop // in declaration order, as jsonschema walks them
	// PatternProperties validate the members whose names match.
	PatternProperties []PatternProp
	Required          []string
	// NoAdditional is additionalProperties: false.
	NoAdditional  bool
	MinProperties int
	MaxProperties int // 0 means no limit

	// AllOf must all validate too (after this schema's own checks).
	AllOf []*Schema

	Items    *Schema
	MinItems int
	MaxItems int // 0 means no limit

	re *regexp.Regexp
}

// Prop is one named property of an object schema.
type Prop struct {
	Name   string
	Schema *Schema
}

// PatternProp validates the object members whose names match Pattern.
type PatternProp struct {
	Pattern string
	Schema  *Schema
	re      *regexp.Regexp
}

// Num is a float pointer for Minimum and Maximum.
func Num(f float64) *float64 { return &f }

// Types is a short way to write Schema.Type.
func Types(t ...string) []string { return t }

// Prop looks up a property's schema by name (nil if absent), so a
// microversion can copy a schema and change one property.
func (s *Schema) Prop(name string) *Schema {
	for _, p := range s.Properties {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

// schemaError is one failed check: the path to the failing value, the
// value and jsonschema's message.
type schemaError struct {
	path  []string
	value any
	msg   string
}

// Validate checks v against s and returns Nova's 400 for the first
// failure, or nil.
func (s *Schema) Validate(v any) error {
	e := s.check(v, nil)
	if e == nil {
		return nil
	}
	if len(e.path) == 0 {
		return httpapi.BadRequest("%s", e.msg)
	}
	return httpapi.BadRequest("Invalid input for field/attribute %s. Value: %s. %s", e.path[len(e.path)-1], pyStr(e.value), e.msg)
}

// ValidateQuery checks query parameters (each a list of strings, as Nova
// sees them) and answers with Nova's query-parameter message.
func (s *Schema) ValidateQuery(q map[string][]string) error {
	obj := make(map[string]any, len(q))
	for k, vs := range q {
		l := make([]any, len(vs))
		for i, v := range vs {
			l[i] = v
		}
		obj[k] = l
	}
	e := s.check(obj, nil)
	if e == nil {
		return nil
	}
	if len(e.path) == 0 {
		return httpapi.BadRequest("%s", e.msg)
	}
	// The failing value is an element of the parameter's list; Nova names
	// the parameter and shows the value.
	name := e.path[0]
	return httpapi.BadRequest("Invalid input for query parameters %s. Value: %s. %s", name, pyStr(e.value), e.msg)
}

// stripAdditional removes, in place, the members that additionalProperties
// false would refuse, where the schema has no patternProperties (Nova's
// _soft_validate_additional_properties for the legacy v2 API).
func (s *Schema) stripAdditional(v any) {
	switch x := v.(type) {
	case map[string]any:
		if s.NoAdditional && len(s.PatternProperties) == 0 {
			for k := range x {
				if s.Prop(k) == nil {
					delete(x, k)
				}
			}
		}
		for _, p := range s.Properties {
			if pv, ok := x[p.Name]; ok {
				p.Schema.stripAdditional(pv)
			}
		}
	case []any:
		if s.Items != nil {
			for _, it := range x {
				s.Items.stripAdditional(it)
			}
		}
	}
	for _, sub := range s.AllOf {
		sub.stripAdditional(v)
	}
}

func (s *Schema) check(v any, path []string) *schemaError {
	fail := func(format string, args ...any) *schemaError {
		return &schemaError{path: path, value: v, msg: fmt.Sprintf(format, args...)}
	}
	if len(s.Type) > 0 && !slices.ContainsFunc(s.Type, func(t string) bool { return isType(v, t) }) {
		quoted := make([]string, len(s.Type))
		for i, t := range s.Type {
			quoted[i] = pyRepr(t)
		}
		return fail("%s is not of type %s", pyRepr(v), strings.Join(quoted, ", "))
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(e any) bool { return pyEqual(e, v) }) {
		return fail("%s is not one of %s", pyRepr(v), pyRepr(s.Enum))
	}
	if str, ok := v.(string); ok {
		n := len([]rune(str))
		if n < s.MinLength {
			return fail("%s is too short", pyRepr(v))
		}
		if s.MaxLength > 0 && n > s.MaxLength {
			return fail("%s is too long", pyRepr(v))
		}
		if s.Format != "" {
			if e := s.checkFormat(str, path); e != nil {
				return e
			}
		}
		if s.Pattern != "" && !s.matches(str) {
			return fail("%s does not match %s", pyRepr(v), pyRepr(s.Pattern))
		}
	}
	if f, ok := number(v); ok {
		if s.Minimum != nil {
			if s.ExclusiveMin && f <= *s.Minimum {
				return fail("%s is less than or equal to the minimum of %s", pyRepr(v), pyBound(*s.Minimum))
			}
			if f < *s.Minimum {
				return fail("%s is less than the minimum of %s", pyRepr(v), pyBound(*s.Minimum))
			}
		}
		if s.Maximum != nil && f > *s.Maximum {
			return fail("%s is greater than the maximum of %s", pyRepr(v), pyBound(*s.Maximum))
		}
	}
	if obj, ok := v.(map[string]any); ok {
		for _, p := range s.Properties {
			if pv, ok := obj[p.Name]; ok {
				if e := p.Schema.check(pv, append(slices.Clip(path), p.Name)); e != nil {
					return e
				}
			}
		}
		for i := range s.PatternProperties {
			pp := &s.PatternProperties[i]
			if pp.re == nil {
				pp.re = regexp.MustCompile(pp.Pattern)
			}
			for _, k := range sortedKeys(obj) {
				if pp.re.MatchString(k) {
					if e := pp.Schema.check(obj[k], append(slices.Clip(path), k)); e != nil {
						return e
					}
				}
			}
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				return fail("%s is a required property", pyRepr(r))
			}
		}
		if s.NoAdditional {
			var extra []string
			for _, k := range sortedKeys(obj) {
				if s.Prop(k) == nil && !s.patternProp(k) {
					extra = append(extra, pyRepr(k))
				}
			}
			switch len(extra) {
			case 0:
			case 1:
				return fail("Additional properties are not allowed (%s was unexpected)", extra[0])
			default:
				return fail("Additional properties are not allowed (%s were unexpected)", strings.Join(extra, ", "))
			}
		}
		if len(obj) < s.MinProperties {
			return fail("%s does not have enough properties", pyRepr(v))
		}
		if s.MaxProperties > 0 && len(obj) > s.MaxProperties {
			return fail("%s has too many properties", pyRepr(v))
		}
	}
	for _, sub := range s.AllOf {
		if e := sub.check(v, path); e != nil {
			return e
		}
	}
	if list, ok := v.([]any); ok {
		if s.Items != nil {
			for i, it := range list {
				if e := s.Items.check(it, append(slices.Clip(path), strconv.Itoa(i))); e != nil {
					if len(e.path) == len(path)+1 && len(path) > 0 {
						// An element failed: Nova names the list's field.
						e.path = e.path[:len(path)]
					}
					return e
				}
			}
		}
		if len(list) < s.MinItems {
			return fail("%s is too short", pyRepr(v))
		}
		if s.MaxItems > 0 && len(list) > s.MaxItems {
			return fail("%s is too long", pyRepr(v))
		}
	}
	return nil
}

func (s *Schema) patternProp(k string) bool {
	for i := range s.PatternProperties {
		pp := &s.PatternProperties[i]
		if pp.re == nil {
			pp.re = regexp.MustCompile(pp.Pattern)
		}
		if pp.re.MatchString(k) {
			return true
		}
	}
	return false
}

func (s *Schema) matches(str string) bool {
	if s.Match != nil {
		return s.Match(str)
	}
	if s.re == nil {
		s.re = regexp.MustCompile(s.Pattern)
	}
	return s.re.MatchString(str)
}

// checkFormat runs Nova's format checkers. The name formats fail with
// Nova's InvalidName message, which Nova shows without the field prefix.
func (s *Schema) checkFormat(str string, path []string) *schemaError {
	switch s.Format {
	case "name":
		if !validName(str, false) {
			return &schemaError{msg: "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."}
		}
	case "name_with_spaces":
		if !validName(str, true) {
			return &schemaError{msg: "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character"}
		}
	case "keypair_name_20", "keypair_name_292":
		safe := "_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		if s.Format == "keypair_name_292" {
			safe = "@._- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		}
		for _, r := range str {
			if !strings.ContainsRune(safe, r) {
				return &schemaError{msg: "An invalid 'name' value was provided. The name must be: Only expected characters: [" + safe + "]"}
			}
		}
	case "uuid":
		if !isUUIDLike(str) {
			return &schemaError{path: path, value: str, msg: fmt.Sprintf("%s is not a 'uuid'", pyRepr(str))}
		}
	}
	return nil
}

// printable is Nova's _is_printable over the code points Nova considers
// (below U+FFFF): not a control/format/unassigned character and not a
// line or paragraph separator.
func printable(r rune) bool {
	if r >= 0xFFFF || unicode.In(r, unicode.C) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
		return false
	}
	return true
}

// validName is Nova's valid_name_regex: printable characters that do not
// start or end with a space (spaces=false), or, with spaces=true
// (valid_name_leading_trailing_spaces_regex), printable with at least one
// character that is not a space.
func validName(s string, spaces bool) bool {
	rs := []rune(s)
	nonSpace := false
	for _, r := range rs {
		if !printable(r) {
			return false
		}
		if !unicode.Is(unicode.Zs, r) {
			nonSpace = true
		}
	}
	if spaces {
		return nonSpace || len(rs) == 0
	}
	return len(rs) == 0 || !unicode.Is(unicode.Zs, rs[0]) && !unicode.Is(unicode.Zs, rs[len(rs)-1])
}

var uuidRe = regexp.MustCompile(`^(?i)(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// isUUIDLike is oslo's is_uuid_like (dashes optional, any case).
func isUUIDLike(s string) bool { return uuidRe.MatchString(s) }

func isType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		return ok && !strings.ContainsAny(n.String(), ".eE")
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// pyEqual compares as Python's == does for JSON values (1 == 1.0, and
// True == 1 is false here on purpose: Nova's enums never mix them).
func pyEqual(a, b any) bool {
	fa, oka := number(a)
	fb, okb := number(b)
	if oka || okb {
		return oka && okb && fa == fb
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pyRepr renders a decoded JSON value as Python's repr does, which is how
// Nova's messages show values (object keys sorted: Go keeps no order).
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyQuote(x)
	case json.Number:
		if f, err := x.Float64(); err == nil && strings.ContainsAny(x.String(), ".eE") {
			return pyNum(f)
		}
		return x.String()
	case float64:
		return pyNum(x)
	case int:
		return strconv.Itoa(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyQuote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, pyQuote(k)+": "+pyRepr(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyStr is Python's str(): strings bare, everything else as repr.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

func pyQuote(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}

// pyNum renders a float as Python's repr does (1.0, 0.5, 3.40282e+38).
func pyNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if strings.Contains(s, "e") {
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		if len(exp) < 2 {
			exp = fmt.Sprintf("%02s", exp)
		}
		return mant + "e" + string(sign) + exp
	}
	return s
}

// pyBound renders a schema bound: Nova writes integral bounds as Python
// ints (minimum 1, maximum 2147483647) and others as floats.
func pyBound(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyNum(f)
}
