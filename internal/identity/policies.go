package identity

import "kumo/internal/platform/policy"

// What the identity handlers must put in the policy target and credentials.
//
// These rules are Keystone Zed's (22.x) effective defaults, so they only
// decide correctly when a handler builds the target the way keystone's
// RBACEnforcer.enforce_call does. The target is one map: path parameters at
// the top level, the objects acted on under "target", and (for create_trust
// only) the request body's top-level object. Keys may be flat
// ("target.user.domain_id") or nested maps; the policy engine reads both.
// Where the row says "omit", leave the key out: a missing key makes the
// check false (only the admin and system branches can then pass), which is
// what keystone gets when a lookup fails or the case does not apply.
//
//	target key                    put there
//	----------------------------  -------------------------------------------------------
//	user_id                       the {user_id} path parameter of /v3/users/{user_id}/...
//	                              (rule:owner, admin_or_owner, list_groups_for_user,
//	                              create_application_credential, ec2_list/create_credential);
//	                              for get/delete_application_credential: the owner
//	                              (user_id) of the application credential, if it exists
//	trust.trustor_user_id         create_trust: trustor_user_id from the request body's "trust"
//	target.user.id                the user of the {user_id} path parameter: get_user,
//	target.user.domain_id           update/delete_user, list_user_projects, list_groups_for_user,
//	                              access rules, grants, group membership, system grants;
//	                              create_user: the body's "user" as sent (omit domain_id if
//	                              the body has none; keystone defaults it after enforcement);
//	                              omit target.user when the user does not exist
//	target.group.domain_id        the group of the {group_id} path parameter (groups, group
//	                              membership, group grants); create_group: the body's
//	                              "group" as sent; list_groups: the token's domain_id when
//	                              the token is domain-scoped, else omit
//	target.project.id             the project of the {project_id} path parameter (projects,
//	target.project.domain_id        project tags, project grants); create_project: the body's
//	                              "project" as sent; list_role_assignments_for_tree: the
//	                              project named by the scope.project.id query parameter
//	target.domain.id              the domain of the {domain_id} path parameter: get_domain,
//	                              domain grants (user or group on /v3/domains/{domain_id}/...)
//	target.domain_id              list_users, list_projects, list_role_assignments: the
//	                              token's domain_id when the token is domain-scoped, else omit
//	target.role.domain_id         grants (check/create/revoke_grant): the role of the
//	                              {role_id} path parameter; nil for a global role. It must be
//	                              present even when nil: "None:%(target.role.domain_id)s"
//	target.credential.user_id     /v3/credentials/{credential_id}: the stored credential's
//	                              user_id; create_credential: the body's "credential";
//	                              update_credential: stored merged with the body;
//	                              list_credentials: the caller's user_id unless the token is
//	                              system-scoped (then omit), and each listed credential is
//	                              then filtered through get_credential with itself as target;
//	                              ec2_get/ec2_delete_credential: the EC2 credential found by
//	                              the {credential_id} access key; ec2_create_credential:
//	                              {user_id: the {user_id} path parameter}
//	target.token.user_id          check/validate/revoke_token: the user of the token in
//	                              X-Subject-Token
//	target.trust.trustor_user_id  the trust of the {trust_id} path parameter (get/delete_trust,
//	target.trust.trustee_user_id    list_roles_for_trust, get_role_for_trust);
//	                              list_trusts_for_trustor/trustee: the trustor_user_id or
//	                              trustee_user_id query parameter
//	target.limit.project_id       get_limit: the limit of {limit_id} (project_id nil for a
//	target.limit.project.domain_id  domain limit, present either way); for a project limit its
//	target.limit.domain.id          project under target.limit.project, for a domain limit
//	                              its domain under target.limit.domain
//
// Every other rule reads no target at all. Note that keystone's
// DELETE /v3/users/{user_id}/OS-OAUTH1/access_tokens/{id} enforces
// identity:ec2_delete_credential, not identity:delete_access_token, and that
// POST /v3/users/{user_id}/password is not policy-enforced at all (it checks
// the original password), so there is no identity:change_password rule.
//
//	credential key                put there
//	----------------------------  -------------------------------------------------------
//	roles                         the token's role names ([]string), implied roles included
//	system_scope                  "all" for a system-scoped token, else omit
//	user_id                       the token's user
//	project_id                    the token's project; nil when not project-scoped
//	domain_id                     the token's domain; nil when not domain-scoped
//	token.domain.id               the token's domain (domain-scoped tokens only)
//	token.project.domain.id       the domain of the token's project (project-scoped only)
//	is_admin                      never set: it is keystone's old admin_token bypass
//
// Keystone's defaults enforce_scope=False and enforce_new_defaults=False make
// each rule that has a deprecated predecessor "(new) or (deprecated)", and
// the deprecated halves are mostly rule:admin_required, i.e. role:admin on
// any scope. So in effect a project admin anywhere is a cloud admin, as in
// a stock Zed deployment.

