package compute

import (
	"errors"
	"fmt"
	"net/http"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/virt"
	"kumo/internal/platform/httpapi"
)

// Server diagnostics (Nova's server_diagnostics.py): admin only, read from
// the instance's hypervisor driver while the guest runs. Before 2.48 the
// answer is the driver's own dict (libvirt's keys); from 2.48 Nova's
// standard diagnostics object (diagnostics_view.go).
func init() {
	register(route{method: "GET", path: "/servers/{server_id}/diagnostics", handle: serverDiagnostics})
}

func serverDiagnostics(c *call) error {
	in, err := c.loadServer("os_compute_api:os-server-diagnostics")
	if err != nil {
		return err
	}
	h, ok := c.s.deps().hostOf(in.Host)
	if !ok || h.Driver == nil {
		// Nova's check_instance_host: InstanceNotReady.
		return httpapi.Conflict("Instance %s is not ready", in.UUID)
	}
	// Nova's compute manager answers only for a running guest.
	p, err := h.Driver.PowerState(c.ctx, in.UUID)
	if err != nil && !errors.Is(err, virt.ErrNotFound) {
		return err
	}
	if p != virt.Running {
		return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: "get_diagnostics", UUID: in.UUID,
			Attr: "power state", State: powerStateName(p)}).Error())
	}
	dg, err := h.Driver.Diagnostics(c.ctx, in.UUID)
	if err != nil {
		if errors.Is(err, virt.ErrNotFound) {
			return httpapi.Conflict("Instance %s is not ready", in.UUID)
		}
		return fmt.Errorf("diagnostics of %s: %w", in.UUID, err)
	}
	if c.mv.AtLeast(2, 48) {
		return c.json(http.StatusOK, diagnosticsView(dg))
	}
	return c.json(http.StatusOK, legacyDiagnostics(dg))
}

// powerStateName is Nova's power_state.STATE_MAP.
func powerStateName(p virt.PowerState) string {
	if p == virt.NoState {
		return "pending"
	}
	return p.String()
}
