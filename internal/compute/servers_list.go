package compute

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// serverSortKeys are Nova's VALID_SORT_KEYS; ignoredSortKeys are the ones
// Nova accepts and drops; adminSortKeys need an admin.
var (
	serverSortKeys = []string{"access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive",
		"created_at", "display_description", "display_name", "host", "hostname", "image_ref", "instance_type_id",
		"kernel_id", "key_name", "launch_index", "launched_at", "locked_by", "node", "power_state", "progress",
		"project_id", "ramdisk_id", "root_device_name", "task_state", "terminated_at", "updated_at", "user_id", "uuid",
		"vm_state", "architecture", "cell_name", "cleaned", "default_ephemeral_device", "default_swap_device", "deleted",
		"deleted_at", "disable_terminate", "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on",
		"locked", "memory_mb", "os_type", "reservation_id", "root_gb", "shutdown_terminate", "user_data", "vcpus", "vm_mode"}
	ignoredSortKeys = []string{"architecture", "cell_name", "cleaned", "default_ephemeral_device", "default_swap_device",
		"deleted", "deleted_at", "disable_terminate", "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data",
		"launched_on", "locked", "memory_mb", "os_type", "reservation_id", "root_gb", "shutdown_terminate", "user_data",
		"vcpus", "vm_mode"}
	adminSortKeys = []string{"host", "node"}
)

func serverListQuery(mv Microversion) *Schema {
	keys := make([]any, len(serverSortKeys))
	for i, k := range serverSortKeys {
		keys[i] = k
	}
	return &Schema{Type: Types("object"), Properties: []Prop{
		{"limit", multi(nonNegativeInt())},
		{"sort_key", multi(&Schema{Type: Types("string"), Enum: keys})},
		{"sort_dir", multi(&Schema{Type: Types("string"), Enum: []any{"asc", "desc"}})},
	}}
}

// listServers is GET /servers and /servers/detail.
func listServers(detail bool) func(c *call) error {
	return func(c *call) error {
		q := c.r.URL.Query()
		limit, marker, err := pagination(q)
		if err != nil {
			return err
		}
		f, err := c.serverFilter(detail)
		if err != nil {
			return err
		}
		sorts, err := c.serverSorts()
		if err != nil {
			return err
		}
		rows, err := c.s.instances().detailPage(c.ctx, f, sorts, marker, limit)
		if err != nil {
			return err
		}
		next := ""
		if len(rows) > 0 && len(rows) == limit {
			coll := "servers"
			if detail {
				coll = "servers/detail"
			}
			next = c.nextLink(coll, rows[len(rows)-1].in.UUID)[0]["href"]
		}
		b := c.serverListJSON(getJSONBuf(), rows, detail, next)
		writeJSONBytes(c.w, 200, b)
		putJSONBuf(b)
		return nil
	}
}