// DefaultPolicies are Keystone Zed's default identity policy rules, with the
// deprecated check strings or'ed in as oslo.policy does by default.
// Descriptions list the API operations each rule guards.
var DefaultPolicies = []policy.Rule{
	// Base rules, referenced by rule:NAME.
	{
		Name:        "admin_required",
		Check:       "role:admin or is_admin:1",
		Description: "Anyone holding the admin role, on any scope: scope is not enforced by default.",
	},
	{
		Name:        "service_role",
		Check:       "role:service",
		Description: "Anyone holding the service role.",
	},
	{
		Name:        "service_or_admin",
		Check:       "rule:admin_required or rule:service_role",
		Description: "The admin or the service role.",
	},
	{
		Name:        "owner",
		Check:       "user_id:%(user_id)s",
		Description: "The caller is the user named by the user_id path parameter.",
	},
	{
		Name:        "admin_or_owner",
		Check:       "rule:admin_required or rule:owner",
		Description: "The admin role, or the caller is the user of the path.",
	},
	{
		Name:        "token_subject",
		Check:       "user_id:%(target.token.user_id)s",
		Description: "The caller owns the token in X-Subject-Token.",
	},
	{
		Name:        "admin_or_token_subject",
		Check:       "rule:admin_required or rule:token_subject",
		Description: "The admin role, or the owner of the subject token.",
	},
	{
		Name:        "service_admin_or_token_subject",
		Check:       "rule:service_or_admin or rule:token_subject",
		Description: "The admin or service role, or the owner of the subject token.",
	},

	// Access rules of application credentials.
	{
		Name:        "identity:get_access_rule",
		Check:       "(role:reader and system_scope:all) or user_id:%(target.user.id)s",
		Description: "GET,HEAD /v3/users/{user_id}/access_rules/{access_rule_id}",
	},
	{
		Name:        "identity:list_access_rules",
		Check:       "(role:reader and system_scope:all) or user_id:%(target.user.id)s",
		Description: "GET,HEAD /v3/users/{user_id}/access_rules",
	},
	{
		Name:        "identity:delete_access_rule",
		Check:       "(role:admin and system_scope:all) or user_id:%(target.user.id)s",
		Description: "DELETE /v3/users/{user_id}/access_rules/{access_rule_id}",
	},

	// OAuth1 access tokens.
	{
		Name:        "identity:authorize_request_token",
		Check:       "rule:admin_required",
		Description: "PUT /v3/OS-OAUTH1/authorize/{request_token_id}",
	},
	{
		Name:        "identity:get_access_token",
		Check:       "rule:admin_required",
		Description: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}",
	},
	{
		Name:        "identity:get_access_token_role",
		Check:       "rule:admin_required",
		Description: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles/{role_id}",
	},
	{
		Name:        "identity:list_access_tokens",
		Check:       "rule:admin_required",
		Description: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens",
	},
	{
		Name:        "identity:list_access_token_roles",
		Check:       "rule:admin_required",
		Description: "GET /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}/roles",
	},
	{
		Name:        "identity:delete_access_token",
		Check:       "rule:admin_required",
		Description: "DELETE /v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}",
	},

	// Application credentials.
	{
		Name:        "identity:get_application_credential",
		Check:       "((role:reader and system_scope:all) or rule:owner) or (rule:admin_or_owner)",
		Description: "GET,HEAD /v3/users/{user_id}/application_credentials/{application_credential_id}",
	},
	{
		Name:        "identity:list_application_credentials",
		Check:       "((role:reader and system_scope:all) or rule:owner) or (rule:admin_or_owner)",
		Description: "GET,HEAD /v3/users/{user_id}/application_credentials",
	},
	{
		Name:        "identity:create_application_credential",
		Check:       "user_id:%(user_id)s",
		Description: "POST /v3/users/{user_id}/application_credentials",
	},
	{
		Name:        "identity:delete_application_credential",
		Check:       "((role:admin and system_scope:all) or rule:owner) or (rule:admin_or_owner)",
		Description: "DELETE /v3/users/{user_id}/application_credentials/{application_credential_id}",
	},

	// Auth catalog and scopes.
	{
		Name:        "identity:get_auth_catalog",
		Check:       "",
		Description: "GET,HEAD /v3/auth/catalog",
	},
	{
		Name:        "identity:get_auth_projects",
		Check:       "",
		Description: "GET,HEAD /v3/auth/projects",
	},
	{
		Name:        "identity:get_auth_domains",
		Check:       "",
		Description: "GET,HEAD /v3/auth/domains",
	},
	{
		Name:        "identity:get_auth_system",
		Check:       "",
		Description: "GET,HEAD /v3/auth/system",
	},

	// OAuth1 consumers.
	{
		Name:        "identity:get_consumer",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-OAUTH1/consumers/{consumer_id}",
	},
	{
		Name:        "identity:list_consumers",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-OAUTH1/consumers",
	},
	{
		Name:        "identity:create_consumer",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/OS-OAUTH1/consumers",
	},
	{
		Name:        "identity:update_consumer",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/OS-OAUTH1/consumers/{consumer_id}",
	},
	{
		Name:        "identity:delete_consumer",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-OAUTH1/consumers/{consumer_id}",
	},

	// Credentials.
	{
		Name: "identity:get_credential",
		Check: "((role:reader and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required)",
		Description: "GET /v3/credentials/{credential_id}",
	},
	{
		Name: "identity:list_credentials",
		Check: "((role:reader and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required)",
		Description: "GET /v3/credentials",
	},
	{
		Name: "identity:create_credential",
		Check: "((role:admin and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required)",
		Description: "POST /v3/credentials",
	},
	{
		Name: "identity:update_credential",
		Check: "((role:admin and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required)",
		Description: "PATCH /v3/credentials/{credential_id}",
	},
	{
		Name: "identity:delete_credential",
		Check: "((role:admin and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required)",
		Description: "DELETE /v3/credentials/{credential_id}",
	},

	// Domains.
	{
		Name: "identity:get_domain",
		Check: "((role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or " +
			"token.project.domain.id:%(target.domain.id)s) or (rule:admin_required or " +
			"token.project.domain.id:%(target.domain.id)s)",
		Description: "GET /v3/domains/{domain_id}",
	},
	{
		Name:        "identity:list_domains",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/domains",
	},
	{
		Name:        "identity:create_domain",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/domains",
	},
	{
		Name:        "identity:update_domain",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/domains/{domain_id}",
	},
	{
		Name:        "identity:delete_domain",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/domains/{domain_id}",
	},

	// Domain configuration.
	{
		Name:        "identity:create_domain_config",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/domains/{domain_id}/config",
	},
	{
		Name:        "identity:get_domain_config",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/domains/{domain_id}/config; GET,HEAD /v3/domains/{domain_id}/config/{group}; GET,HEAD /v3/domains/{domain_id}/config/{group}/{option}",
	},
	{
		Name:        "identity:get_security_compliance_domain_config",
		Check:       "",
		Description: "GET,HEAD /v3/domains/{domain_id}/config/security_compliance; GET,HEAD /v3/domains/{domain_id}/config/security_compliance/{option}",
	},
	{
		Name:        "identity:update_domain_config",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/domains/{domain_id}/config; PATCH /v3/domains/{domain_id}/config/{group}; PATCH /v3/domains/{domain_id}/config/{group}/{option}",
	},
	{
		Name:        "identity:delete_domain_config",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/domains/{domain_id}/config; DELETE /v3/domains/{domain_id}/config/{group}; DELETE /v3/domains/{domain_id}/config/{group}/{option}",
	},
	{
		Name:        "identity:get_domain_config_default",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/domains/config/default; GET,HEAD /v3/domains/config/{group}/default; GET,HEAD /v3/domains/config/{group}/{option}/default",
	},

	// EC2 credentials.
	{
		Name: "identity:ec2_get_credential",
		Check: "((role:reader and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s))",
		Description: "GET /v3/users/{user_id}/credentials/OS-EC2/{credential_id}",
	},
	{
		Name:        "identity:ec2_list_credentials",
		Check:       "((role:reader and system_scope:all) or rule:owner) or (rule:admin_or_owner)",
		Description: "GET /v3/users/{user_id}/credentials/OS-EC2",
	},
	{
		Name:        "identity:ec2_create_credential",
		Check:       "((role:admin and system_scope:all) or rule:owner) or (rule:admin_or_owner)",
		Description: "POST /v3/users/{user_id}/credentials/OS-EC2",
	},
	{
		Name: "identity:ec2_delete_credential",
		Check: "((role:admin and system_scope:all) or user_id:%(target.credential.user_id)s) or " +
			"(rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s))",
		Description: "DELETE /v3/users/{user_id}/credentials/OS-EC2/{credential_id}",
	},

	// Endpoints.
	{
		Name:        "identity:get_endpoint",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:list_endpoints",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/endpoints",
	},
	{
		Name:        "identity:create_endpoint",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/endpoints",
	},
	{
		Name:        "identity:update_endpoint",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:delete_endpoint",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/endpoints/{endpoint_id}",
	},

	// Endpoint groups (OS-EP-FILTER).
	{
		Name:        "identity:create_endpoint_group",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/OS-EP-FILTER/endpoint_groups",
	},
	{
		Name:        "identity:list_endpoint_groups",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-EP-FILTER/endpoint_groups",
	},
	{
		Name:        "identity:get_endpoint_group",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}",
	},
	{
		Name:        "identity:update_endpoint_group",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}",
	},
	{
		Name:        "identity:delete_endpoint_group",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}",
	},
	{
		Name:        "identity:list_projects_associated_with_endpoint_group",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects",
	},
	{
		Name:        "identity:list_endpoints_associated_with_endpoint_group",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/endpoints",
	},
	{
		Name:        "identity:get_endpoint_group_in_project",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}",
	},
	{
		Name:        "identity:list_endpoint_groups_for_project",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups",
	},
	{
		Name:        "identity:add_endpoint_group_to_project",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}",
	},
	{
		Name:        "identity:remove_endpoint_group_from_project",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}/projects/{project_id}",
	},

	// Role grants on projects, domains and the system.
	{
		Name: "identity:check_grant",
		Check: "((role:reader and system_scope:all) or ((role:reader and " +
			"domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:reader and domain_id:%(target.user.domain_id)s and " +
			"domain_id:%(target.domain.id)s) or (role:reader and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:reader and domain_id:%(target.group.domain_id)s and " +
			"domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or " +
			"None:%(target.role.domain_id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/projects/{project_id}/users/{user_id}/roles/{role_id}; GET,HEAD /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}; GET,HEAD /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}; GET,HEAD /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}; GET,HEAD /v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects; GET,HEAD /v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects; GET,HEAD /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects; GET,HEAD /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
	},
	{
		Name: "identity:list_grants",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:reader and domain_id:%(target.user.domain_id)s and " +
			"domain_id:%(target.domain.id)s) or (role:reader and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:reader and domain_id:%(target.group.domain_id)s and " +
			"domain_id:%(target.domain.id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/projects/{project_id}/users/{user_id}/roles; GET,HEAD /v3/projects/{project_id}/groups/{group_id}/roles; GET,HEAD /v3/domains/{domain_id}/users/{user_id}/roles; GET,HEAD /v3/domains/{domain_id}/groups/{group_id}/roles; GET /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects; GET /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects",
	},
	{
		Name: "identity:create_grant",
		Check: "((role:admin and system_scope:all) or ((role:admin and " +
			"domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:admin and domain_id:%(target.user.domain_id)s and " +
			"domain_id:%(target.domain.id)s) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:admin and domain_id:%(target.group.domain_id)s and " +
			"domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or " +
			"None:%(target.role.domain_id)s)) or (rule:admin_required)",
		Description: "PUT /v3/projects/{project_id}/users/{user_id}/roles/{role_id}; PUT /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}; PUT /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}; PUT /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}; PUT /v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects; PUT /v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects; PUT /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects; PUT /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
	},
	{
		Name: "identity:revoke_grant",
		Check: "((role:admin and system_scope:all) or ((role:admin and " +
			"domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:admin and domain_id:%(target.user.domain_id)s and " +
			"domain_id:%(target.domain.id)s) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or " +
			"(role:admin and domain_id:%(target.group.domain_id)s and " +
			"domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or " +
			"None:%(target.role.domain_id)s)) or (rule:admin_required)",
		Description: "DELETE /v3/projects/{project_id}/users/{user_id}/roles/{role_id}; DELETE /v3/projects/{project_id}/groups/{group_id}/roles/{role_id}; DELETE /v3/domains/{domain_id}/users/{user_id}/roles/{role_id}; DELETE /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}; DELETE /v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects; DELETE /v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects; DELETE /v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects; DELETE /v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
	},
	{
		Name:        "identity:list_system_grants_for_user",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/system/users/{user_id}/roles",
	},
	{
		Name:        "identity:check_system_grant_for_user",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/system/users/{user_id}/roles/{role_id}",
	},
	{
		Name:        "identity:create_system_grant_for_user",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/system/users/{user_id}/roles/{role_id}",
	},
	{
		Name:        "identity:revoke_system_grant_for_user",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/system/users/{user_id}/roles/{role_id}",
	},
	{
		Name:        "identity:list_system_grants_for_group",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/system/groups/{group_id}/roles",
	},
	{
		Name:        "identity:check_system_grant_for_group",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/system/groups/{group_id}/roles/{role_id}",
	},
	{
		Name:        "identity:create_system_grant_for_group",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/system/groups/{group_id}/roles/{role_id}",
	},
	{
		Name:        "identity:revoke_system_grant_for_group",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/system/groups/{group_id}/roles/{role_id}",
	},

	// Groups and membership.
	{
		Name: "identity:get_group",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.group.domain_id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/groups/{group_id}",
	},
	{
		Name: "identity:list_groups",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.group.domain_id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/groups",
	},
	{
		Name: "identity:list_groups_for_user",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s) or " +
			"(rule:admin_or_owner)",
		Description: "GET,HEAD /v3/users/{user_id}/groups",
	},
	{
		Name: "identity:create_group",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s)) or (rule:admin_required)",
		Description: "POST /v3/groups",
	},
	{
		Name: "identity:update_group",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s)) or (rule:admin_required)",
		Description: "PATCH /v3/groups/{group_id}",
	},
	{
		Name: "identity:delete_group",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s)) or (rule:admin_required)",
		Description: "DELETE /v3/groups/{group_id}",
	},
	{
		Name: "identity:list_users_in_group",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.group.domain_id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/groups/{group_id}/users",
	},
	{
		Name: "identity:remove_user_from_group",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)) or " +
			"(rule:admin_required)",
		Description: "DELETE /v3/groups/{group_id}/users/{user_id}",
	},
	{
		Name: "identity:check_user_in_group",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)) or " +
			"(rule:admin_required)",
		Description: "GET,HEAD /v3/groups/{group_id}/users/{user_id}",
	},
	{
		Name: "identity:add_user_to_group",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)) or " +
			"(rule:admin_required)",
		Description: "PUT /v3/groups/{group_id}/users/{user_id}",
	},

	// Federation: identity providers.
	{
		Name:        "identity:create_identity_provider",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/OS-FEDERATION/identity_providers/{idp_id}",
	},
	{
		Name:        "identity:list_identity_providers",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-FEDERATION/identity_providers",
	},
	{
		Name:        "identity:get_identity_provider",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-FEDERATION/identity_providers/{idp_id}",
	},
	{
		Name:        "identity:update_identity_provider",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/OS-FEDERATION/identity_providers/{idp_id}",
	},
	{
		Name:        "identity:delete_identity_provider",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-FEDERATION/identity_providers/{idp_id}",
	},

	// Implied roles.
	{
		Name:        "identity:get_implied_role",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/roles/{prior_role_id}/implies/{implied_role_id}",
	},
	{
		Name:        "identity:list_implied_roles",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/roles/{prior_role_id}/implies",
	},
	{
		Name:        "identity:create_implied_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/roles/{prior_role_id}/implies/{implied_role_id}",
	},
	{
		Name:        "identity:delete_implied_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/roles/{prior_role_id}/implies/{implied_role_id}",
	},
	{
		Name:        "identity:list_role_inference_rules",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/role_inferences",
	},
	{
		Name:        "identity:check_implied_role",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "HEAD /v3/roles/{prior_role_id}/implies/{implied_role_id}",
	},

	// Project and domain limits.
	{
		Name:        "identity:get_limit_model",
		Check:       "",
		Description: "GET,HEAD /v3/limits/model",
	},
	{
		Name: "identity:get_limit",
		Check: "(role:reader and system_scope:all) or (domain_id:%(target.limit.domain.id)s or " +
			"domain_id:%(target.limit.project.domain_id)s) or " +
			"(project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)",
		Description: "GET,HEAD /v3/limits/{limit_id}",
	},
	{
		Name:        "identity:list_limits",
		Check:       "",
		Description: "GET,HEAD /v3/limits",
	},
	{
		Name:        "identity:create_limits",
		Check:       "role:admin and system_scope:all",
		Description: "POST /v3/limits",
	},
	{
		Name:        "identity:update_limit",
		Check:       "role:admin and system_scope:all",
		Description: "PATCH /v3/limits/{limit_id}",
	},
	{
		Name:        "identity:delete_limit",
		Check:       "role:admin and system_scope:all",
		Description: "DELETE /v3/limits/{limit_id}",
	},

	// Federation: mappings.
	{
		Name:        "identity:create_mapping",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/OS-FEDERATION/mappings/{mapping_id}",
	},
	{
		Name:        "identity:get_mapping",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-FEDERATION/mappings/{mapping_id}",
	},
	{
		Name:        "identity:list_mappings",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-FEDERATION/mappings",
	},
	{
		Name:        "identity:delete_mapping",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-FEDERATION/mappings/{mapping_id}",
	},
	{
		Name:        "identity:update_mapping",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/OS-FEDERATION/mappings/{mapping_id}",
	},

	// Policy blobs (the policy API).
	{
		Name:        "identity:get_policy",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/policies/{policy_id}",
	},
	{
		Name:        "identity:list_policies",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/policies",
	},
	{
		Name:        "identity:create_policy",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/policies",
	},
	{
		Name:        "identity:update_policy",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/policies/{policy_id}",
	},
	{
		Name:        "identity:delete_policy",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/policies/{policy_id}",
	},

	// Policy associations (OS-ENDPOINT-POLICY).
	{
		Name:        "identity:create_policy_association_for_endpoint",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:check_policy_association_for_endpoint",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:delete_policy_association_for_endpoint",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:create_policy_association_for_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}",
	},
	{
		Name:        "identity:check_policy_association_for_service",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}",
	},
	{
		Name:        "identity:delete_policy_association_for_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}",
	},
	{
		Name:        "identity:create_policy_association_for_region_and_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}/regions/{region_id}",
	},
	{
		Name:        "identity:check_policy_association_for_region_and_service",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}/regions/{region_id}",
	},
	{
		Name:        "identity:delete_policy_association_for_region_and_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/services/{service_id}/regions/{region_id}",
	},
	{
		Name:        "identity:get_policy_for_endpoint",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy",
	},
	{
		Name:        "identity:list_endpoints_for_policy",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints",
	},

	// Projects and project tags.
	{
		Name: "identity:get_project",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s) or " +
			"(rule:admin_required or project_id:%(target.project.id)s)",
		Description: "GET /v3/projects/{project_id}",
	},
	{
		Name: "identity:list_projects",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.domain_id)s)) or (rule:admin_required)",
		Description: "GET /v3/projects",
	},
	{
		Name: "identity:list_user_projects",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s) or " +
			"(rule:admin_or_owner)",
		Description: "GET /v3/users/{user_id}/projects",
	},
	{
		Name: "identity:create_project",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s)) or (rule:admin_required)",
		Description: "POST /v3/projects",
	},
	{
		Name: "identity:update_project",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s)) or (rule:admin_required)",
		Description: "PATCH /v3/projects/{project_id}",
	},
	{
		Name: "identity:delete_project",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s)) or (rule:admin_required)",
		Description: "DELETE /v3/projects/{project_id}",
	},
	{
		Name: "identity:list_project_tags",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s) or " +
			"(rule:admin_required or project_id:%(target.project.id)s)",
		Description: "GET,HEAD /v3/projects/{project_id}/tags",
	},
	{
		Name: "identity:get_project_tag",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s) or " +
			"(rule:admin_required or project_id:%(target.project.id)s)",
		Description: "GET,HEAD /v3/projects/{project_id}/tags/{value}",
	},
	{
		Name: "identity:update_project_tags",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s) or (role:admin and " +
			"project_id:%(target.project.id)s)) or (rule:admin_required)",
		Description: "PUT /v3/projects/{project_id}/tags",
	},
	{
		Name: "identity:create_project_tag",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s) or (role:admin and " +
			"project_id:%(target.project.id)s)) or (rule:admin_required)",
		Description: "PUT /v3/projects/{project_id}/tags/{value}",
	},
	{
		Name: "identity:delete_project_tags",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s) or (role:admin and " +
			"project_id:%(target.project.id)s)) or (rule:admin_required)",
		Description: "DELETE /v3/projects/{project_id}/tags",
	},
	{
		Name: "identity:delete_project_tag",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"domain_id:%(target.project.domain_id)s) or (role:admin and " +
			"project_id:%(target.project.id)s)) or (rule:admin_required)",
		Description: "DELETE /v3/projects/{project_id}/tags/{value}",
	},

	// Project endpoints (OS-EP-FILTER).
	{
		Name:        "identity:list_projects_for_endpoint",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects",
	},
	{
		Name:        "identity:add_endpoint_to_project",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:check_endpoint_in_project",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}",
	},
	{
		Name:        "identity:list_endpoints_for_project",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-EP-FILTER/projects/{project_id}/endpoints",
	},
	{
		Name:        "identity:remove_endpoint_from_project",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}",
	},

	// Federation: protocols.
	{
		Name:        "identity:create_protocol",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
	},
	{
		Name:        "identity:update_protocol",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
	},
	{
		Name:        "identity:get_protocol",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
	},
	{
		Name:        "identity:list_protocols",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols",
	},
	{
		Name:        "identity:delete_protocol",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
	},

	// Regions.
	{
		Name:        "identity:get_region",
		Check:       "",
		Description: "GET,HEAD /v3/regions/{region_id}",
	},
	{
		Name:        "identity:list_regions",
		Check:       "",
		Description: "GET,HEAD /v3/regions",
	},
	{
		Name:        "identity:create_region",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/regions; PUT /v3/regions/{region_id}",
	},
	{
		Name:        "identity:update_region",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/regions/{region_id}",
	},
	{
		Name:        "identity:delete_region",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/regions/{region_id}",
	},

	// Registered limits.
	{
		Name:        "identity:get_registered_limit",
		Check:       "",
		Description: "GET,HEAD /v3/registered_limits/{registered_limit_id}",
	},
	{
		Name:        "identity:list_registered_limits",
		Check:       "",
		Description: "GET,HEAD /v3/registered_limits",
	},
	{
		Name:        "identity:create_registered_limits",
		Check:       "role:admin and system_scope:all",
		Description: "POST /v3/registered_limits",
	},
	{
		Name:        "identity:update_registered_limit",
		Check:       "role:admin and system_scope:all",
		Description: "PATCH /v3/registered_limits/{registered_limit_id}",
	},
	{
		Name:        "identity:delete_registered_limit",
		Check:       "role:admin and system_scope:all",
		Description: "DELETE /v3/registered_limits/{registered_limit_id}",
	},

	// Revocation events (OS-REVOKE).
	{
		Name:        "identity:list_revoke_events",
		Check:       "rule:service_or_admin",
		Description: "GET /v3/OS-REVOKE/events",
	},

	// Roles and domain-specific roles.
	{
		Name:        "identity:get_role",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/roles/{role_id}",
	},
	{
		Name:        "identity:list_roles",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/roles",
	},
	{
		Name:        "identity:create_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/roles",
	},
	{
		Name:        "identity:update_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/roles/{role_id}",
	},
	{
		Name:        "identity:delete_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/roles/{role_id}",
	},
	{
		Name:        "identity:get_domain_role",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/roles/{role_id}",
	},
	{
		Name:        "identity:list_domain_roles",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/roles?domain_id={domain_id}",
	},
	{
		Name:        "identity:create_domain_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/roles",
	},
	{
		Name:        "identity:update_domain_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/roles/{role_id}",
	},
	{
		Name:        "identity:delete_domain_role",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/roles/{role_id}",
	},

	// Role assignments.
	{
		Name: "identity:list_role_assignments",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.domain_id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/role_assignments",
	},
	{
		Name: "identity:list_role_assignments_for_tree",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.project.domain_id)s) or (role:admin and " +
			"project_id:%(target.project.id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/role_assignments?include_subtree",
	},

	// Services.
	{
		Name:        "identity:get_service",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/services/{service_id}",
	},
	{
		Name:        "identity:list_services",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET /v3/services",
	},
	{
		Name:        "identity:create_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "POST /v3/services",
	},
	{
		Name:        "identity:update_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/services/{service_id}",
	},
	{
		Name:        "identity:delete_service",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/services/{service_id}",
	},

	// Federation: service providers.
	{
		Name:        "identity:create_service_provider",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PUT /v3/OS-FEDERATION/service_providers/{service_provider_id}",
	},
	{
		Name:        "identity:list_service_providers",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-FEDERATION/service_providers",
	},
	{
		Name:        "identity:get_service_provider",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-FEDERATION/service_providers/{service_provider_id}",
	},
	{
		Name:        "identity:update_service_provider",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "PATCH /v3/OS-FEDERATION/service_providers/{service_provider_id}",
	},
	{
		Name:        "identity:delete_service_provider",
		Check:       "(role:admin and system_scope:all) or (rule:admin_required)",
		Description: "DELETE /v3/OS-FEDERATION/service_providers/{service_provider_id}",
	},

	// Token revocation list (deprecated for removal).
	{
		Name:        "identity:revocation_list",
		Check:       "rule:service_or_admin",
		Description: "GET /v3/auth/tokens/OS-PKI/revoked (deprecated for removal)",
	},

	// Tokens.
	{
		Name: "identity:check_token",
		Check: "((role:reader and system_scope:all) or rule:token_subject) or " +
			"(rule:admin_or_token_subject)",
		Description: "HEAD /v3/auth/tokens",
	},
	{
		Name: "identity:validate_token",
		Check: "((role:reader and system_scope:all) or rule:service_role or rule:token_subject) or " +
			"(rule:service_admin_or_token_subject)",
		Description: "GET /v3/auth/tokens",
	},
	{
		Name: "identity:revoke_token",
		Check: "((role:admin and system_scope:all) or rule:token_subject) or " +
			"(rule:admin_or_token_subject)",
		Description: "DELETE /v3/auth/tokens",
	},

	// Trusts (OS-TRUST).
	{
		Name:        "identity:create_trust",
		Check:       "user_id:%(trust.trustor_user_id)s",
		Description: "POST /v3/OS-TRUST/trusts",
	},
	{
		Name:        "identity:list_trusts",
		Check:       "(role:reader and system_scope:all) or (rule:admin_required)",
		Description: "GET,HEAD /v3/OS-TRUST/trusts",
	},
	{
		Name:        "identity:list_trusts_for_trustor",
		Check:       "role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s",
		Description: "GET,HEAD /v3/OS-TRUST/trusts?trustor_user_id={trustor_user_id}",
	},
	{
		Name:        "identity:list_trusts_for_trustee",
		Check:       "role:reader and system_scope:all or user_id:%(target.trust.trustee_user_id)s",
		Description: "GET,HEAD /v3/OS-TRUST/trusts?trustee_user_id={trustee_user_id}",
	},
	{
		Name: "identity:list_roles_for_trust",
		Check: "(role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or " +
			"user_id:%(target.trust.trustee_user_id)s) or " +
			"(user_id:%(target.trust.trustor_user_id)s or " +
			"user_id:%(target.trust.trustee_user_id)s)",
		Description: "GET,HEAD /v3/OS-TRUST/trusts/{trust_id}/roles",
	},
	{
		Name: "identity:get_role_for_trust",
		Check: "(role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or " +
			"user_id:%(target.trust.trustee_user_id)s) or " +
			"(user_id:%(target.trust.trustor_user_id)s or " +
			"user_id:%(target.trust.trustee_user_id)s)",
		Description: "GET,HEAD /v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}",
	},
	{
		Name: "identity:delete_trust",
		Check: "(role:admin and system_scope:all or user_id:%(target.trust.trustor_user_id)s) or " +
			"(user_id:%(target.trust.trustor_user_id)s)",
		Description: "DELETE /v3/OS-TRUST/trusts/{trust_id}",
	},
	{
		Name: "identity:get_trust",
		Check: "(role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or " +
			"user_id:%(target.trust.trustee_user_id)s) or " +
			"(user_id:%(target.trust.trustor_user_id)s or " +
			"user_id:%(target.trust.trustee_user_id)s)",
		Description: "GET,HEAD /v3/OS-TRUST/trusts/{trust_id}",
	},

	// Users.
	{
		Name: "identity:get_user",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s) or " +
			"(rule:admin_or_owner)",
		Description: "GET,HEAD /v3/users/{user_id}",
	},
	{
		Name: "identity:list_users",
		Check: "((role:reader and system_scope:all) or (role:reader and " +
			"domain_id:%(target.domain_id)s)) or (rule:admin_required)",
		Description: "GET,HEAD /v3/users",
	},
	{
		Name:        "identity:list_projects_for_user",
		Check:       "",
		Description: "GET  /v3/auth/projects",
	},
	{
		Name:        "identity:list_domains_for_user",
		Check:       "",
		Description: "GET /v3/auth/domains",
	},
	{
		Name: "identity:create_user",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"token.domain.id:%(target.user.domain_id)s)) or (rule:admin_required)",
		Description: "POST /v3/users",
	},
	{
		Name: "identity:update_user",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"token.domain.id:%(target.user.domain_id)s)) or (rule:admin_required)",
		Description: "PATCH /v3/users/{user_id}",
	},
	{
		Name: "identity:delete_user",
		Check: "((role:admin and system_scope:all) or (role:admin and " +
			"token.domain.id:%(target.user.domain_id)s)) or (rule:admin_required)",
		Description: "DELETE /v3/users/{user_id}",
	},
}
