package identity

import (
	"regexp"
	"strings"
	"testing"

	"kumo/internal/platform/policy"
)

func TestDefaultPoliciesParse(t *testing.T) {
	names := make(map[string]bool, len(DefaultPolicies))
	identity := 0
	for _, r := range DefaultPolicies {
		if names[r.Name] {
			t.Errorf("rule %q declared twice", r.Name)
		}
		names[r.Name] = true
		if strings.HasPrefix(r.Name, "identity:") {
			identity++
		}
		if _, err := policy.Parse(r.Check); err != nil {
			t.Errorf("rule %q: %v", r.Name, err)
		}
		if r.Description == "" {
			t.Errorf("rule %q has no description", r.Name)
		}
	}
	// Keystone Zed registers 192 identity:* rules and 8 base rules.
	if identity != 192 || len(DefaultPolicies) != 200 {
		t.Errorf("%d identity rules, %d in all; want 192 and 200", identity, len(DefaultPolicies))
	}
	ref := regexp.MustCompile(`rule:([A-Za-z0-9_:]+)`)
	for _, r := range DefaultPolicies {
		for _, m := range ref.FindAllStringSubmatch(r.Check, -1) {
			if !names[m[1]] {
				t.Errorf("rule %q references unknown rule %q", r.Name, m[1])
			}
		}
	}
	if _, err := policy.New(DefaultPolicies, ""); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultPoliciesEffectiveStrings(t *testing.T) {
	// A few rules spelled out, so a regeneration that drops the deprecated
	// half (what enforce_new_defaults=True would do) is caught.
	want := map[string]string{
		"identity:get_user": "((role:reader and system_scope:all) or " +
			"(role:reader and token.domain.id:%(target.user.domain_id)s) or " +
			"user_id:%(target.user.id)s) or (rule:admin_or_owner)",
		"identity:create_project": "((role:admin and system_scope:all) or " +
			"(role:admin and domain_id:%(target.project.domain_id)s)) or (rule:admin_required)",
		"identity:create_application_credential": "user_id:%(user_id)s",
		"identity:list_regions":                  "",
		"identity:validate_token": "((role:reader and system_scope:all) or rule:service_role or " +
			"rule:token_subject) or (rule:service_admin_or_token_subject)",
	}
	e, err := policy.New(DefaultPolicies, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range want {
		if got, _ := e.CheckString(name); got != check {
			t.Errorf("%s = %q, want %q", name, got, check)
		}
	}
}

// Credentials as keystone builds them for each kind of token. Roles include
// the implied ones, as in a keystone token (admin implies member implies
// reader after keystone-manage bootstrap).
var (
	projectAdmin = policy.Credentials{
		"user_id": "padmin", "project_id": "p1", "domain_id": nil,
		"roles":                   []string{"admin", "member", "reader"},
		"token.project.domain.id": "d1",
	}
	projectMember = policy.Credentials{
		"user_id": "alice", "project_id": "p1", "domain_id": nil,
		"roles":                   []string{"member", "reader"},
		"token.project.domain.id": "d1",
	}
	projectReader = policy.Credentials{
		"user_id": "rita", "project_id": "p1", "domain_id": nil,
		"roles":                   []string{"reader"},
		"token.project.domain.id": "d1",
	}
	systemAdmin = policy.Credentials{
		"user_id": "sadmin", "system_scope": "all", "project_id": nil, "domain_id": nil,
		"roles": []string{"admin", "member", "reader"},
	}
	systemReader = policy.Credentials{
		"user_id": "sreader", "system_scope": "all", "project_id": nil, "domain_id": nil,
		"roles": []string{"reader"},
	}
	domainAdmin = policy.Credentials{
		"user_id": "dadmin", "domain_id": "d1", "project_id": nil,
		"roles":           []string{"admin", "member", "reader"},
		"token.domain.id": "d1",
	}
	domainReader = policy.Credentials{
		"user_id": "dreader", "domain_id": "d1", "project_id": nil,
		"roles":           []string{"reader"},
		"token.domain.id": "d1",
	}
	serviceUser = policy.Credentials{
		"user_id": "nova", "project_id": "service", "domain_id": nil,
		"roles": []string{"service"},
	}
)

func TestDefaultPoliciesDecisions(t *testing.T) {
	e, err := policy.New(DefaultPolicies, "")
	if err != nil {
		t.Fatal(err)
	}
	user := func(id, domain string) map[string]any {
		return map[string]any{"user_id": id, "target.user.id": id, "target.user.domain_id": domain}
	}
	project := func(id, domain string) map[string]any {
		return map[string]any{"target": map[string]any{"project": map[string]any{"id": id, "domain_id": domain}}}
	}
	grant := func(userDomain, projectDomain string, roleDomain any) map[string]any {
		return map[string]any{
			"target.user.domain_id":    userDomain,
			"target.project.domain_id": projectDomain,
			"target.role.domain_id":    roleDomain,
		}
	}
	inDomain := map[string]any{"target.domain_id": "d1"}
	tests := []struct {
		who    string
		creds  policy.Credentials
		action string
		target map[string]any
		want   bool
	}{
		// Zed defaults: an admin anywhere is a cloud admin.
		{"project admin", projectAdmin, "identity:create_project", project("", "d2"), true},
		{"project admin", projectAdmin, "identity:create_domain", nil, true},
		{"project admin", projectAdmin, "identity:delete_user", user("bob", "d2"), true},
		{"project member", projectMember, "identity:create_project", project("", "d1"), false},
		{"project reader", projectReader, "identity:create_project", project("", "d1"), false},
		{"project reader", projectReader, "identity:create_user", user("", "d1"), false},
		{"project member", projectMember, "identity:create_region", nil, false},
		{"system admin", systemAdmin, "identity:create_project", project("", "d1"), true},
		{"system admin", systemAdmin, "identity:create_region", nil, true},
		{"system reader", systemReader, "identity:create_project", project("", "d1"), false},
		{"system reader", systemReader, "identity:list_projects", nil, true},
		{"system reader", systemReader, "identity:get_user", user("bob", "d2"), true},
		{"system reader", systemReader, "identity:delete_user", user("bob", "d2"), false},

		// Users on themselves.
		{"member, self", projectMember, "identity:get_user", user("alice", "d1"), true},
		{"member, other", projectMember, "identity:get_user", user("bob", "d1"), false},
		{"member, self", projectMember, "identity:list_user_projects", user("alice", "d1"), true},
		{"member, other", projectMember, "identity:list_user_projects", user("bob", "d1"), false},
		{"member, self", projectMember, "identity:list_groups_for_user", user("alice", "d1"), true},
		{"member, self", projectMember, "identity:update_user", user("alice", "d1"), false},
		{"member, self", projectMember, "identity:create_application_credential", map[string]any{"user_id": "alice"}, true},
		{"member, other", projectMember, "identity:create_application_credential", map[string]any{"user_id": "bob"}, false},
		{"member, self", projectMember, "identity:list_application_credentials", map[string]any{"user_id": "alice"}, true},
		{"member, self", projectMember, "identity:list_access_rules", user("alice", "d1"), true},
		{"member, self", projectMember, "identity:ec2_create_credential",
			map[string]any{"user_id": "alice", "target.credential.user_id": "alice"}, true},

		// Domain-scoped tokens.
		{"domain reader", domainReader, "identity:list_users", inDomain, true},
		{"domain reader", domainReader, "identity:list_users", nil, false},
		{"domain reader", domainReader, "identity:list_projects", inDomain, true},
		{"domain reader", domainReader, "identity:list_role_assignments", inDomain, true},
		{"domain reader", domainReader, "identity:get_user", user("bob", "d1"), true},
		{"domain reader", domainReader, "identity:get_user", user("bob", "d2"), false},
		{"domain reader", domainReader, "identity:get_project", project("p9", "d1"), true},
		{"domain reader", domainReader, "identity:get_project", project("p9", "d2"), false},
		{"domain reader", domainReader, "identity:create_user", user("", "d1"), false},
		{"domain reader", domainReader, "identity:check_grant", grant("d1", "d1", nil), true},
		{"domain reader", domainReader, "identity:check_grant", grant("d1", "d1", "d1"), true},
		{"domain reader", domainReader, "identity:check_grant", grant("d1", "d1", "d2"), false},
		{"domain reader", domainReader, "identity:check_grant", grant("d2", "d1", nil), false},
		{"domain reader", domainReader, "identity:create_grant", grant("d1", "d1", nil), false},
		{"domain admin", domainAdmin, "identity:list_users", inDomain, true},
		{"domain admin", domainAdmin, "identity:create_user", user("", "d1"), true},
		{"domain admin", domainAdmin, "identity:create_grant", grant("d1", "d1", nil), true},

		// Projects and domains seen from a project token.
		{"member", projectMember, "identity:get_project", project("p1", "d1"), true},
		{"member", projectMember, "identity:get_project", project("p2", "d1"), false},
		{"member", projectMember, "identity:list_project_tags", project("p1", "d1"), true},
		{"member", projectMember, "identity:create_project_tag", project("p1", "d1"), false},
		{"member", projectMember, "identity:get_domain", map[string]any{"target.domain.id": "d1"}, true},
		{"member", projectMember, "identity:get_domain", map[string]any{"target.domain.id": "d2"}, false},
		{"member", projectMember, "identity:list_domains", nil, false},

		// Tokens.
		{"member, own token", projectMember, "identity:validate_token", map[string]any{"target.token.user_id": "alice"}, true},
		{"member, other token", projectMember, "identity:validate_token", map[string]any{"target.token.user_id": "bob"}, false},
		{"member, own token", projectMember, "identity:revoke_token", map[string]any{"target.token.user_id": "alice"}, true},
		{"member, other token", projectMember, "identity:check_token", map[string]any{"target.token.user_id": "bob"}, false},
		{"service", serviceUser, "identity:validate_token", map[string]any{"target.token.user_id": "bob"}, true},
		{"service", serviceUser, "identity:revoke_token", map[string]any{"target.token.user_id": "bob"}, false},
		{"service", serviceUser, "identity:list_revoke_events", nil, true},
		{"member", projectMember, "identity:list_revoke_events", nil, false},

		// Credentials.
		{"member, own", projectMember, "identity:get_credential", map[string]any{"target.credential.user_id": "alice"}, true},
		{"member, other", projectMember, "identity:get_credential", map[string]any{"target.credential.user_id": "bob"}, false},
		{"member, own", projectMember, "identity:create_credential", map[string]any{"target.credential.user_id": "alice"}, true},
		{"member, no target", projectMember, "identity:delete_credential", nil, false},

		// Trusts.
		{"trustor", projectMember, "identity:create_trust", map[string]any{"trust.trustor_user_id": "alice"}, true},
		{"not trustor", projectMember, "identity:create_trust", map[string]any{"trust.trustor_user_id": "bob"}, false},
		{"trustee", projectMember, "identity:get_trust",
			map[string]any{"target.trust.trustor_user_id": "bob", "target.trust.trustee_user_id": "alice"}, true},
		{"stranger", projectReader, "identity:get_trust",
			map[string]any{"target.trust.trustor_user_id": "bob", "target.trust.trustee_user_id": "alice"}, false},
		{"trustee", projectMember, "identity:delete_trust",
			map[string]any{"target.trust.trustor_user_id": "bob", "target.trust.trustee_user_id": "alice"}, false},
		{"member", projectMember, "identity:list_trusts", nil, false},

		// Limits.
		{"member, own project", projectMember, "identity:get_limit",
			map[string]any{"target.limit.project_id": "p1", "target.limit.project.domain_id": "d1"}, true},
		{"member, other project", projectMember, "identity:get_limit",
			map[string]any{"target.limit.project_id": "p2", "target.limit.project.domain_id": "d1"}, false},
		{"member, domain limit", projectMember, "identity:get_limit",
			map[string]any{"target.limit.project_id": nil, "target.limit.domain.id": "d1"}, false},
		{"domain reader, domain limit", domainReader, "identity:get_limit",
			map[string]any{"target.limit.project_id": nil, "target.limit.domain.id": "d1"}, true},
		{"system admin, domain limit", systemAdmin, "identity:get_limit",
			map[string]any{"target.limit.project_id": nil, "target.limit.domain.id": "d1"}, true},
		{"member", projectMember, "identity:create_limits", nil, false},

		// Open to any authenticated caller.
		{"anyone", nil, "identity:list_regions", nil, true},
		{"anyone", nil, "identity:get_auth_catalog", nil, true},
		{"anyone", projectReader, "identity:get_registered_limit", nil, true},
		{"anyone", projectReader, "identity:get_security_compliance_domain_config", nil, true},
	}
	for _, tt := range tests {
		if !e.Known(tt.action) {
			t.Errorf("%s: unknown action", tt.action)
			continue
		}
		if got := e.Enforce(tt.action, tt.creds, tt.target); got != tt.want {
			t.Errorf("%s: %s on %v = %v, want %v", tt.who, tt.action, tt.target, got, tt.want)
		}
	}
	// Keystone does not enforce policy on POST /v3/users/{user_id}/password.
	if e.Known("identity:change_password") {
		t.Error("identity:change_password is not a Zed rule")
	}
}