// serverListJSON appends the answer of GET /servers or /servers/detail
// (detail): the servers, then the next link when there is one.
func (c *call) serverListJSON(b []byte, rows []*pageRow, detail bool, next string) []byte {
	e := newListEnc(c)
	b = append(b, `{"servers":[`...)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		if detail {
			b = e.detail(b, r)
		} else {
			b = e.brief(b, r)
		}
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"servers_links":[{"href":`...)
		b = appendStr(b, next)
		b = append(b, `,"rel":"next"}]`...)
	}
	return append(b, '}')
}

// serverFilter is a list request's filters, as Nova keeps them after
// removing what the caller may not use.
type serverFilter struct {
	project                string // "" is every project
	deleted                *bool  // nil: deleted ones too (changes-since)
	name                   *regexp.Regexp
	status                 *manager.StatusFilter
	nothing                bool // a filter that matches no server (ip, bad status)
	eq                     map[string]string
	since, before          time.Time
	tags, tagsAny, notTags []string
	notTagsAny             []string
	locked                 *bool
}

// serverSearchOptions are the filters Nova leaves to a caller without
// allow_all_filters (_get_server_search_options).
func serverSearchOptions(mv Microversion) []string {
	opts := []string{"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"}
	if mv.AtLeast(2, 5) {
		opts = append(opts, "ip6")
	}
	if mv.AtLeast(2, 26) {
		opts = append(opts, "tags", "tags-any", "not-tags", "not-tags-any")
	}
	if mv.AtLeast(2, 66) {
		opts = append(opts, "changes-before")
	}
	if mv.AtLeast(2, 73) {
		opts = append(opts, "locked")
	}
	if mv.AtLeast(2, 83) {
		opts = append(opts, "availability_zone", "config_drive", "key_name", "power_state", "task_state", "vm_state",
			"user_id")
	}
	if mv.AtLeast(2, 90) {
		opts = append(opts, "hostname")
	}
	return opts
}

// strictBool is oslo's bool_from_string(strict=True).
func strictBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, httpapi.BadRequest("Invalid input received: Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", v)
}

func (c *call) serverFilter(detail bool) (*serverFilter, error) {
	q := c.r.URL.Query()
	allowAll := c.allowed("os_compute_api:servers:allow_all_filters", c.defaultTarget())
	allowed := serverSearchOptions(c.mv)
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok || len(v) == 0 || !allowAll && !slices.Contains(allowed, k) {
			return "", false
		}
		return v[len(v)-1], true
	}
	f := &serverFilter{project: c.project(), eq: map[string]string{}}
	if v, ok := get("all_tenants"); ok {
		all := true // "?all_tenants" alone means yes, as Nova's is_all_tenants
		if v != "" {
			var err error
			if all, err = strictBool("all_tenants", v); err != nil {
				return nil, err
			}
		}
		if all {
			rule := "os_compute_api:servers:index:get_all_tenants"
			if detail {
				rule = "os_compute_api:servers:detail:get_all_tenants"
			}
			if err := c.enforce(rule, c.defaultTarget()); err != nil {
				return nil, err
			}
			f.project = ""
			if v, ok := get("project_id"); ok {
				f.project = v
			} else if v, ok := get("tenant_id"); ok {
				f.project = v
			}
		}
	}
	for _, k := range []string{"host", "node", "uuid", "hostname", "image", "flavor", "reservation_id",
		"availability_zone", "key_name", "config_drive", "user_id", "vm_state", "task_state", "power_state"} {
		if v, ok := get(k); ok {
			if k == "image" || k == "flavor" {
				v = idFromHref(v)
			}
			f.eq[k] = v
		}
	}
	if v, ok := get("name"); ok {
		re, err := regexp.Compile(v)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(v))
		}
		f.name = re
	}
	deletedOnly := false
	if _, ok := get("status"); ok {
		vs := q["status"]
		sf := manager.StatesOf(vs...)
		if len(sf.VMStates) == 0 {
			if c.mv.AtLeast(2, 38) {
				return nil, httpapi.BadRequest("Invalid status value")
			}
			f.nothing = true
		}
		if len(sf.VMStates) == 1 && sf.VMStates[0] == manager.VMDeleted {
			if !c.admin {
				return nil, httpapi.Forbidden("Only administrators may list deleted instances")
			}
			deletedOnly = true
		}
		f.status = &sf
	}
	_, ip := get("ip")
	_, ip6 := get("ip6")
	if ip || ip6 {
		f.nothing = true // no server has an address without networking
	}
	var err error
	since, hasSince := get("changes-since")
	if hasSince {
		if f.since, err = parseQueryTime("changes-since", since); err != nil {
			return nil, err
		}
	}
	before, hasBefore := get("changes-before")
	if hasBefore {
		if f.before, err = parseQueryTime("changes-before", before); err != nil {
			return nil, err
		}
		if hasSince && f.before.Before(f.since) {
			return nil, httpapi.BadRequest("The value of changes-since must be less than or equal to changes-before.")
		}
	}
	// Nova lists live servers unless deleted is given or changes-since /
	// changes-before ask for what changed, deletions included.
	if v, ok := get("deleted"); ok {
		b, _ := boolOf(v)
		f.deleted = &b
	} else if !hasSince && !hasBefore {
		no := false
		f.deleted = &no
	}
	if deletedOnly {
		yes := true
		f.deleted = &yes
	}
	split := func(k string) []string {
		v, ok := get(k)
		if !ok {
			return nil
		}
		return strings.Split(v, ",")
	}
	f.tags, f.tagsAny, f.notTags, f.notTagsAny = split("tags"), split("tags-any"), split("not-tags"), split("not-tags-any")
	if v, ok := get("locked"); ok {
		b, err := strictBool("locked", v)
		if err != nil {
			return nil, err
		}
		f.locked = &b
	}
	return f, nil
}

// parseQueryTime reads an ISO 8601 time as Nova's date-time format.
func parseQueryTime(name, v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999",
		"2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, httpapi.BadRequest("Invalid input for query parameters %s. Value: %s. %s is not a 'date-time'", name, v, pyRepr(v))
}

type sortSpec struct {
	key  string
	desc bool
}

// serverSorts reads sort_key/sort_dir as Nova's get_sort_params, with
// created_at and id (insertion order) desc as the default and the ties'
// order.
func (c *call) serverSorts() ([]sortSpec, error) {
	q := c.r.URL.Query()
	keys, dirs := q["sort_key"], q["sort_dir"]
	var out []sortSpec
	for i, k := range keys {
		if slices.Contains(adminSortKeys, k) && !c.admin {
			return nil, httpapi.Forbidden("Only administrators can sort servers by %s", k)
		}
		desc := true
		if i < len(dirs) {
			desc = dirs[i] == "desc"
		} else if len(dirs) > 0 {
			desc = dirs[len(dirs)-1] == "desc"
		}
		if slices.Contains(ignoredSortKeys, k) {
			continue
		}
		out = append(out, sortSpec{k, desc})
	}
	if len(keys) == 0 && len(dirs) > 0 {
		out = append(out, sortSpec{"created_at", dirs[0] == "desc"})
	}
	out = append(out, sortSpec{"created_at", true}, sortSpec{"id", true})
	return out, nil
}
