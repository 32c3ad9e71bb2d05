package identity

import (
	"net/http"
	"slices"
	"sort"

	"kumo/internal/platform/httpapi"
)

// domainConfigRoutes are domain-specific configuration: per-domain values
// of the [identity] and [ldap] options, stored for a domain's identity
// backend. Go's mux cannot hold both /v3/domains/{domain_id}/config/{group}
// and /v3/domains/config/{group}/default (neither pattern is more
// specific), so one GET door serves each depth and configPathTarget tells
// them apart; Keystone's rule differs by path, hence actionFor.
var domainConfigRoutes = []route{
	{pattern: "GET /v3/domains/config/default", action: "identity:get_domain_config_default", handle: getDefaultConfig},
	{pattern: "PUT /v3/domains/{domain_id}/config", action: "identity:create_domain_config", handle: createDomainConfig},
	{pattern: "GET /v3/domains/{domain_id}/config", action: "identity:get_domain_config", handle: getConfig},
	{pattern: "PATCH /v3/domains/{domain_id}/config", action: "identity:update_domain_config", handle: updateDomainConfig},
	{pattern: "DELETE /v3/domains/{domain_id}/config", action: "identity:delete_domain_config", handle: deleteDomainConfig},
	// GET /v3/domains/{domain_id}/config/{group} and /v3/domains/config/{group}/default
	{pattern: "GET /v3/domains/{domain_id}/{a}/{b}", action: "identity:get_domain_config", target: configPathTarget, actionFor: configReadAction, handle: getConfig},
	// GET /v3/domains/{domain_id}/config/{group}/{option} and /v3/domains/config/{group}/{option}/default
	{pattern: "GET /v3/domains/{domain_id}/{a}/{b}/{c}", action: "identity:get_domain_config", target: configPathTarget, actionFor: configReadAction, handle: getConfig},
	{pattern: "PATCH /v3/domains/{domain_id}/config/{group}", action: "identity:update_domain_config", handle: updateDomainConfig},
	{pattern: "PATCH /v3/domains/{domain_id}/config/{group}/{option}", action: "identity:update_domain_config", handle: updateDomainConfig},
	{pattern: "DELETE /v3/domains/{domain_id}/config/{group}", action: "identity:delete_domain_config", handle: deleteDomainConfig},
	{pattern: "DELETE /v3/domains/{domain_id}/config/{group}/{option}", action: "identity:delete_domain_config", handle: deleteDomainConfig},
}

// configOptions are the options a domain may set (Keystone's whitelist),
// sensitiveOptions those it may set but never reads back.
var (
	configOptions = map[string][]string{
		"identity": {"driver", "list_limit"},
		"ldap": {"url", "user", "suffix", "query_scope", "page_size", "alias_dereferencing", "debug_level",
			"chase_referrals", "user_tree_dn", "user_filter", "user_objectclass", "user_id_attribute",
			"user_name_attribute", "user_mail_attribute", "user_description_attribute", "user_pass_attribute",
			"user_enabled_attribute", "user_enabled_invert", "user_enabled_mask", "user_enabled_default",
			"user_attribute_ignore", "user_default_project_id_attribute", "user_enabled_emulation",
			"user_enabled_emulation_dn", "user_enabled_emulation_use_group_config",
			"user_additional_attribute_mapping", "group_tree_dn", "group_filter", "group_objectclass",
			"group_id_attribute", "group_name_attribute", "group_members_are_ids", "group_member_attribute",
			"group_desc_attribute", "group_attribute_ignore", "group_additional_attribute_mapping",
			"tls_cacertfile", "tls_cacertdir", "use_tls", "tls_req_cert", "use_pool", "pool_size",
			"pool_retry_max", "pool_retry_delay", "pool_connection_timeout", "pool_connection_lifetime",
			"use_auth_pool", "auth_pool_size", "auth_pool_connection_lifetime"},
	}
	sensitiveOptions = map[string][]string{"identity": {}, "ldap": {"password"}}
)

