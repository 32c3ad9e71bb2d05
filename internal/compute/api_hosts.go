package compute

import (
	"net/http"
	"strings"

	"kumo/internal/platform/httpapi"
)

// The os-hosts API (deprecated, removed in 2.43), as Nova's hosts.py: the
// list of services by host, a compute host's resources, and the host
// power and maintenance actions, which Nova's libvirt driver does not
// implement (501) and kumo's driver neither.
func init() {
	register(
		route{method: "GET", path: "/os-hosts", max: V(2, 42), rule: "os_compute_api:os-hosts:list", handle: listHosts},
		route{method: "GET", path: "/os-hosts/{host_name}", max: V(2, 42), rule: "os_compute_api:os-hosts:show", handle: showHost},
		route{method: "PUT", path: "/os-hosts/{host_name}", max: V(2, 42), body: hostUpdateSchema, rule: "os_compute_api:os-hosts:update", handle: updateHost},
		route{method: "GET", path: "/os-hosts/{host_name}/reboot", max: V(2, 42), rule: "os_compute_api:os-hosts:reboot", handle: hostPowerAction},
		route{method: "GET", path: "/os-hosts/{host_name}/shutdown", max: V(2, 42), rule: "os_compute_api:os-hosts:shutdown", handle: hostPowerAction},
		route{method: "GET", path: "/os-hosts/{host_name}/startup", max: V(2, 42), rule: "os_compute_api:os-hosts:start", handle: hostPowerAction},
	)
}

func hostUpdateSchema(Microversion) *Schema {
	enable := func() *Schema {
		return &Schema{Type: Types("string"), Enum: []any{"enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"}}
	}
	return &Schema{Type: Types("object"), NoAdditional: true, MinProperties: 1, Properties: []Prop{
		{"status", enable()}, {"maintenance_mode", enable()}}}
}

// listHosts lists every service but the API ones, each as a host entry
// with its topic (the binary without "nova-") and zone; ?zone= filters.
func listHosts(c *call) error {
	list, _, err := c.s.services(c.ctx)
	if err != nil {
		return err
	}
	zone := c.r.URL.Query().Get("zone")
	out := []map[string]any{}
	for _, hs := range list {
		if hs.Binary == "nova-osapi_compute" || hs.Binary == "nova-metadata" {
			continue
		}
		if zone != "" && hs.zone() != zone {
			continue
		}
		out = append(out, map[string]any{"host_name": hs.Host, "service": strings.TrimPrefix(hs.Binary, "nova-"), "zone": hs.zone()})
	}
	return c.json(http.StatusOK, map[string]any{"hosts": out})
}

// computeHostNode returns the compute node of a host, or Nova's 404.
func (c *call) computeHostNode(host string) (*hypervisorNode, error) {
	nodes, err := c.s.hypervisors(c.ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.Host == host {
			return n, nil
		}
	}
	return nil, httpapi.NotFound("Compute host %s could not be found.", host)
}

// showHost is a compute host's resources: its totals, what placement has
// in use, the sum over its instances (used_max) and that sum per project.
func showHost(c *call) error {
	host := c.param("host_name")
	n, err := c.computeHostNode(host)
	if err != nil {
		return err
	}
	res := func(project string, cpu, mem, disk int64) map[string]any {
		return map[string]any{"resource": map[string]any{"host": host, "project": project,
			"cpu": cpu, "memory_mb": mem, "disk_gb": disk}}
	}
	out := []map[string]any{
		res("(total)", int64(n.VCPUs), int64(n.MemoryMB), int64(n.LocalGB)),
		res("(used_now)", int64(n.VCPUsUsed), int64(n.MemoryMBUsed), int64(n.LocalGBUsed)),
	}
	rows, err := c.s.db.R.QueryContext(c.ctx, `SELECT project_id, SUM(vcpus), SUM(memory_mb), SUM(root_gb + ephemeral_gb)
		FROM instances WHERE host = ? AND deleted = 0 GROUP BY project_id ORDER BY project_id`, host)
	if err != nil {
		return err
	}
	defer rows.Close()
	var total [3]int64
	var perProject []map[string]any
	for rows.Next() {
		var p string
		var cpu, mem, disk int64
		if err := rows.Scan(&p, &cpu, &mem, &disk); err != nil {
			return err
		}
		total[0], total[1], total[2] = total[0]+cpu, total[1]+mem, total[2]+disk
		perProject = append(perProject, res(p, cpu, mem, disk))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	out = append(out, res("(used_max)", total[0], total[1], total[2]))
	out = append(out, perProject...)
	return c.json(http.StatusOK, map[string]any{"host": out})
}

// updateHost: the host must exist; then, as Nova over the libvirt driver,
// neither the enabled status nor maintenance mode can be set this way
// (os-services disables a compute service).
func updateHost(c *call) error {
	if _, err := c.computeHostNode(c.param("host_name")); err != nil {
		return err
	}
	if b, _ := c.body.(map[string]any); b["status"] != nil {
		return httpapi.Errorf(http.StatusNotImplemented, "Virt driver does not implement host disabled status.")
	}
	return httpapi.Errorf(http.StatusNotImplemented, "Virt driver does not implement host maintenance mode.")
}

// hostPowerAction is reboot, shutdown and startup of a host: not
// implemented by the driver (Nova's libvirt answers the same).
func hostPowerAction(c *call) error {
	if _, err := c.computeHostNode(c.param("host_name")); err != nil {
		return err
	}
	return httpapi.Errorf(http.StatusNotImplemented, "Virt driver does not implement host power management.")
}
