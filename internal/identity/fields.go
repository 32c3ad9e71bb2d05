package identity

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"kumo/internal/platform/httpapi"
)

// Request bodies are decoded into generic maps and checked field by field,
// because Keystone accepts and returns extra attributes on most resources
// and reports schema violations as 400 with the field's name.

func invalid(field, format string, args ...any) error {
	return httpapi.BadRequest("Invalid input for field '%s': %s", field, fmtArgs(format, args...))
}

func fmtArgs(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}

// object returns the JSON object under key of m (e.g. "project" of the body).
func object(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok {
		return nil, httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", key, key)
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(key, "%s is not of type 'object'", pyRepr(v))
	}
	return o, nil
}

// optString reads an optional string of at most max characters; null is
// accepted when nullable and reads as "".
func optString(m map[string]any, key string, max int, nullable bool) (string, bool, error) {
	v, ok := m[key]
	if !ok {
		return "", false, nil
	}
	if v == nil {
		if nullable {
			return "", true, nil
		}
		return "", true, invalid(key, "None is not of type 'string'")
	}
	s, ok := v.(string)
	if !ok {
		return "", true, invalid(key, "%s is not of type 'string'", pyRepr(v))
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return "", true, invalid(key, "'%s' is too long", s)
	}
	return s, true, nil
}

var blankName = regexp.MustCompile(`^\s*$`)

// name reads a resource name: a string of 1 to 64 characters, not blank.
func name(m map[string]any, key string, required bool) (string, bool, error) {
	s, ok, err := optString(m, key, 64, false)
	if err != nil {
		return "", ok, err
	}
	if !ok {
		if required {
			return "", false, httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", key, key)
		}
		return "", false, nil
	}
	if s == "" || blankName.MatchString(s) {
		return "", true, invalid(key, "'%s' is too short or blank", s)
	}
	return s, true, nil
}

// optBool reads an optional JSON boolean (never a string such as "True").
func optBool(m map[string]any, key string) (bool, bool, error) {
	v, ok := m[key]
	if !ok {
		return false, false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, true, invalid(key, "%s is not of type 'boolean'", pyRepr(v))
	}
	return b, true, nil
}

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)

// optID reads an optional id (1 to 64 characters of [a-zA-Z0-9-_]).
func optID(m map[string]any, key string, nullable bool) (string, bool, error) {
	s, ok, err := optString(m, key, 64, nullable)
	if err != nil || !ok || s == "" {
		return s, ok, err
	}
	if !idPattern.MatchString(s) {
		return "", true, invalid(key, "'%s' does not match '^[a-zA-Z0-9-_]+$'", s)
	}
	return s, true, nil
}

// optObject reads an optional JSON object.
func optObject(m map[string]any, key string) (map[string]any, bool, error) {
	v, ok := m[key]
	if !ok {
		return nil, false, nil
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		return nil, true, invalid(key, "%s is not of type 'object'", pyRepr(v))
	}
	return o, true, nil
}

// tagList reads a project tag list: at most 80 unique strings of 1 to 255
// characters without "," or "/".
func tagList(m map[string]any, key string) ([]string, bool, error) {
	v, ok := m[key]
	if !ok {
		return nil, false, nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		return nil, true, invalid(key, "%s is not of type 'array'", pyRepr(v))
	}
	if len(arr) > 80 {
		return nil, true, invalid(key, "is too long (more than 80 tags)")
	}
	tags := []string{}
	seen := map[string]bool{}
	for _, t := range arr {
		s, isStr := t.(string)
		if !isStr {
			return nil, true, invalid(key, "%s is not of type 'string'", pyRepr(t))
		}
		if err := checkTag(s); err != nil {
			return nil, true, err
		}
		if !seen[s] {
			seen[s] = true
			tags = append(tags, s)
		}
	}
	return tags, true, nil
}

func checkTag(s string) error {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > 255 || strings.ContainsAny(s, ",/") {
		return invalid("tags", "'%s' must be 1 to 255 characters and contain no ',' or '/'", s)
	}
	return nil
}

// extras returns the attributes of m that are not in known: Keystone stores
// them and shows them back.
func extras(m map[string]any, known ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		isKnown := false
		for _, kk := range known {
			if k == kk {
				isKnown = true
				break
			}
		}
		if !isKnown {
			out[k] = v
		}
	}
	return out
}

// pyRepr shows a JSON value roughly as Python's jsonschema messages do.
func pyRepr(v any) string {
	switch t := v.(type) {
	case string:
		return "'" + t + "'"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// mergeExtra copies extra attributes into a rendered resource without
// letting them override the resource's own fields.
func mergeExtra(out, extra map[string]any) map[string]any {
	for k, v := range extra {
		if _, taken := out[k]; !taken {
			out[k] = v
		}
	}
	return out
}

// filterBool parses a boolean list filter such as ?enabled=false.
func filterBool(v string) *bool {
	if v == "" {
		return nil
	}
	b := !(strings.EqualFold(v, "false") || v == "0")
	return &b
}