// configDefaults are the values of the options when a domain sets none:
// Keystone's own defaults.
var configDefaults = map[string]map[string]any{
	"identity": {"driver": "sql", "list_limit": nil},
	"ldap": {
		"url": "ldap://localhost", "user": nil, "suffix": "cn=example,cn=com", "query_scope": "one",
		"page_size": 0, "alias_dereferencing": "default", "debug_level": nil, "chase_referrals": nil,
		"user_tree_dn": nil, "user_filter": nil, "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn",
		"user_name_attribute": "sn", "user_mail_attribute": "mail", "user_description_attribute": "description",
		"user_pass_attribute": "userPassword", "user_enabled_attribute": "enabled", "user_enabled_invert": false,
		"user_enabled_mask": 0, "user_enabled_default": "True", "user_attribute_ignore": []string{"default_project_id"},
		"user_default_project_id_attribute": nil, "user_enabled_emulation": false, "user_enabled_emulation_dn": nil,
		"user_enabled_emulation_use_group_config": false, "user_additional_attribute_mapping": []string{},
		"group_tree_dn": nil, "group_filter": nil, "group_objectclass": "groupOfNames", "group_id_attribute": "cn",
		"group_name_attribute": "ou", "group_members_are_ids": false, "group_member_attribute": "member",
		"group_desc_attribute": "description", "group_attribute_ignore": []string{},
		"group_additional_attribute_mapping": []string{}, "tls_cacertfile": nil, "tls_cacertdir": nil,
		"use_tls": false, "tls_req_cert": "demand", "use_pool": true, "pool_size": 10, "pool_retry_max": 3,
		"pool_retry_delay": 0.1, "pool_connection_timeout": -1, "pool_connection_lifetime": 600,
		"use_auth_pool": true, "auth_pool_size": 100, "auth_pool_connection_lifetime": 60,
	},
}

const securityCompliance = "security_compliance"

func invalidConfig(format string, args ...any) error {
	return httpapi.Forbidden("Invalid domain specific configuration: %s.", fmtArgs(format, args...))
}

// checkGroupOption accepts a supported group and, if given, option.
func checkGroupOption(group, option string) error {
	if group == "" {
		return nil
	}
	if _, ok := configOptions[group]; !ok {
		return invalidConfig("Group %s is not supported for domain specific configurations", group)
	}
	if option != "" && !slices.Contains(configOptions[group], option) && !slices.Contains(sensitiveOptions[group], option) {
		return invalidConfig("Option %s in group %s is not supported for domain specific configurations", option, group)
	}
	return nil
}

