package compute

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"kumo/internal/platform/httpapi"
)

// Hypervisors (nova/api/openstack/compute/hypervisors.py): the compute
// nodes with their capacity and usage. Integer ids before 2.53, uuids
// after; the search and servers routes give way to query parameters at
// 2.53; statistics and uptime go at 2.88, when uptime joins the detail
// view and the usage figures leave it.
func init() {
	register(
		route{method: "GET", path: "/os-hypervisors", rule: "os_compute_api:os-hypervisors:list", query: hypervisorListQuery, handle: listHypervisors(false)},
		route{method: "GET", path: "/os-hypervisors/detail", rule: "os_compute_api:os-hypervisors:list-detail", query: hypervisorListQuery, handle: listHypervisors(true)},
		route{method: "GET", path: "/os-hypervisors/statistics", max: V(2, 87), rule: "os_compute_api:os-hypervisors:statistics", handle: hypervisorStatistics},
		route{method: "GET", path: "/os-hypervisors/{hypervisor_id}", rule: "os_compute_api:os-hypervisors:show", query: hypervisorShowQuery, handle: showHypervisor},
		route{method: "GET", path: "/os-hypervisors/{hypervisor_id}/uptime", max: V(2, 87), rule: "os_compute_api:os-hypervisors:uptime", handle: hypervisorUptime},
		route{method: "GET", path: "/os-hypervisors/{pattern}/search", max: V(2, 52), rule: "os_compute_api:os-hypervisors:search", handle: searchHypervisors(false)},
		route{method: "GET", path: "/os-hypervisors/{pattern}/servers", max: V(2, 52), rule: "os_compute_api:os-hypervisors:servers", handle: searchHypervisors(true)},
	)
}

func singleParam(s *Schema) *Schema { return &Schema{Type: Types("array"), Items: s, MaxItems: 1} }

func hypervisorListQuery(mv Microversion) *Schema {
	switch {
	case mv.AtLeast(2, 53):
		return &Schema{Type: Types("object"), NoAdditional: true, Properties: []Prop{
			{"limit", singleParam(nonNegativeInt())},
			{"marker", singleParam(&Schema{Type: Types("string")})},
			{"hypervisor_hostname_pattern", singleParam(&Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Pattern: "^[a-zA-Z0-9-._]*$"})},
			{"with_servers", singleParam(booleanSchema())},
		}}
	case mv.AtLeast(2, 33):
		return &Schema{Type: Types("object"), Properties: []Prop{
			{"limit", multi(nonNegativeInt())},
			{"marker", multi(&Schema{Type: Types("string")})},
		}}
	}
	return nil
}

func hypervisorShowQuery(mv Microversion) *Schema {
	if !mv.AtLeast(2, 53) {
		return nil
	}
	return &Schema{Type: Types("object"), NoAdditional: true, Properties: []Prop{{"with_servers", singleParam(booleanSchema())}}}
}

// hypervisorView is Nova's _view_hypervisor. servers is nil for none;
// withServers shows an empty list from 2.75 when there are none.
func (c *call) hypervisorView(h *hypervisorNode, svc *computeService, r *ServiceRegistry, detail bool, servers []hostServer, withServers bool) map[string]any {
	uuidIDs := c.mv.AtLeast(2, 53)
	m := map[string]any{"hypervisor_hostname": h.Hostname, "state": "down", "status": "enabled"}
	if uuidIDs {
		m["id"] = h.UUID
	} else {
		m["id"] = h.ID
	}
	if r.up(svc) {
		m["state"] = "up"
	}
	if svc.Disabled {
		m["status"] = "disabled"
	}
	if detail {
		m["hypervisor_type"] = h.HypervisorType
		m["hypervisor_version"] = h.HypervisorVersion
		m["host_ip"] = h.HostIP
		var sid any = svc.ID
		if uuidIDs {
			sid = svc.UUID
		}
		var reason any
		if svc.DisabledReason != nil {
			reason = *svc.DisabledReason
		}
		m["service"] = map[string]any{"id": sid, "host": h.Host, "disabled_reason": reason}
	}
	if detail && !c.mv.AtLeast(2, 88) {
		m["vcpus"] = h.VCPUs
		m["memory_mb"] = h.MemoryMB
		m["local_gb"] = h.LocalGB
		m["vcpus_used"] = h.VCPUsUsed
		m["memory_mb_used"] = h.MemoryMBUsed
		m["local_gb_used"] = h.LocalGBUsed
		m["free_ram_mb"] = h.MemoryMB - h.MemoryMBUsed
		m["free_disk_gb"] = h.LocalGB - h.LocalGBUsed
		m["current_workload"] = h.CurrentWorkload
		m["running_vms"] = h.RunningVMs
		if h.DiskAvailableLeast != nil {
			m["disk_available_least"] = *h.DiskAvailableLeast
		} else {
			m["disk_available_least"] = nil
		}
		if c.mv.AtLeast(2, 28) {
			info := map[string]any{}
			if h.CPUInfo != "" {
				_ = json.Unmarshal([]byte(h.CPUInfo), &info)
			}
			m["cpu_info"] = info
		} else {
			m["cpu_info"] = h.CPUInfo
		}
	}
	if detail && c.mv.AtLeast(2, 88) {
		if h.Uptime != "" && r.up(svc) {
			m["uptime"] = h.Uptime
		} else {
			m["uptime"] = nil
		}
	}
	if len(servers) > 0 {
		l := make([]map[string]string, len(servers))
		for i, s := range servers {
			l[i] = map[string]string{"name": s.Name, "uuid": s.UUID}
		}
		m["servers"] = l
	} else if withServers && c.mv.AtLeast(2, 75) {
		m["servers"] = []any{}
	}
	return m
}

