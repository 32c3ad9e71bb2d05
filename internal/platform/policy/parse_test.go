package policy

import (
	"strings"
	"testing"
)

func TestParseString(t *testing.T) {
	// The rendered form shows the tree the parser built; it follows
	// oslo.policy's own __str__ so the two can be compared by eye.
	tests := []struct {
		in, want string
	}{
		{"", "@"},
		{"@", "@"},
		{"!", "!"},
		{"role:admin", "role:admin"},
		{"a:1 or b:2 and c:3", "(a:1 or (b:2 and c:3))"},
		{"a:1 and b:2 or c:3", "((a:1 and b:2) or c:3)"},
		{"a:1 and b:2 or c:3 and d:4", "((a:1 and b:2) or (c:3 and d:4))"},
		{"a:1 or b:2 and c:3 and d:4", "(a:1 or (b:2 and c:3 and d:4))"},
		{"not a:1 and b:2", "(not a:1 and b:2)"},
		{"not a:1 or b:2", "(not a:1 or b:2)"},
		{"a:1 or not b:2 and c:3", "(a:1 or (not b:2 and c:3))"},
		{"not (a:1 or b:2)", "not (a:1 or b:2)"},
		{"not not a:1", "not not a:1"},
		{"(a:1 or b:2) and c:3", "((a:1 or b:2) and c:3)"},
		{"((a:1))", "a:1"},
		{"( a:1 )", "a:1"},
		{"a:1 AND b:2 Or NOT c:3", "((a:1 and b:2) or not c:3)"},
		{"  role:admin\tor\nrole:service  ", "(role:admin or role:service)"},
		{"user_id:%(target.user.id)s", "user_id:%(target.user.id)s"},
		{"(role:reader and system_scope:all) or user_id:%(user_id)s", "((role:reader and system_scope:all) or user_id:%(user_id)s)"},
		{"(a:1 or b:%(x)s)", "(a:1 or b:%(x)s)"},
		{"role:compute:admin", "role:compute:admin"},
		{"'Member':%(role.name)s", "'Member':%(role.name)s"},
		{"True:%(user.enabled)s", "True:%(user.enabled)s"},
		{"rule:admin_required or rule:owner", "(rule:admin_required or rule:owner)"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := c.String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{" ", "whitespace"},
		{"admin", "no ':'"},
		{"role:admin or", "end of check string"},
		{"or role:admin", `unexpected "or"`},
		{"role:admin and and role:x", `unexpected "and"`},
		{"(role:admin", `missing ")"`},
		{"role:admin)", `unexpected ")"`},
		{"()", `unexpected ")"`},
		{"not", "end of check string"},
		{"role:a role:b", `unexpected "role:b"`},
		{"'admin'", "bare quoted string"},
		{"http://example.com/check", "not supported"},
		{"https:%(x)s", "not supported"},
		{":x", "empty left side"},
		{"a:%(x)d", "must end in 's'"},
		{"a:%(x", "unterminated"},
		{"a:50%", "unsupported % format"},
		{"a:%(x(y))s", "nested parentheses"},
		{"'abc:x", "unterminated string literal"},
		{"1abc:x", "invalid number"},
		{"007:x", "leading zeros"},
		{"[1]:x", "unsupported literal"},
		{strings.Repeat("(", 100) + "a:1" + strings.Repeat(")", 100), "nested deeper"},
		{strings.Repeat("not ", 100) + "a:1", "nested deeper"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestPyLiteral(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		isLit bool
	}{
		{"True", "True", true},
		{"False", "False", true},
		{"None", "None", true},
		{"'Member'", "Member", true},
		{`"Member"`, "Member", true},
		{"''", "", true},
		{"1", "1", true},
		{"-1", "-1", true},
		{"+1", "1", true},
		{"-0", "0", true},
		{"000", "0", true},
		{"1_000", "1000", true},
		{"1.0", "1.0", true},
		{"1.", "1.0", true},
		{".5", "0.5", true},
		{"1e3", "1000.0", true},
		{"1e16", "1e+16", true},
		{"1.5e-5", "1.5e-05", true},
		{"0.0001", "0.0001", true},
		{"1e999", "inf", true},
		{"user_id", "", false},
		{"token.is_admin_project", "", false},
		{"-foo", "", false},
		{"true", "", false},
	}
	for _, tt := range tests {
		got, isLit, err := pyLiteral(tt.in)
		if err != nil {
			t.Errorf("pyLiteral(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || isLit != tt.isLit {
			t.Errorf("pyLiteral(%q) = %q, %v; want %q, %v", tt.in, got, isLit, tt.want, tt.isLit)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "@", "!", "role:admin", "rule:x or not rule:y",
		"(role:reader and system_scope:all) or user_id:%(target.user.id)s",
		"'Member':%(role.name)s", "True:%(x)s", "a:%%(x)s%(y)s-%(z)s",
		"((a:1) and (b:2 or not c:3))", "a:1 AND b:2 OR c:3",
		"1.5:%(x)s", "None:%(target.role.domain_id)s",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	creds := Credentials{
		"user_id": "u", "roles": []string{"admin", "Reader"}, "domain_id": nil,
		"token": map[string]any{"project": map[string]any{"domain": map[string]any{"id": "d"}}},
		"list":  []any{"a", map[string]any{"b": "c"}, []any{"d"}},
	}
	target := map[string]any{"x": "u", "target.user.id": "u", "y": nil, "z": 1.5,
		"target": map[string]any{"role": map[string]any{"domain_id": nil}}}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		c.Eval(creds, target)
		// What String renders must parse back to the same tree.
		r := c.String()
		c2, err := Parse(r)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its rendering %q does not parse: %v", s, r, err)
		}
		if r2 := c2.String(); r2 != r {
			t.Fatalf("rendering is not stable: %q -> %q -> %q", s, r, r2)
		}
	})
}