// configInput checks a config body ({group: {option: value}}) and returns
// its options.
func configInput(cfg map[string]any) ([]ConfigOption, error) {
	if len(cfg) == 0 {
		return nil, invalidConfig("No options specified")
	}
	groups := make([]string, 0, len(cfg))
	for g := range cfg {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var out []ConfigOption
	for _, g := range groups {
		opts, ok := cfg[g].(map[string]any)
		if !ok || len(opts) == 0 {
			return nil, invalidConfig("The value of group %s specified in the config should be a dictionary of options", g)
		}
		names := make([]string, 0, len(opts))
		for o := range opts {
			names = append(names, o)
		}
		sort.Strings(names)
		for _, o := range names {
			if err := checkGroupOption(g, o); err != nil {
				return nil, err
			}
			out = append(out, ConfigOption{Group: g, Option: o, Value: opts[o], Sensitive: slices.Contains(sensitiveOptions[g], o)})
		}
	}
	return out, nil
}

// renderConfig nests options as {group: {option: value}}.
func renderConfig(opts []ConfigOption) map[string]any {
	out := map[string]any{}
	for _, o := range opts {
		g, ok := out[o.Group].(map[string]any)
		if !ok {
			g = map[string]any{}
			out[o.Group] = g
		}
		g[o.Option] = o.Value
	}
	return out
}

func configNotFound(domainID, group, option string) error {
	what := "any options"
	switch {
	case option != "":
		what = "option " + option + " in group " + group
	case group != "":
		what = "group " + group
	}
	return httpapi.NotFound("Could not find %s in domain configuration for domain %s.", what, domainID)
}

// configBody returns the "config" object of the request ({} if absent).
func (c *call) configBody() (map[string]any, error) {
	body, err := c.body()
	if err != nil {
		return nil, err
	}
	v, ok := body["config"]
	if !ok {
		return map[string]any{}, nil
	}
	cfg, isObj := v.(map[string]any)
	if !isObj {
		return nil, invalid("config", "%s is not of type 'object'", pyRepr(v))
	}
	return cfg, nil
}

func createDomainConfig(c *call) error {
	d, err := c.s.loadDomain(c.ctx, c.param("domain_id"))
	if err != nil {
		return err
	}
	cfg, err := c.configBody()
	if err != nil {
		return err
	}
	opts, err := configInput(cfg)
	if err != nil {
		return err
	}
	before, err := c.allConfig(d.ID, "", "")
	if err != nil {
		return err
	}
	if err := c.s.store.ReplaceDomainConfig(c.ctx, d.ID, opts); err != nil {
		return err
	}
	shown, err := c.s.store.DomainConfig(c.ctx, d.ID, "", "", false)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if len(before) > 0 {
		status = http.StatusOK
	}
	return c.json(status, map[string]any{"config": renderConfig(shown)})
}

// allConfig returns a domain's options, sensitive ones included.
func (c *call) allConfig(domainID, group, option string) ([]ConfigOption, error) {
	shown, err := c.s.store.DomainConfig(c.ctx, domainID, group, option, false)
	if err != nil {
		return nil, err
	}
	hidden, err := c.s.store.DomainConfig(c.ctx, domainID, group, option, true)
	return append(shown, hidden...), err
}

// configPath is what a GET below /v3/domains/ names.
type configPath struct {
	defaults             bool // /v3/domains/config/{group}[/{option}]/default
	domainID, group, opt string
}

// configPathTarget resolves the shared GET doors; paths that are neither
// form answer 404 before any policy check, like any unknown path.
func configPathTarget(c *call) (map[string]any, error) {
	d, a, b, last := c.param("domain_id"), c.param("a"), c.param("b"), c.param("c")
	deep := last != ""
	if !deep {
		last = b
	}
	var p configPath
	switch {
	case d == "config" && last == "default":
		p = configPath{defaults: true, group: a}
		if deep {
			p.opt = b
		}
	case a == "config":
		p = configPath{domainID: d, group: b}
		if deep {
			p.opt = last
		}
	default:
		return nil, httpapi.NotFound("The resource could not be found.")
	}
	c.loaded = &p
	return nil, nil
}

// configReadAction is the rule Keystone enforces for a config read.
func configReadAction(c *call) string {
	p, _ := c.loaded.(*configPath)
	switch {
	case p == nil:
		return "identity:get_domain_config"
	case p.defaults:
		return "identity:get_domain_config_default"
	case p.group == securityCompliance:
		return "identity:get_security_compliance_domain_config"
	}
	return "identity:get_domain_config"
}

func getDefaultConfig(c *call) error {
	return c.json(http.StatusOK, map[string]any{"config": configDefaults})
}

// getConfig serves every config read: a domain's whole config (no target
// ran), a group or option of it, or Keystone's defaults.
func getConfig(c *call) error {
	p, ok := c.loaded.(*configPath)
	if !ok {
		p = &configPath{domainID: c.param("domain_id")}
	}
	if p.defaults {
		if err := checkGroupOption(p.group, p.opt); err != nil {
			return err
		}
		if p.opt == "" {
			return c.json(http.StatusOK, map[string]any{"config": map[string]any{p.group: configDefaults[p.group]}})
		}
		if !slices.Contains(configOptions[p.group], p.opt) {
			return invalidConfig("Reading the default for option %s in group %s is not supported", p.opt, p.group)
		}
		return c.json(http.StatusOK, map[string]any{"config": map[string]any{p.opt: configDefaults[p.group][p.opt]}})
	}
	d, err := c.s.loadDomain(c.ctx, p.domainID)
	if err != nil {
		return err
	}
	if p.group == securityCompliance {
		return c.securityComplianceConfig(d.ID, p.opt)
	}
	if err := checkGroupOption(p.group, p.opt); err != nil {
		return err
	}
	opts, err := c.s.store.DomainConfig(c.ctx, d.ID, p.group, p.opt, false)
	if err != nil {
		return err
	}
	if len(opts) == 0 {
		return configNotFound(d.ID, p.group, p.opt)
	}
	if p.opt != "" {
		return c.json(http.StatusOK, map[string]any{"config": map[string]any{p.opt: opts[0].Value}})
	}
	return c.json(http.StatusOK, map[string]any{"config": renderConfig(opts)})
}

// securityComplianceConfig shows the password rules of the default domain
// (kumo's [security_compliance] configuration) to any authenticated user,
// so clients can tell users what a valid password is.
func (c *call) securityComplianceConfig(domainID, option string) error {
	if domainID != DefaultDomainID {
		return invalidConfig("Reading security compliance information for any domain other than the default domain is not allowed or supported")
	}
	sc := c.s.cfg.Security
	vals := map[string]any{"password_regex": nullIfEmpty(sc.PasswordRegex), "password_regex_description": nullIfEmpty(sc.PasswordRegexDescription)}
	if option == "" {
		return c.json(http.StatusOK, map[string]any{"config": map[string]any{securityCompliance: vals}})
	}
	v, ok := vals[option]
	if !ok {
		return invalidConfig("Reading security compliance values other than password_regex and password_regex_description is not allowed")
	}
	return c.json(http.StatusOK, map[string]any{"config": map[string]any{option: v}})
}

func updateDomainConfig(c *call) error {
	d, err := c.s.loadDomain(c.ctx, c.param("domain_id"))
	if err != nil {
		return err
	}
	cfg, err := c.configBody()
	if err != nil {
		return err
	}
	group, option := c.param("group"), c.param("option")
	update := cfg
	if group != "" && option != "" {
		// The option's path takes {"config": {option: value}}.
		update = map[string]any{group: cfg}
	}
	opts, err := configInput(update)
	if err != nil {
		return err
	}
	if err := checkGroupOption(group, option); err != nil {
		return err
	}
	if group != "" {
		inner, _ := update[group].(map[string]any)
		if len(update) != 1 || (option != "" && len(inner) != 1) {
			if option != "" {
				return invalidConfig("Trying to update option %s in group %s, so that, and only that, option must be specified  in the config", option, group)
			}
			return invalidConfig("Trying to update group %s, so that, and only that, group must be specified in the config", group)
		}
		if inner == nil {
			for other := range update {
				return invalidConfig("request to update group %s, but config provided contains group %s instead", group, other)
			}
		}
		if option != "" {
			if _, ok := inner[option]; !ok {
				for other := range inner {
					return invalidConfig("Trying to update option %s in group %s, but config provided contains option %s instead", option, group, other)
				}
			}
		}
		existing, err := c.allConfig(d.ID, group, option)
		if err != nil {
			return err
		}
		if len(existing) == 0 {
			return configNotFound(d.ID, group, option)
		}
	}
	if err := c.s.store.UpdateDomainConfig(c.ctx, d.ID, opts); err != nil {
		return err
	}
	shown, err := c.s.store.DomainConfig(c.ctx, d.ID, "", "", false)
	if err != nil {
		return err
	}
	if len(shown) == 0 {
		return configNotFound(d.ID, "", "")
	}
	return c.json(http.StatusOK, map[string]any{"config": renderConfig(shown)})
}

func deleteDomainConfig(c *call) error {
	d, err := c.s.loadDomain(c.ctx, c.param("domain_id"))
	if err != nil {
		return err
	}
	group, option := c.param("group"), c.param("option")
	if err := checkGroupOption(group, option); err != nil {
		return err
	}
	if group != "" {
		existing, err := c.allConfig(d.ID, group, "")
		if err != nil {
			return err
		}
		if len(existing) == 0 {
			return configNotFound(d.ID, group, "")
		}
		if option != "" {
			found := false
			for _, o := range existing {
				found = found || o.Option == option
			}
			if !found {
				return configNotFound(d.ID, group, option)
			}
		}
	}
	if err := c.s.store.DeleteDomainConfig(c.ctx, d.ID, group, option); err != nil {
		return err
	}
	return c.noContent()
}
