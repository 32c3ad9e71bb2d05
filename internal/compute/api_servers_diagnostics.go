package compute

import (
	"net/http"

	"kumo/internal/platform/httpapi"
)

// Server diagnostics. Nova asks the virt driver; kumo's driver contract
// (virt.Driver) has no diagnostics, so an admin gets Nova's answer for a
// driver without them (501), after the 404 and 403 checks.
func init() {
	register(route{method: "GET", path: "/servers/{server_id}/diagnostics", handle: serverDiagnostics})
}

func serverDiagnostics(c *call) error {
	if _, err := c.loadServer("os_compute_api:os-server-diagnostics"); err != nil {
		return err
	}
	return httpapi.Errorf(http.StatusNotImplemented, "The requested functionality is not supported.")
}
