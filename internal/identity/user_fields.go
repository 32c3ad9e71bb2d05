package identity

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// Users and groups follow Keystone's identity schema: names are 1 to 255
// characters with at least one non-blank one (stored trimmed), ids are
// Keystone id strings, and extra attributes are kept and shown back.

// identityName reads a user or group name.
func identityName(m map[string]any, key string, required bool) (string, bool, error) {
	s, ok, err := optString(m, key, 255, false)
	if err != nil {
		return "", ok, err
	}
	if !ok {
		if required {
			return "", false, httpapi.BadRequest("Invalid input for field '%s': '%s' is a required property", key, key)
		}
		return "", false, nil
	}
	if s == "" {
		return "", true, invalid(key, "'' is too short")
	}
	if strings.TrimSpace(s) == "" {
		return "", true, invalid(key, "'%s' does not match '[\\S]+'", s)
	}
	return strings.TrimSpace(s), true, nil
}

// identityID reads an id attribute that may be absent but not null or empty
// (Keystone's id_string: 1 to 64 characters of [a-zA-Z0-9-_]).
func identityID(m map[string]any, key string) (string, bool, error) {
	s, ok, err := optID(m, key, false)
	if err == nil && ok && s == "" {
		err = invalid(key, "'' is too short")
	}
	return s, ok, err
}

// identityNullableID reads an id attribute that may be null (read as "").
func identityNullableID(m map[string]any, key string) (string, bool, error) {
	if v, ok := m[key]; ok && v == nil {
		return "", true, nil
	}
	return identityID(m, key)
}

// optPassword reads "password": a string, or null for no password. The
// pointer is nil when the value is null.
func optPassword(m map[string]any) (*string, bool, error) {
	v, ok := m["password"]
	if !ok || v == nil {
		return nil, ok, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return nil, true, invalid("password", "%s is not of type 'string', 'null'", pyRepr(v))
	}
	return &s, true, nil
}

// userOptionNames are Keystone's registered user resource options; every
// other name in "options" is a 400.
var userOptionNames = []string{
	"ignore_change_password_upon_first_use", "ignore_password_expiry", "ignore_lockout_failure_attempts",
	"lock_password", "ignore_user_inactivity", "multi_factor_auth_rules", "multi_factor_auth_enabled",
}

// userOptions reads "options": known option names only, booleans except
// multi_factor_auth_rules (a list of unique, non-empty lists of unique
// strings). A null value means "unset the option" and is returned as nil.
func userOptions(m map[string]any) (map[string]any, bool, error) {
	opts, ok, err := optObject(m, "options")
	if err != nil || !ok {
		return nil, ok, err
	}
	out := map[string]any{}
	for k, v := range opts {
		if !slices.Contains(userOptionNames, k) {
			return nil, true, invalid("options", "Additional properties are not allowed ('%s' was unexpected)", k)
		}
		field := "options/" + k
		switch {
		case v == nil:
		case k == "multi_factor_auth_rules":
			if err := checkMFARules(field, v); err != nil {
				return nil, true, err
			}
		default:
			if _, isBool := v.(bool); !isBool {
				return nil, true, invalid(field, "%s is not of type 'boolean'", pyRepr(v))
			}
		}
		out[k] = v
	}
	return out, true, nil
}

func checkMFARules(field string, v any) error {
	rules, ok := v.([]any)
	if !ok {
		return invalid(field, "%s is not of type 'array'", pyRepr(v))
	}
	seenRules := map[string]bool{}
	for _, r := range rules {
		methods, ok := r.([]any)
		if !ok {
			return invalid(field, "%s is not of type 'array'", pyRepr(r))
		}
		if len(methods) == 0 {
			return invalid(field, "[] is too short")
		}
		seen := map[string]bool{}
		for _, m := range methods {
			s, ok := m.(string)
			if !ok {
				return invalid(field, "%s is not of type 'string'", pyRepr(m))
			}
			if seen[s] {
				return invalid(field, "%s has non-unique elements", pyRepr(r))
			}
			seen[s] = true
		}
		key := pyRepr(r)
		if seenRules[key] {
			return invalid(field, "%s has non-unique elements", pyRepr(v))
		}
		seenRules[key] = true
	}
	return nil
}

// applyOptions merges an options patch into opts: nil values unset.
func applyOptions(opts, patch map[string]any) map[string]any {
	if opts == nil {
		opts = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(opts, k)
		} else {
			opts[k] = v
		}
	}
	return opts
}

// attrAsBoolean parses a boolean query filter as Keystone's attr_as_boolean:
// f, false, n, no, off and 0 (any case) are false, everything else true.
func attrAsBoolean(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "f", "false", "n", "no", "off", "0":
		return false
	}
	return true
}

// hintsMatch applies Keystone's exact and inexact list filters on one
// attribute: ?attr=v, ?attr__contains=v, ?attr__icontains=v, __startswith,
// __istartswith, __endswith, __iendswith.
func hintsMatch(q url.Values, attr, value string) bool {
	for key, vals := range q {
		if key == attr {
			for _, v := range vals {
				if value != v {
					return false
				}
			}
			continue
		}
		op, ok := strings.CutPrefix(key, attr+"__")
		if !ok {
			continue
		}
		for _, v := range vals {
			got, want := value, v
			if strings.HasPrefix(op, "i") {
				op, got, want = op[1:], strings.ToLower(got), strings.ToLower(want)
			}
			var match bool
			switch op {
			case "contains":
				match = strings.Contains(got, want)
			case "startswith":
				match = strings.HasPrefix(got, want)
			case "endswith":
				match = strings.HasSuffix(got, want)
			case "equals":
				match = got == want
			default:
				match = true // an unknown comparator filters nothing, as Keystone
			}
			if !match {
				return false
			}
		}
	}
	return true
}

// expiryFilter parses ?password_expires_at=[op:]timestamp. Users whose
// password never expires match no operator, as in Keystone's SQL.
func expiryFilter(v string) (func(time.Time) bool, error) {
	op, ts := "eq", v
	if len(v) >= 4 && strings.Contains(v[2:4], ":") {
		op, ts, _ = strings.Cut(v, ":")
	}
	var at time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if at, err = time.Parse(layout, ts); err == nil {
			break
		}
	}
	if err != nil {
		return nil, httpapi.BadRequest("Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	cmp := map[string]func(t time.Time) bool{
		"lt":  func(t time.Time) bool { return t.Before(at) },
		"lte": func(t time.Time) bool { return !t.After(at) },
		"gt":  func(t time.Time) bool { return t.After(at) },
		"gte": func(t time.Time) bool { return !t.Before(at) },
		"eq":  func(t time.Time) bool { return t.Equal(at) },
		"neq": func(t time.Time) bool { return !t.Equal(at) },
	}[op]
	if cmp == nil {
		return nil, httpapi.BadRequest("The given operator %s is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.", op)
	}
	return func(t time.Time) bool { return !t.IsZero() && cmp(t) }, nil
}

// keystoneTime formats a time as Keystone shows password_expires_at.
func keystoneTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}
