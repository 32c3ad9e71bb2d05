package policy

import (
	"strings"
	"testing"
)

// benchRules mirrors keystone's effective identity:get_user rule: the new
// default or'ed with the deprecated one, through a chain of named rules.
var benchRules = []Rule{
	{Name: "admin_required", Check: "role:admin or is_admin:1"},
	{Name: "owner", Check: "user_id:%(user_id)s"},
	{Name: "admin_or_owner", Check: "rule:admin_required or rule:owner"},
	{Name: "identity:get_user", Check: "((role:reader and system_scope:all) or " +
		"(role:reader and token.domain.id:%(target.user.domain_id)s) or " +
		"user_id:%(target.user.id)s) or (rule:admin_or_owner)"},
}

var benchCreds = Credentials{
	"user_id":         "0b2f6c3c1d7e4c8e9a6f0d1e2c3b4a59",
	"project_id":      "9f1e2d3c4b5a69788796a5b4c3d2e1f0",
	"domain_id":       nil,
	"system_scope":    "",
	"roles":           []string{"member", "reader"},
	"token.domain.id": nil,
}

// benchTarget is the flattened target keystone builds for GET /v3/users/{id}
// on another user: every branch of the rule is evaluated and fails.
var benchTarget = map[string]any{
	"user_id":               "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d",
	"target.user.id":        "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d",
	"target.user.domain_id": "default",
	"target.user.name":      "bob",
}

// handwritten is what a programmer would write for the same rule, the
// reference the engine is measured against.
func handwritten(c Credentials, t map[string]any) bool {
	hasRole := func(name string) bool {
		roles, _ := c["roles"].([]string)
		for _, r := range roles {
			if strings.EqualFold(r, name) {
				return true
			}
		}
		return false
	}
	eq := func(ck, tk string) bool {
		tv, ok := t[tk]
		if !ok {
			return false
		}
		cv, ok := c[ck]
		return ok && cv == tv
	}
	return (hasRole("reader") && c["system_scope"] == "all") ||
		(hasRole("reader") && eq("token.domain.id", "target.user.domain_id")) ||
		eq("user_id", "target.user.id") ||
		hasRole("admin") || eq("user_id", "user_id")
}

// BenchmarkEnforce runs the handwritten reference first and reports the
// engine's time as a ratio to it ("x-handwritten"), so the figure means the
// same on any machine.
func BenchmarkEnforce(b *testing.B) {
	e, err := New(benchRules, "")
	if err != nil {
		b.Fatal(err)
	}
	if e.Enforce("identity:get_user", benchCreds, benchTarget) || handwritten(benchCreds, benchTarget) {
		b.Fatal("the benchmark case should be denied, to walk every branch")
	}
	var refNs float64
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			handwritten(benchCreds, benchTarget)
		}
		refNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Enforce("identity:get_user", benchCreds, benchTarget)
		}
		if refNs > 0 {
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns/refNs, "x-handwritten")
		}
	})
}

func BenchmarkEnforceNestedTarget(b *testing.B) {
	e, err := New(benchRules, "")
	if err != nil {
		b.Fatal(err)
	}
	target := map[string]any{
		"user_id": "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d",
		"target": map[string]any{"user": map[string]any{
			"id": "5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d", "domain_id": "default", "name": "bob",
		}},
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Enforce("identity:get_user", benchCreds, target)
	}
}
