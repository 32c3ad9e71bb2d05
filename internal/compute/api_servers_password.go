package compute

import "net/http"

// The server password API (os-server-password). Nova keeps the password a
// guest posted to its metadata service, encrypted with the key pair; kumo
// has no metadata service, so no guest can have posted one: the password
// is always empty, as Nova's for a guest that never posted, and clearing
// it has nothing to remove.
func init() {
	register(
		route{method: "GET", path: "/servers/{server_id}/os-server-password", handle: showServerPassword},
		route{method: "DELETE", path: "/servers/{server_id}/os-server-password", handle: clearServerPassword},
	)
}

func showServerPassword(c *call) error {
	if _, err := c.loadServer("os_compute_api:os-server-password:show"); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"password": ""})
}

func clearServerPassword(c *call) error {
	if _, err := c.loadServer("os_compute_api:os-server-password:clear"); err != nil {
		return err
	}
	return c.empty(http.StatusNoContent)
}