// nodeService is the nova-compute service of a node's host (nil if none:
// Nova skips such nodes).
func (c *call) nodeService(r *ServiceRegistry, h *hypervisorNode) (*computeService, error) {
	cs, err := r.getByHost(c.ctx, h.Host, "nova-compute")
	if err == errNotFound {
		return nil, nil
	}
	return cs, err
}

func listHypervisors(detail bool) func(c *call) error {
	return func(c *call) error {
		q := c.r.URL.Query()
		pattern, hasPattern := "", false
		withServers := false
		if c.mv.AtLeast(2, 53) {
			if v, ok := q["hypervisor_hostname_pattern"]; ok {
				pattern, hasPattern = last(v), true
			}
			if v, ok := q["with_servers"]; ok {
				withServers = boolFromString(last(v))
			}
		}
		paged := c.mv.AtLeast(2, 33)
		limit, marker := -1, ""
		if paged {
			l, m, err := pagination(q)
			if err != nil {
				return err
			}
			limit = l
			if m != nil {
				marker = *m
			}
		}
		if hasPattern && (q.Has("limit") || marker != "") {
			return httpapi.BadRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
		}
		nodes, err := c.s.hypervisors(c.ctx)
		if err != nil {
			return err
		}
		if hasPattern {
			nodes = matchHypervisors(nodes, pattern)
			if len(nodes) == 0 {
				return httpapi.NotFound("No hypervisor matching '%s' could be found.", pattern)
			}
			paged = false
		} else if paged {
			if nodes, err = c.pageHypervisors(nodes, limit, marker); err != nil {
				return err
			}
		}
		r := c.s.registry()
		out := []map[string]any{}
		for _, h := range nodes {
			svc, err := c.nodeService(r, h)
			if err != nil {
				return err
			}
			if svc == nil {
				continue
			}
			var servers []hostServer
			if withServers {
				if servers, err = c.s.serversOnHost(c.ctx, h.Host); err != nil {
					return err
				}
			}
			out = append(out, c.hypervisorView(h, svc, r, detail, servers, withServers))
		}
		body := map[string]any{"hypervisors": out}
		if paged && len(out) > 0 && len(out) == min(limit, maxLimit) {
			coll := "os-hypervisors"
			if detail {
				coll += "/detail"
			}
			body["hypervisors_links"] = c.nextLink(coll, fmt.Sprint(out[len(out)-1]["id"]))
		}
		return c.json(http.StatusOK, body)
	}
}

// pageHypervisors applies limit and marker (an id in this microversion's
// form) to nodes sorted by id.
func (c *call) pageHypervisors(nodes []*hypervisorNode, limit int, marker string) ([]*hypervisorNode, error) {
	if marker != "" {
		at := -1
		for i, h := range nodes {
			if (c.mv.AtLeast(2, 53) && h.UUID == marker) || (!c.mv.AtLeast(2, 53) && strconv.FormatInt(h.ID, 10) == marker) {
				at = i
				break
			}
		}
		if at < 0 {
			return nil, httpapi.BadRequest("marker [%s] not found", marker)
		}
		nodes = nodes[at+1:]
	}
	if limit >= 0 && len(nodes) > limit {
		nodes = nodes[:limit]
	}
	return nodes, nil
}

// matchHypervisors is compute_node_search_by_hypervisor: a substring of
// the hypervisor hostname (SQL LIKE %pattern%).
func matchHypervisors(nodes []*hypervisorNode, pattern string) []*hypervisorNode {
	var out []*hypervisorNode
	for _, h := range nodes {
		if strings.Contains(strings.ToLower(h.Hostname), strings.ToLower(pattern)) {
			out = append(out, h)
		}
	}
	return out
}

