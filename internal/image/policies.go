package image

import "kumo/internal/platform/policy"

// What the image handlers must put in the policy target and credentials.
//
// These rules are Glance Zed's (25.x) effective defaults. Glance Zed leaves
// [oslo_policy] enforce_new_defaults=False and enforce_scope=False (its Zed
// release note "rbac-updates": "scope checks and new defaults are disabled
// by default"), and [DEFAULT] enforce_secure_rbac=False. oslo.policy then
// or's each deprecated check string into its rule, "(new) or (deprecated)",
// and the deprecated halves are rule:default and rule:metadef_default, which
// are always true ("default" is "(@) or (role:admin)", metadef_default is
// ""). So, as in a stock Zed cloud, the policy alone allows nearly every
// image, member, metadef read and task call to anyone authenticated. Only
// these are restricted to role:admin (on any project; scope is not
// enforced): publicize_image, copy_image, manage_image_cache, cache_*,
// tasks_api_access, stores_info_detail, and the metadef writes.
//
// Glance Zed does the real ownership checks in code, not in policy, while
// enforce_secure_rbac is False. The image service must do them too, after
// (not instead of) Enforce; "admin" is context_is_admin (role:admin):
//
//   - lookup (every /v2/images/{image_id}... call, and each listed image):
//     the image is visible to an admin; when its owner is null; when it is
//     public or community; to its owner project; and, for a shared image, to
//     a project that has a member record (any status; listing uses
//     member_status=accepted unless asked). Otherwise 404, as if absent.
//   - modify_image (PATCH, tags, import other than copy-image),
//     delete_image, upload_image, deactivate, reactivate,
//     delete_image_location: 403 unless admin or the image's owner equals
//     the caller's project (a null owner is mutable only by an admin).
//   - add_image: 403 unless admin or the body's owner (if any) is the
//     caller's project. PATCH of "owner" by a non-admin: 403.
//   - members: 403 unless the image is shared; add_member and
//     delete_member: 403 unless admin or owner; modify_member (status):
//     403 for the owner (only the member itself sets its status).
//   - visibility public or community, on create or PATCH: also enforce
//     publicize_image or communitize_image. copy-image import: copy_image.
//   - when a rule on an existing image is denied and get_image is denied
//     too, answer 404 rather than 403 (metadefs: the same with
//     get_metadef_namespace).
//   - /v2/tasks: enforce tasks_api_access at the API; get_task(s) and
//     add_task are internal (add_task also guards image import tasks).
//
// The rules only read these target keys. Glance builds the target from the
// image (glance.api.policy.ImageTarget), a flat dict where project_id and
// member_id are aliases; there are no "target.image.*" keys in Glance.
//
//	target key    put there
//	------------  -----------------------------------------------------------
//	project_id    the image's owner (null if none): every image and member
//	              rule; add_image: the body's owner, or the caller's
//	              project_id when the body has none; get_images: the
//	              caller's project_id. Metadefs: the namespace's owner (for
//	              objects, properties, tags, resource types: their
//	              namespace's); list calls and creates: the caller's
//	              project_id. Tasks, cache, discovery: {} (omit).
//	owner         add_image only: the same value as project_id
//	member_id     for a shared image that the caller does not own: the
//	              caller's project_id (the lookup found it through a member
//	              record); else null. It is NOT the {member_id} path
//	              parameter of /members/{member_id}
//	visibility    the image's visibility ("public", "community", "shared",
//	              "private"); add_image: the body's, default "private".
//	              Metadefs: the namespace's visibility ("public"/"private");
//	              omit on list calls and creates
//
// Glance also exposes every other image attribute (id, name, status,
// protected, os_hidden, owner, extra properties...) under its own name, so
// that operator overrides may use them; pass them too if cheap.
//
//	credential key  put there
//	--------------  ---------------------------------------------------------
//	roles           the token's role names ([]string)
//	project_id      the token's project (Glance's context.owner)
//	user_id, domain_id, project_domain_id, user_domain_id, system_scope:
//	                as oslo.context's to_policy_values, for overrides only

