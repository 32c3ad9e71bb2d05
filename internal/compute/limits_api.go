package compute

import (
	"net/http"
	"slices"
)

// Limits (nova/api/openstack/compute/limits.py and views/limits.py): the
// project's quotas as absolute limits and its usage; no rate limits.
// tenant_id lets an admin read another project's.
func init() {
	register(route{method: "GET", path: "/limits", rule: "os_compute_api:limits", query: limitsQuery, handle: showLimits})
}

func limitsQuery(mv Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: mv.AtLeast(2, 75), Properties: []Prop{
		{"tenant_id", multi(&Schema{Type: Types("string")})},
	}}
}

// absoluteLimitNames maps a quota to its absolute limit names.
var absoluteLimitNames = map[string][]string{
	"ram":                         {"maxTotalRAMSize"},
	"instances":                   {"maxTotalInstances"},
	"cores":                       {"maxTotalCores"},
	"key_pairs":                   {"maxTotalKeypairs"},
	"floating_ips":                {"maxTotalFloatingIps"},
	"metadata_items":              {"maxServerMeta", "maxImageMeta"},
	"injected_files":              {"maxPersonality"},
	"injected_file_content_bytes": {"maxPersonalitySize"},
	"security_groups":             {"maxSecurityGroups"},
	"security_group_rules":        {"maxSecurityGroupRules"},
	"server_groups":               {"maxServerGroups"},
	"server_group_members":        {"maxServerGroupMembers"},
}

// usedLimitNames maps a used-limit name to its quota.
var usedLimitNames = map[string]string{
	"totalRAMUsed":            "ram",
	"totalCoresUsed":          "cores",
	"totalInstancesUsed":      "instances",
	"totalFloatingIpsUsed":    "floating_ips",
	"totalSecurityGroupsUsed": "security_groups",
	"totalServerGroupsUsed":   "server_groups",
}

// limitsFiltered is what a microversion leaves out: 2.36 the network
// limits, 2.57 the personality ones (maxImageMeta goes at 2.39).
func limitsFiltered(mv Microversion) []string {
	var out []string
	if mv.AtLeast(2, 36) {
		out = append(out, "floating_ips", "security_groups", "security_group_rules")
	}
	if mv.AtLeast(2, 57) {
		out = append(out, "injected_files", "injected_file_content_bytes")
	}
	return out
}

func showLimits(c *call) error {
	project := c.project()
	if v, ok := c.r.URL.Query()["tenant_id"]; ok {
		// Nova's req.GET.get keeps the last value.
		project = last(v)
		if err := c.enforce("os_compute_api:limits:other_project", map[string]any{"project_id": c.project(), "user_id": c.user()}); err != nil {
			return err
		}
	}
	values, err := c.s.projectQuotas(c.ctx, project, true)
	if err != nil {
		return err
	}
	filtered := limitsFiltered(c.mv)
	abs := map[string]any{}
	for quota, names := range absoluteLimitNames {
		if slices.Contains(filtered, quota) {
			continue
		}
		for _, n := range names {
			if n == "maxImageMeta" && c.mv.AtLeast(2, 39) {
				continue
			}
			abs[n] = values[quota].Limit
		}
	}
	for n, quota := range usedLimitNames {
		if !slices.Contains(filtered, quota) {
			abs[n] = values[quota].InUse
		}
	}
	return c.json(http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}})
}
