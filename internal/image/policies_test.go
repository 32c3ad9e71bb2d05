package image

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"kumo/internal/platform/policy"
)

// glanceZedRules are the names glance.policies.list_rules() registers in
// Glance Zed (25.0.0 and 25.1.0 are identical), in registration order.
var glanceZedRules = []string{
	// base.py
	"default", "context_is_admin",
	// image.py
	"add_image", "delete_image", "get_image", "get_images", "modify_image",
	"publicize_image", "communitize_image", "download_image", "upload_image",
	"delete_image_location", "get_image_location", "set_image_location",
	"add_member", "delete_member", "get_member", "get_members", "modify_member",
	"manage_image_cache", "deactivate", "reactivate", "copy_image",
	// tasks.py
	"get_task", "get_tasks", "add_task", "modify_task", "tasks_api_access",
	// metadef.py
	"metadef_default", "metadef_admin",
	"get_metadef_namespace", "get_metadef_namespaces", "modify_metadef_namespace",
	"add_metadef_namespace", "delete_metadef_namespace",
	"get_metadef_object", "get_metadef_objects", "modify_metadef_object",
	"add_metadef_object", "delete_metadef_object",
	"list_metadef_resource_types", "get_metadef_resource_type",
	"add_metadef_resource_type_association", "remove_metadef_resource_type_association",
	"get_metadef_property", "get_metadef_properties", "modify_metadef_property",
	"add_metadef_property", "remove_metadef_property",
	"get_metadef_tag", "get_metadef_tags", "modify_metadef_tag",
	"add_metadef_tag", "add_metadef_tags", "delete_metadef_tag", "delete_metadef_tags",
	// cache.py
	"cache_image", "cache_list", "cache_delete",
	// discovery.py
	"stores_info_detail",
}

