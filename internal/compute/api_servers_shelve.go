package compute

import (
	"net/http"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// shelve, shelveOffload and unshelve. kumo's manager cannot shelve yet
// (it would need a snapshot-and-offload path and an unshelve that builds
// from the snapshot), so after Nova's API checks (404, 403, lock, vm_state
// 409) the answer is 501 instead of Nova's 202: nothing is changed.
func init() {
	register(route{method: "POST", path: "/servers/{server_id}/action", actions: []action{
		{name: "shelve", handle: notShelving("os_compute_api:os-shelve:shelve", "shelve",
			manager.VMActive, manager.VMStopped, manager.VMPaused, manager.VMSuspended)},
		{name: "shelveOffload", handle: notShelving("os_compute_api:os-shelve:shelve_offload", "shelve_offload", manager.VMShelved)},
		{name: "unshelve", handle: notShelving("os_compute_api:os-shelve:unshelve", "unshelve",
			manager.VMShelved, manager.VMShelvedOffloaded)},
	}})
}

func notShelving(rule, method string, states ...string) func(c *call) error {
	return func(c *call) error {
		in, err := c.serverForAction(rule)
		if err != nil {
			return err
		}
		if err := precheck(in, method, states...); err != nil {
			return err
		}
		return httpapi.Errorf(http.StatusNotImplemented, "Shelving is not implemented by this cloud.")
	}
}
