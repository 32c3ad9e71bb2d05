package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	creds := Credentials{
		"user_id":      "u1",
		"project_id":   "p1",
		"domain_id":    nil, // keystone's value when the token is not domain-scoped
		"system_scope": "",
		"roles":        []string{"Admin", "member"},
		"is_admin":     false,
		"count":        3,
		"token": map[string]any{
			"project": map[string]any{"domain": map[string]any{"id": "d1"}},
		},
		"token.is_admin_project": true,
		"groups":                 []any{map[string]any{"id": "g1"}, map[string]any{"id": "g2"}},
	}
	target := map[string]any{
		"user_id":           "u1",
		"project_id":        "p1",
		"target.project.id": "p1", // flat, as keystone flattens it
		"target": map[string]any{ // nested, as a handler may build it
			"user":   map[string]any{"id": "u1", "domain_id": "d1", "enabled": true},
			"role":   map[string]any{"domain_id": nil},
			"domain": map[string]any{"id": "d2"},
		},
		"name":  "Member",
		"n":     3,
		"f":     1.0,
		"other": "u2",
	}
	tests := []struct {
		check string
		want  bool
	}{
		{"", true},
		{"@", true},
		{"!", false},
		{"not @", false},
		{"not !", true},

		// Roles: case-insensitive on both sides.
		{"role:admin", true},
		{"role:ADMIN", true},
		{"role:Member", true},
		{"role:reader", false},
		{"role:%(name)s", true},
		{"role:%(missing)s", false},

		// Precedence: not > and > or.
		{"role:reader or role:admin and role:member", true},
		{"role:reader and role:admin or role:member", true},
		{"role:reader and (role:admin or role:member)", false},
		{"(role:reader or role:admin) and role:member", true},
		{"not role:reader and role:admin", true},
		{"not (role:reader or role:admin)", false},
		{"not role:admin or role:reader", false},
		{"role:reader or not role:admin and role:member", false},
		{"@ or ! and !", true},
		{"(@ or !) and !", false},

		// Credential lookups against target substitutions.
		{"user_id:%(user_id)s", true},
		{"user_id:%(other)s", false},
		{"user_id:%(target.user.id)s", true},
		{"project_id:%(target.project.id)s", true},
		{"user_id:%(target.user.missing)s", false},
		{"user_id:%(nope)s", false},
		{"not user_id:%(nope)s", true},
		{"token.project.domain.id:%(target.user.domain_id)s", true},
		{"token.project.domain.id:%(target.domain.id)s", false},
		{"token.domain.id:%(target.domain.id)s", false},
		{"token.is_admin_project:True", true},
		{"is_admin:False", true},
		{"is_admin:1", false},
		{"count:3", true},
		{"count:%(n)s", true},
		{"groups.id:g2", true},
		{"groups.id:g3", false},
		{"roles:member", true},
		{"roles:Member", false}, // a generic check is case-sensitive
		{"system_scope:all", false},
		{"missing:x", false},

		// nil renders as None, as in Python.
		{"domain_id:%(target.role.domain_id)s", true},
		{"None:%(target.role.domain_id)s", true},
		{"not None:%(target.user.id)s", true},

		// Literals on the left compare with the target, not the creds.
		{"'Member':%(name)s", true},
		{`"Member":%(name)s`, true},
		{"'member':%(name)s", false},
		{"True:%(target.user.enabled)s", true},
		{"False:%(target.user.enabled)s", false},
		{"3:%(n)s", true},
		{"1.0:%(f)s", true},
		{"1:%(f)s", false},
		{"'x':%(missing)s", false},

		// Literal right sides and mixed templates.
		{"user_id:u1", true},
		{"user_id:u%(n)s", false},
		{"user_id:%(target.user.id)s%(missing)s", false},
		{"'u1-p1':%(user_id)s-%(project_id)s", true},
		{"'50%':50%%", true},

		// rule: without an Enforcer is false.
		{"rule:anything", false},
		{"not rule:anything", true},
	}
	for _, tt := range tests {
		c, err := Parse(tt.check)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.check, err)
			continue
		}
		if got := c.Eval(creds, target); got != tt.want {
			t.Errorf("%q = %v, want %v (parsed as %s)", tt.check, got, tt.want, c)
		}
	}
}

func TestEvalEmptyInputs(t *testing.T) {
	for _, check := range []string{"role:admin", "user_id:%(x)s", "a.b:c", "'x':%(y)s"} {
		c, err := Parse(check)
		if err != nil {
			t.Fatal(err)
		}
		if c.Eval(nil, nil) {
			t.Errorf("%q passed with no credentials and no target", check)
		}
	}
	var zero Check
	if zero.String() != "!" || zero.Eval(nil, nil) {
		t.Error("the zero Check is not deny-all")
	}
}

var testDefaults = []Rule{
	{Name: "admin_required", Check: "role:admin or is_admin:1"},
	{Name: "owner", Check: "user_id:%(user_id)s"},
	{Name: "admin_or_owner", Check: "rule:admin_required or rule:owner"},
	{Name: "dangling", Check: "rule:no_such_rule"},
	{Name: "not_dangling", Check: "not rule:no_such_rule"},
	{Name: "compute:get", Check: "rule:admin_or_owner"},
	{Name: "compute:delete", Check: "rule:admin_required"},
	{Name: "compute:list", Check: ""},
}