func TestDefaultPoliciesParse(t *testing.T) {
	var names []string
	seen := map[string]bool{}
	for _, r := range DefaultPolicies {
		if seen[r.Name] {
			t.Errorf("rule %q declared twice", r.Name)
		}
		seen[r.Name] = true
		names = append(names, r.Name)
		if _, err := policy.Parse(r.Check); err != nil {
			t.Errorf("rule %q: %v", r.Name, err)
		}
		if r.Description == "" {
			t.Errorf("rule %q has no description", r.Name)
		}
	}
	if !slices.Equal(names, glanceZedRules) {
		t.Errorf("rules differ from Glance Zed's 60:\n got %v\nwant %v", names, glanceZedRules)
	}
	ref := regexp.MustCompile(`rule:([A-Za-z0-9_:]+)`)
	for _, r := range DefaultPolicies {
		for _, m := range ref.FindAllStringSubmatch(r.Check, -1) {
			if !seen[m[1]] {
				t.Errorf("rule %q references unknown rule %q", r.Name, m[1])
			}
		}
	}
	e, err := policy.New(DefaultPolicies, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Names(); len(got) != len(glanceZedRules) {
		t.Errorf("enforcer has %d rules, want %d", len(got), len(glanceZedRules))
	}
}

func TestDefaultPoliciesEffectiveStrings(t *testing.T) {
	// Spelled out, so that dropping the deprecated half (what
	// enforce_new_defaults=True would do) or a transcription slip is caught.
	want := map[string]string{
		"default": "(@) or (role:admin)",
		"get_image": "(role:admin or (role:reader and (project_id:%(project_id)s or " +
			"project_id:%(member_id)s or 'community':%(visibility)s or " +
			"'public':%(visibility)s or 'shared':%(visibility)s))) or (rule:default)",
		"add_image": "(role:admin or (role:member and project_id:%(project_id)s and " +
			"project_id:%(owner)s)) or (rule:default)",
		"get_member": "(role:admin or role:reader and (project_id:%(project_id)s or " +
			"project_id:%(member_id)s)) or (rule:default)",
		"modify_member":    "(role:admin or (role:member and project_id:%(member_id)s)) or (rule:default)",
		"publicize_image":  "role:admin",
		"get_task":         "rule:default",
		"metadef_default":  "",
		"add_metadef_tags": "rule:metadef_admin",
		"get_metadef_namespace": "(role:admin or (role:reader and (project_id:%(project_id)s or " +
			"'public':%(visibility)s))) or (rule:metadef_default)",
		"cache_list": "(role:admin) or (rule:manage_image_cache)",
	}
	e, err := policy.New(DefaultPolicies, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range want {
		got, ok := e.CheckString(name)
		if !ok || got != check {
			t.Errorf("%s = %q, want %q", name, got, check)
		}
	}
}

// newDefaults returns the rules as Glance Zed has them with
// [oslo_policy] enforce_new_defaults=True: the deprecated halves dropped.
func newDefaults(t *testing.T) []policy.Rule {
	t.Helper()
	deprecated := []string{
		") or (rule:default)", ") or (rule:metadef_default)",
		") or (rule:manage_image_cache)", ") or (role:admin)",
	}
	out := make([]policy.Rule, len(DefaultPolicies))
	for i, r := range DefaultPolicies {
		for _, d := range deprecated {
			if s, ok := strings.CutSuffix(r.Check, d); ok {
				r.Check = strings.TrimPrefix(s, "(")
				break
			}
		}
		if r.Check == "@" {
			r.Check = ""
		}
		out[i] = r
	}
	return out
}

// Personas, with the implied roles keystone adds (admin > member > reader).
var (
	ownerMember = policy.Credentials{"roles": []string{"member", "reader"}, "project_id": "p1", "user_id": "u1"}
	ownerReader = policy.Credentials{"roles": []string{"reader"}, "project_id": "p1", "user_id": "u2"}
	otherMember = policy.Credentials{"roles": []string{"member", "reader"}, "project_id": "p2", "user_id": "u3"}
	otherReader = policy.Credentials{"roles": []string{"reader"}, "project_id": "p2", "user_id": "u4"}
	admin       = policy.Credentials{"roles": []string{"admin", "member", "reader"}, "project_id": "p9", "user_id": "u9"}
	noRole      = policy.Credentials{"roles": []string{}, "project_id": "p2", "user_id": "u5"}
)

// imageTarget is the target Glance's ImageTarget gives for an image owned
// by p1, as seen by a caller of callerProject.
func imageTarget(visibility, callerProject string) map[string]any {
	var member any // None unless a shared image found through membership
	if visibility == "shared" && callerProject != "p1" {
		member = callerProject
	}
	return map[string]any{"project_id": "p1", "owner": "p1", "member_id": member,
		"visibility": visibility, "id": "i1", "status": "active"}
}

type pcase struct {
	name   string
	action string
	creds  policy.Credentials
	target map[string]any
	stock  bool // Glance Zed as deployed: enforce_new_defaults=False
	secure bool // with enforce_new_defaults=True
}

func cases() []pcase {
	caller := func(c policy.Credentials) string { return c["project_id"].(string) }
	img := func(vis string, c policy.Credentials) map[string]any { return imageTarget(vis, caller(c)) }
	create := func(c policy.Credentials, owner string) map[string]any {
		return map[string]any{"project_id": owner, "owner": owner, "visibility": "private"}
	}
	list := func(c policy.Credentials) map[string]any { return map[string]any{"project_id": caller(c)} }
	ns := func(vis string) map[string]any { return map[string]any{"project_id": "p1", "visibility": vis} }
	// In stock Zed every image rule with a deprecated rule:default is true
	// for anyone; the handler's ownership and visibility checks (see the
	// comment at the top of policies.go) are what deny.
	return []pcase{
		{"owner member creates an image", "add_image", ownerMember, create(ownerMember, "p1"), true, true},
		{"member creates an image for another project", "add_image", ownerMember, create(ownerMember, "p2"), true, false},
		{"admin creates an image for another project", "add_image", admin, create(admin, "p1"), true, true},
		{"owner member gets own private image", "get_image", ownerMember, img("private", ownerMember), true, true},
		{"owner member modifies own image", "modify_image", ownerMember, img("private", ownerMember), true, true},
		{"owner member deletes own image", "delete_image", ownerMember, img("private", ownerMember), true, true},
		{"owner member uploads to own image", "upload_image", ownerMember, img("private", ownerMember), true, true},
		{"owner member downloads own image", "download_image", ownerMember, img("private", ownerMember), true, true},
		{"owner member lists images", "get_images", ownerMember, list(ownerMember), true, true},
		{"owner reader gets own private image", "get_image", ownerReader, img("private", ownerReader), true, true},
		{"owner reader lists images", "get_images", ownerReader, list(ownerReader), true, true},
		{"owner reader may not modify (stock: policy allows, owner check too)", "modify_image", ownerReader, img("private", ownerReader), true, false},
		{"owner reader may not delete", "delete_image", ownerReader, img("private", ownerReader), true, false},
		{"owner reader may not download", "download_image", ownerReader, img("private", ownerReader), true, false},
		{"other member gets a private image (stock: hidden by lookup)", "get_image", otherMember, img("private", otherMember), true, false},
		{"other member downloads a private image", "download_image", otherMember, img("private", otherMember), true, false},
		{"other member modifies a private image (stock: hidden by lookup)", "modify_image", otherMember, img("private", otherMember), true, false},
		{"other member gets a public image", "get_image", otherMember, img("public", otherMember), true, true},
		{"other reader gets a public image", "get_image", otherReader, img("public", otherReader), true, true},
		{"other member downloads a public image", "download_image", otherMember, img("public", otherMember), true, true},
		{"other member gets a community image", "get_image", otherMember, img("community", otherMember), true, true},
		{"other member downloads a community image", "download_image", otherMember, img("community", otherMember), true, true},
		{"other member modifies a public image (stock: owner check denies)", "modify_image", otherMember, img("public", otherMember), true, false},
		{"image member gets a shared image", "get_image", otherMember, img("shared", otherMember), true, true},
		{"owner member publicizes", "publicize_image", ownerMember, img("private", ownerMember), false, false},
		{"admin publicizes", "publicize_image", admin, img("private", admin), true, true},
		{"owner member communitizes", "communitize_image", ownerMember, img("private", ownerMember), true, true},
		{"other member communitizes", "communitize_image", otherMember, img("private", otherMember), true, false},
		{"admin deactivates", "deactivate", admin, img("public", admin), true, true},
		{"admin reactivates", "reactivate", admin, img("public", admin), true, true},
		{"owner member deactivates own image", "deactivate", ownerMember, img("private", ownerMember), true, true},
		{"owner reader deactivates own image", "deactivate", ownerReader, img("private", ownerReader), true, false},
		{"other member deactivates a public image (stock: owner check denies)", "deactivate", otherMember, img("public", otherMember), true, false},
		{"owner member copies own image to other stores", "copy_image", ownerMember, img("private", ownerMember), false, false},
		{"admin copies an image", "copy_image", admin, img("public", admin), true, true},
		{"owner member removes a location", "delete_image_location", ownerMember, img("private", ownerMember), true, false},
		{"owner member sets a location", "set_image_location", ownerMember, img("private", ownerMember), true, true},
		{"owner reader reads locations", "get_image_location", ownerReader, img("private", ownerReader), true, true},
		{"owner member adds a member", "add_member", ownerMember, img("shared", ownerMember), true, true},
		{"image member adds a member (stock: owner check denies)", "add_member", otherMember, img("shared", otherMember), true, false},
		{"owner member lists members", "get_members", ownerMember, img("shared", ownerMember), true, true},
		{"image member lists members", "get_members", otherReader, img("shared", otherReader), true, true},
		{"image member accepts", "modify_member", otherMember, img("shared", otherMember), true, true},
		{"image reader may not accept", "modify_member", otherReader, img("shared", otherReader), true, false},
		{"owner sets member status (stock: code denies the owner)", "modify_member", ownerMember, img("shared", ownerMember), true, false},
		{"admin modifies a member", "modify_member", admin, img("shared", admin), true, true},
		{"member uses the tasks API", "tasks_api_access", ownerMember, map[string]any{}, false, false},
		{"admin uses the tasks API", "tasks_api_access", admin, map[string]any{}, true, true},
		{"member's import creates a task", "add_task", ownerMember, map[string]any{}, true, true},
		{"member caches an image", "cache_image", ownerMember, img("private", ownerMember), false, false},
		{"admin lists the cache", "cache_list", admin, map[string]any{}, true, true},
		{"member sees store details", "stores_info_detail", ownerMember, map[string]any{}, false, false},
		{"admin sees store details", "stores_info_detail", admin, map[string]any{}, true, true},
		{"member gets another project's private namespace", "get_metadef_namespace", otherReader, ns("private"), true, false},
		{"member gets a public namespace", "get_metadef_namespace", otherReader, ns("public"), true, true},
		{"owner reader gets its private namespace", "get_metadef_namespace", ownerReader, ns("private"), true, true},
		{"member lists namespaces", "get_metadef_namespaces", otherReader, map[string]any{"project_id": "p2"}, true, true},
		{"member creates a namespace", "add_metadef_namespace", ownerMember, map[string]any{"project_id": "p1"}, false, false},
		{"admin creates a namespace", "add_metadef_namespace", admin, map[string]any{"project_id": "p9"}, true, true},
		{"owner member adds tags", "add_metadef_tags", ownerMember, ns("private"), false, false},
		{"is the caller admin", "context_is_admin", ownerMember, map[string]any{}, false, false},
		{"admin is admin", "context_is_admin", admin, map[string]any{}, true, true},
	}
}

func TestPolicyCases(t *testing.T) {
	stock, err := policy.New(DefaultPolicies, "")
	if err != nil {
		t.Fatal(err)
	}
	secure, err := policy.New(newDefaults(t), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases() {
		if !stock.Known(c.action) {
			t.Errorf("%s: unknown action %q", c.name, c.action)
			continue
		}
		if got := stock.Enforce(c.action, c.creds, c.target); got != c.stock {
			t.Errorf("stock Zed: %s: %s = %v, want %v", c.name, c.action, got, c.stock)
		}
		if got := secure.Enforce(c.action, c.creds, c.target); got != c.secure {
			t.Errorf("enforce_new_defaults: %s: %s = %v, want %v", c.name, c.action, got, c.secure)
		}
	}
}

// TestStockZedAdminOnly pins which rules deny a caller with no role at all
// in stock Zed: everything else is open at the policy layer.
func TestStockZedAdminOnly(t *testing.T) {
	e, err := policy.New(DefaultPolicies, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"add_metadef_namespace", "add_metadef_object", "add_metadef_property",
		"add_metadef_resource_type_association", "add_metadef_tag", "add_metadef_tags",
		"cache_delete", "cache_image", "cache_list", "context_is_admin", "copy_image",
		"delete_metadef_namespace", "delete_metadef_object", "delete_metadef_tag",
		"delete_metadef_tags", "manage_image_cache", "metadef_admin",
		"modify_metadef_namespace", "modify_metadef_object", "modify_metadef_property",
		"modify_metadef_tag", "publicize_image", "remove_metadef_property",
		"remove_metadef_resource_type_association", "stores_info_detail", "tasks_api_access",
	}
	var denied []string
	for _, name := range e.Names() {
		if !e.Enforce(name, noRole, imageTarget("private", "p2")) {
			denied = append(denied, name)
		}
		if !e.Enforce(name, admin, imageTarget("private", "p9")) {
			t.Errorf("admin denied %s", name)
		}
	}
	sort.Strings(denied)
	if !slices.Equal(denied, want) {
		t.Errorf("denied to a role-less caller:\n got %v\nwant %v", denied, want)
	}
}