// DefaultPolicies are Glance Zed's default policy rules, in the order
// glance.policies.list_rules registers them, with the deprecated check
// strings or'ed in as oslo.policy does with enforce_new_defaults=False.
// Descriptions name the API call each rule guards.
var DefaultPolicies = []policy.Rule{
	// Base rules (glance/policies/base.py).
	{
		Name:        "default",
		Check:       "(@) or (role:admin)",
		Description: "Rule for policies not set elsewhere (new default \"\", deprecated \"role:admin\").",
	},
	{
		Name:        "context_is_admin",
		Check:       "role:admin",
		Description: "Who gets is_admin on the request context.",
	},
	// Images, members, image cache (glance/policies/image.py).
	{
		Name:        "add_image",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)) or (rule:default)",
		Description: "POST /v2/images",
	},
	{
		Name:        "delete_image",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "DELETE /v2/images/{image_id}",
	},
	{
		Name:        "get_image",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))) or (rule:default)",
		Description: "GET /v2/images/{image_id}",
	},
	{
		Name:        "get_images",
		Check:       "(role:admin or (role:reader and project_id:%(project_id)s)) or (rule:default)",
		Description: "GET /v2/images",
	},
	{
		Name:        "modify_image",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "PATCH /v2/images/{image_id}",
	},
	{
		Name:        "publicize_image",
		Check:       "role:admin",
		Description: "PATCH /v2/images/{image_id}: set visibility public",
	},
	{
		Name:        "communitize_image",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "PATCH /v2/images/{image_id}: set visibility community",
	},
	{
		Name:        "download_image",
		Check:       "(role:admin or (role:member and (project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))) or (rule:default)",
		Description: "GET /v2/images/{image_id}/file",
	},
	{
		Name:        "upload_image",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "PUT /v2/images/{image_id}/file",
	},
	{
		Name:        "delete_image_location",
		Check:       "(role:admin) or (rule:default)",
		Description: "PATCH /v2/images/{image_id} (remove a location); DELETE /v2/stores/{store_id}/{image_id}",
	},
	{
		Name:        "get_image_location",
		Check:       "(role:admin or (role:reader and project_id:%(project_id)s)) or (rule:default)",
		Description: "GET /v2/images/{image_id} (show locations); DELETE /v2/stores/{store_id}/{image_id}",
	},
	{
		Name:        "set_image_location",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "PATCH /v2/images/{image_id}: add or replace locations",
	},
	{
		Name:        "add_member",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "POST /v2/images/{image_id}/members",
	},
	{
		Name:        "delete_member",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "DELETE /v2/images/{image_id}/members/{member_id}",
	},
	{
		Name:        "get_member",
		Check:       "(role:admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)) or (rule:default)",
		Description: "GET /v2/images/{image_id}/members/{member_id}",
	},
	{
		Name:        "get_members",
		Check:       "(role:admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)) or (rule:default)",
		Description: "GET /v2/images/{image_id}/members",
	},
	{
		Name:        "modify_member",
		Check:       "(role:admin or (role:member and project_id:%(member_id)s)) or (rule:default)",
		Description: "PUT /v2/images/{image_id}/members/{member_id}",
	},
	{
		Name:        "manage_image_cache",
		Check:       "role:admin",
		Description: "Manage image cache (deprecated name of the cache_* rules)",
	},
	{
		Name:        "deactivate",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "POST /v2/images/{image_id}/actions/deactivate",
	},
	{
		Name:        "reactivate",
		Check:       "(role:admin or (role:member and project_id:%(project_id)s)) or (rule:default)",
		Description: "POST /v2/images/{image_id}/actions/reactivate",
	},
	{
		Name:        "copy_image",
		Check:       "role:admin",
		Description: "POST /v2/images/{image_id}/import with method copy-image",
	},
	// Tasks (glance/policies/tasks.py).
	{
		Name:        "get_task",
		Check:       "rule:default",
		Description: "GET /v2/tasks/{task_id} (internal; the API checks tasks_api_access)",
	},
	{
		Name:        "get_tasks",
		Check:       "rule:default",
		Description: "GET /v2/tasks (internal; the API checks tasks_api_access)",
	},
	{
		Name:        "add_task",
		Check:       "rule:default",
		Description: "POST /v2/tasks (internal: also image import; the API checks tasks_api_access)",
	},
	{
		Name:        "modify_task",
		Check:       "rule:default",
		Description: "Not used (deprecated for removal)",
	},
	{
		Name:        "tasks_api_access",
		Check:       "role:admin",
		Description: "Any /v2/tasks API call",
	},
	// Metadata definitions (glance/policies/metadef.py).
	{
		Name:        "metadef_default",
		Check:       "",
		Description: "Base rule for metadef reads (deprecated halves)",
	},
	{
		Name:        "metadef_admin",
		Check:       "role:admin",
		Description: "Base rule for metadef writes",
	},
	{
		Name:        "get_metadef_namespace",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}",
	},
	{
		Name:        "get_metadef_namespaces",
		Check:       "(role:admin or (role:reader and project_id:%(project_id)s)) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces",
	},
	{
		Name:        "modify_metadef_namespace",
		Check:       "rule:metadef_admin",
		Description: "PUT /v2/metadefs/namespaces/{namespace_name}",
	},
	{
		Name:        "add_metadef_namespace",
		Check:       "rule:metadef_admin",
		Description: "POST /v2/metadefs/namespaces",
	},
	{
		Name:        "delete_metadef_namespace",
		Check:       "rule:metadef_admin",
		Description: "DELETE /v2/metadefs/namespaces/{namespace_name}",
	},
	{
		Name:        "get_metadef_object",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}",
	},
	{
		Name:        "get_metadef_objects",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/objects",
	},
	{
		Name:        "modify_metadef_object",
		Check:       "rule:metadef_admin",
		Description: "PUT /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}",
	},
	{
		Name:        "add_metadef_object",
		Check:       "rule:metadef_admin",
		Description: "POST /v2/metadefs/namespaces/{namespace_name}/objects",
	},
	{
		Name:        "delete_metadef_object",
		Check:       "rule:metadef_admin",
		Description: "DELETE /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}",
	},
	{
		Name:        "list_metadef_resource_types",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/resource_types",
	},
	{
		Name:        "get_metadef_resource_type",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/resource_types",
	},
	{
		Name:        "add_metadef_resource_type_association",
		Check:       "rule:metadef_admin",
		Description: "POST /v2/metadefs/namespaces/{namespace_name}/resource_types",
	},
	{
		Name:        "remove_metadef_resource_type_association",
		Check:       "rule:metadef_admin",
		Description: "DELETE /v2/metadefs/namespaces/{namespace_name}/resource_types/{name}",
	},
	{
		Name:        "get_metadef_property",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}",
	},
	{
		Name:        "get_metadef_properties",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/properties",
	},
	{
		Name:        "modify_metadef_property",
		Check:       "rule:metadef_admin",
		Description: "PUT /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}",
	},
	{
		Name:        "add_metadef_property",
		Check:       "rule:metadef_admin",
		Description: "POST /v2/metadefs/namespaces/{namespace_name}/properties",
	},
	{
		Name:        "remove_metadef_property",
		Check:       "rule:metadef_admin",
		Description: "DELETE /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}",
	},
	{
		Name:        "get_metadef_tag",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
	},
	{
		Name:        "get_metadef_tags",
		Check:       "(role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))) or (rule:metadef_default)",
		Description: "GET /v2/metadefs/namespaces/{namespace_name}/tags",
	},
	{
		Name:        "modify_metadef_tag",
		Check:       "rule:metadef_admin",
		Description: "PUT /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
	},
	{
		Name:        "add_metadef_tag",
		Check:       "rule:metadef_admin",
		Description: "POST /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
	},
	{
		Name:        "add_metadef_tags",
		Check:       "rule:metadef_admin",
		Description: "POST /v2/metadefs/namespaces/{namespace_name}/tags",
	},
	{
		Name:        "delete_metadef_tag",
		Check:       "rule:metadef_admin",
		Description: "DELETE /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
	},
	{
		Name:        "delete_metadef_tags",
		Check:       "rule:metadef_admin",
		Description: "DELETE /v2/metadefs/namespaces/{namespace_name}/tags",
	},
	// Cache API (glance/policies/cache.py).
	{
		Name:        "cache_image",
		Check:       "(role:admin) or (rule:manage_image_cache)",
		Description: "PUT /v2/cache/{image_id}",
	},
	{
		Name:        "cache_list",
		Check:       "(role:admin) or (rule:manage_image_cache)",
		Description: "GET /v2/cache",
	},
	{
		Name:        "cache_delete",
		Check:       "(role:admin) or (rule:manage_image_cache)",
		Description: "DELETE /v2/cache and /v2/cache/{image_id}",
	},
	// Discovery (glance/policies/discovery.py).
	{
		Name:        "stores_info_detail",
		Check:       "role:admin",
		Description: "GET /v2/info/stores/detail",
	},
}