func TestEnforce(t *testing.T) {
	e, err := New(testDefaults, "")
	if err != nil {
		t.Fatal(err)
	}
	admin := Credentials{"user_id": "a", "roles": []string{"admin"}}
	alice := Credentials{"user_id": "alice", "roles": []string{"member"}}
	own := map[string]any{"user_id": "alice"}
	tests := []struct {
		action string
		creds  Credentials
		target map[string]any
		want   bool
	}{
		{"compute:get", admin, own, true},
		{"compute:get", alice, own, true},
		{"compute:get", alice, map[string]any{"user_id": "bob"}, false},
		{"compute:get", alice, nil, false},
		{"compute:delete", admin, nil, true},
		{"compute:delete", alice, own, false},
		{"compute:list", nil, nil, true},
		{"dangling", admin, nil, false},
		{"not_dangling", admin, nil, true},
		{"compute:unknown", admin, nil, false},
	}
	for _, tt := range tests {
		if got := e.Enforce(tt.action, tt.creds, tt.target); got != tt.want {
			t.Errorf("Enforce(%q, %v, %v) = %v, want %v", tt.action, tt.creds, tt.target, got, tt.want)
		}
	}
	if !e.Known("compute:get") || e.Known("compute:unknown") {
		t.Error("Known is wrong")
	}
	if s, ok := e.CheckString("compute:get"); !ok || s != "rule:admin_or_owner" {
		t.Errorf("CheckString = %q, %v", s, ok)
	}
	if n := len(e.Names()); n != len(testDefaults) {
		t.Errorf("Names has %d rules, want %d", n, len(testDefaults))
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"bad syntax", []Rule{{Name: "x", Check: "role:a or"}}, `default policy rule "x"`},
		{"duplicate", []Rule{{Name: "x"}, {Name: "x"}}, "declared twice"},
		{"empty name", []Rule{{Check: "@"}}, "empty name"},
		{"self", []Rule{{Name: "x", Check: "role:a or rule:x"}}, "x -> x"},
		{"cycle", []Rule{
			{Name: "a", Check: "rule:b"},
			{Name: "b", Check: "role:x and (rule:c or @)"},
			{Name: "c", Check: "not rule:a"},
		}, "a -> b -> c -> a"},
	}
	for _, tt := range tests {
		_, err := New(tt.rules, "")
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOverrideFile(t *testing.T) {
	files := map[string]string{
		"policy.yaml": `# operator overrides
"compute:delete": "rule:admin_required or rule:owner"
compute:list: "role:reader"
"admin_required": 'role:admin or role:superuser'
"custom": "role:member"
"compute:get": "rule:custom"
`,
		"policy.json": `{
  "compute:delete": "rule:admin_required or rule:owner",
  "compute:list": "role:reader",
  "admin_required": "role:admin or role:superuser",
  "custom": "role:member",
  "compute:get": "rule:custom"
}`,
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			e, err := New(testDefaults, writeFile(t, name, content))
			if err != nil {
				t.Fatal(err)
			}
			alice := Credentials{"user_id": "alice", "roles": []string{"member"}}
			super := Credentials{"user_id": "s", "roles": []string{"SuperUser"}}
			tests := []struct {
				action string
				creds  Credentials
				target map[string]any
				want   bool
			}{
				{"compute:delete", alice, map[string]any{"user_id": "alice"}, true},
				{"compute:delete", alice, map[string]any{"user_id": "bob"}, false},
				{"compute:delete", super, nil, true},
				{"compute:list", alice, nil, false},
				{"compute:get", alice, nil, true},
				{"custom", alice, nil, true},
				{"admin_or_owner", super, nil, true}, // default rule, overridden reference
			}
			for _, tt := range tests {
				if got := e.Enforce(tt.action, tt.creds, tt.target); got != tt.want {
					t.Errorf("Enforce(%q, %v) = %v, want %v", tt.action, tt.creds, got, tt.want)
				}
			}
			if !e.Known("custom") {
				t.Error("a rule added by the file is not Known")
			}
		})
	}
}

func TestOverrideFileEmpty(t *testing.T) {
	for _, content := range []string{"", "\n# nothing\n", "{}", "---\n"} {
		e, err := New(testDefaults, writeFile(t, "p.yaml", content))
		if err != nil {
			t.Errorf("%q: %v", content, err)
			continue
		}
		if s, _ := e.CheckString("compute:delete"); s != "rule:admin_required" {
			t.Errorf("%q: default lost: %q", content, s)
		}
	}
}

func TestOverrideFileErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"yaml bad rule", "\"a\": \"role:x\"\n\n\"b\": \"role:x or\"\n", `p.yaml:3: rule "b": unexpected end`},
		{"json bad rule", "{\n  \"a\": \"@\",\n  \"b\": \"(role:x\"\n}\n", `p.yaml:3: rule "b": missing ")"`},
		{"http", "x: \"http://example.com\"\n", `p.yaml:1: rule "x": check "http://example.com": http checks are not supported`},
		{"null value", "a: \"@\"\nb:\n", `p.yaml:2: rule "b": the value must be a check string`},
		{"list value", "a:\n  - role:admin\n", `p.yaml:2: rule "a": the value must be a check string`},
		{"bool value", "a: true\n", `p.yaml:1: rule "a"`},
		{"duplicate", "a: \"@\"\nb: \"!\"\na: \"!\"\n", `p.yaml:3: rule "a" is already defined on line 1`},
		{"not a map", "- a\n- b\n", "p.yaml:1: policy file must be a mapping"},
		{"yaml syntax", "a: \"@\"\nb: [\n", "line"},
		{"cycle", "\"compute:get\": \"rule:admin_or_owner\"\n\"admin_required\": \"rule:compute:get\"\n",
			`p.yaml:2: rule "admin_required": rule references itself`},
	}
	for _, tt := range tests {
		_, err := New(testDefaults, writeFile(t, "p.yaml", tt.content))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(testDefaults, filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing policy file is not an error")
	}
}
