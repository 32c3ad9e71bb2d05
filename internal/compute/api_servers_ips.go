package compute

import (
	"net/http"

	"kumo/internal/platform/httpapi"
)

// The server addresses API. Without a network service no server has an
// address: the list is empty and every network is not the server's.
func init() {
	register(
		route{method: "GET", path: "/servers/{server_id}/ips", handle: listServerIPs},
		route{method: "GET", path: "/servers/{server_id}/ips/{network}", handle: showServerIPs},
	)
}

func listServerIPs(c *call) error {
	if _, err := c.loadServer("os_compute_api:ips:index"); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"addresses": map[string]any{}})
}

func showServerIPs(c *call) error {
	if _, err := c.loadServer("os_compute_api:ips:show"); err != nil {
		return err
	}
	return httpapi.NotFound("Instance is not a member of specified network")
}
