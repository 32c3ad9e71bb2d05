package compute

import (
	"net/http"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// shelve, shelveOffload and unshelve (Nova's shelve.py). Shelving
// snapshots the server into an image "<name>-shelved" and, with
// compute.shelved_offload_time 0, offloads it at once: no guest, no
// claim, no host. Unshelving an offloaded server schedules it again
// (api_servers_shelve_unshelve.go).
func init() {
	register(route{method: "POST", path: "/servers/{server_id}/action", actions: []action{
		{name: "shelve", handle: shelveServer},
		{name: "shelveOffload", handle: shelveOffloadServer},
		{name: "unshelve", body: unshelveSchema, handle: unshelveServer},
	}})
}

func shelveServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:os-shelve:shelve")
	if err != nil {
		return err
	}
	if err := precheck(in, "shelve", manager.VMActive, manager.VMStopped, manager.VMPaused, manager.VMSuspended); err != nil {
		return err
	}
	h, err := c.hostOrConflict(in, "shelve")
	if err != nil {
		return err
	}
	// The properties Nova puts on the shelved snapshot (_create_image with
	// image_type snapshot).
	props := map[string]string{"image_type": "snapshot", "instance_uuid": in.UUID, "base_image_ref": in.ImageRef,
		"user_id": c.user(), "image_location": "snapshot"}
	imageID, err := c.s.deps().Images.CreateSnapshot(c.ctx, in.ProjectID, in.Name+shelvedSuffix, props)
	if err != nil {
		return err
	}
	if err := c.recordAction(in, "shelve"); err != nil {
		_ = c.s.deps().Images.DeleteImage(c.ctx, in.ProjectID, imageID)
		return err
	}
	err = h.Manager.Shelve(c.ctx, manager.ShelveRequest{UUID: in.UUID, RequestID: httpapi.RequestID(c.ctx),
		ProjectID: in.ProjectID, ImageID: imageID})
	if err != nil {
		_ = c.s.deps().Images.DeleteImage(c.ctx, in.ProjectID, imageID)
		return actionError(err, in.UUID)
	}
	return c.empty(http.StatusAccepted)
}

func shelveOffloadServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:os-shelve:shelve_offload")
	if err != nil {
		return err
	}
	if err := precheck(in, "shelve_offload", manager.VMShelved); err != nil {
		return err
	}
	h, err := c.hostOrConflict(in, "shelve_offload")
	if err != nil {
		return err
	}
	if err := c.recordAction(in, "shelveOffload"); err != nil {
		return err
	}
	if err := h.Manager.ShelveOffload(c.ctx, in.UUID, httpapi.RequestID(c.ctx)); err != nil {
		return actionError(err, in.UUID)
	}
	return c.empty(http.StatusAccepted)
}

// shelvedSuffix ends the name of a shelved server's image, as Nova's.
const shelvedSuffix = "-shelved"

// unshelveSchema is Nova's: no body checks before 2.77; then an optional
// availability_zone; from 2.91 also host, and a null zone unpins.
func unshelveSchema(mv Microversion) *Schema {
	switch {
	case mv.AtLeast(2, 91):
		return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"unshelve"}, Properties: []Prop{
			{"unshelve", &Schema{Type: Types("object", "null"), NoAdditional: true, Properties: []Prop{
				{"availability_zone", &Schema{Type: Types("string", "null")}},
				{"host", hostnameSchema()},
			}}},
		}}
	case mv.AtLeast(2, 77):
		return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"unshelve"}, Properties: []Prop{
			{"unshelve", &Schema{Type: Types("object", "null"), NoAdditional: true, Properties: []Prop{
				{"availability_zone", nameSchema()},
			}}},
		}}
	}
	return nil
}