// loadHypervisor finds {hypervisor_id} and its service: the id must be a
// uuid from 2.53 (400), an integer before (404), as Nova's _validate_id.
func (c *call) loadHypervisor() (*hypervisorNode, *computeService, *ServiceRegistry, error) {
	id := c.param("hypervisor_id")
	notFound := httpapi.NotFound("Hypervisor with ID '%s' could not be found.", id)
	if c.mv.AtLeast(2, 53) {
		if !isUUIDLike(id) {
			return nil, nil, nil, httpapi.BadRequest("Invalid uuid %s", id)
		}
	} else if _, err := strconv.Atoi(id); err != nil {
		return nil, nil, nil, notFound
	}
	nodes, err := c.s.hypervisors(c.ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, h := range nodes {
		if (c.mv.AtLeast(2, 53) && strings.EqualFold(h.UUID, id)) || (!c.mv.AtLeast(2, 53) && strconv.FormatInt(h.ID, 10) == strings.TrimLeft(id, "0")) {
			r := c.s.registry()
			svc, err := c.nodeService(r, h)
			if err != nil {
				return nil, nil, nil, err
			}
			if svc == nil {
				return nil, nil, nil, notFound
			}
			return h, svc, r, nil
		}
	}
	return nil, nil, nil, notFound
}

func showHypervisor(c *call) error {
	withServers := false
	if c.mv.AtLeast(2, 53) {
		if v, ok := c.r.URL.Query()["with_servers"]; ok {
			withServers = boolFromString(last(v))
		}
	}
	h, svc, r, err := c.loadHypervisor()
	if err != nil {
		return err
	}
	var servers []hostServer
	if withServers {
		if servers, err = c.s.serversOnHost(c.ctx, h.Host); err != nil {
			return err
		}
	}
	return c.json(http.StatusOK, map[string]any{"hypervisor": c.hypervisorView(h, svc, r, true, servers, withServers)})
}

func hypervisorUptime(c *call) error {
	h, svc, r, err := c.loadHypervisor()
	if err != nil {
		return err
	}
	if !r.up(svc) {
		return httpapi.BadRequest("Compute service of %s is unavailable at this time.", h.Host)
	}
	if h.Uptime == "" {
		return httpapi.Errorf(http.StatusNotImplemented, "The requested functionality is not supported.")
	}
	m := c.hypervisorView(h, svc, r, false, nil, false)
	m["uptime"] = h.Uptime
	return c.json(http.StatusOK, map[string]any{"hypervisor": m})
}

func searchHypervisors(withServers bool) func(c *call) error {
	return func(c *call) error {
		pattern := c.param("pattern")
		nodes, err := c.s.hypervisors(c.ctx)
		if err != nil {
			return err
		}
		nodes = matchHypervisors(nodes, pattern)
		if len(nodes) == 0 {
			return httpapi.NotFound("No hypervisor matching '%s' could be found.", pattern)
		}
		r := c.s.registry()
		out := []map[string]any{}
		for _, h := range nodes {
			svc, err := c.nodeService(r, h)
			if err != nil {
				return err
			}
			if svc == nil {
				continue
			}
			var servers []hostServer
			if withServers {
				if servers, err = c.s.serversOnHost(c.ctx, h.Host); err != nil {
					return err
				}
			}
			out = append(out, c.hypervisorView(h, svc, r, false, servers, false))
		}
		return c.json(http.StatusOK, map[string]any{"hypervisors": out})
	}
}

// hypervisorStatistics is compute_node_statistics: sums over the nodes of
// enabled nova-compute services.
func hypervisorStatistics(c *call) error {
	nodes, err := c.s.hypervisors(c.ctx)
	if err != nil {
		return err
	}
	r := c.s.registry()
	st := map[string]int{}
	for _, k := range []string{"count", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
		"free_ram_mb", "free_disk_gb", "current_workload", "running_vms", "disk_available_least"} {
		st[k] = 0
	}
	for _, h := range nodes {
		svc, err := c.nodeService(r, h)
		if err != nil {
			return err
		}
		if svc == nil || svc.Disabled {
			continue
		}
		st["count"]++
		st["vcpus"] += h.VCPUs
		st["memory_mb"] += h.MemoryMB
		st["local_gb"] += h.LocalGB
		st["vcpus_used"] += h.VCPUsUsed
		st["memory_mb_used"] += h.MemoryMBUsed
		st["local_gb_used"] += h.LocalGBUsed
		st["free_ram_mb"] += h.MemoryMB - h.MemoryMBUsed
		st["free_disk_gb"] += h.LocalGB - h.LocalGBUsed
		st["current_workload"] += h.CurrentWorkload
		st["running_vms"] += h.RunningVMs
		if h.DiskAvailableLeast != nil {
			st["disk_available_least"] += *h.DiskAvailableLeast
		}
	}
	return c.json(http.StatusOK, map[string]any{"hypervisor_statistics": st})
}
