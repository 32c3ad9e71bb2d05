package compute

import (
	"errors"
	"net/http"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

func init() {
	register(
		route{method: "GET", path: "/servers", rule: "os_compute_api:servers:index", query: serverListQuery, handle: listServers(false)},
		route{method: "GET", path: "/servers/detail", rule: "os_compute_api:servers:detail", query: serverListQuery, handle: listServers(true)},
		route{method: "POST", path: "/servers", rule: "os_compute_api:servers:create", body: serverCreateSchema, handle: createServer},
		route{method: "GET", path: "/servers/{server_id}", handle: showServer},
		route{method: "PUT", path: "/servers/{server_id}", body: serverUpdateSchema, handle: updateServer},
		route{method: "DELETE", path: "/servers/{server_id}", handle: deleteServer},
	)
}

// loadServer loads the {server_id} server as Nova's get_instance: another
// project's server is not found (unless the caller is an admin), then
// rule is checked against the server's project and user (403).
func (c *call) loadServer(rule string) (*Instance, error) {
	id := c.param("server_id")
	in, err := c.s.instances().get(c.ctx, id, false)
	if err == nil && !c.admin && in.ProjectID != c.project() {
		err = errNotFound
	}
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Instance %s could not be found.", id)
	}
	if err != nil {
		return nil, err
	}
	if rule != "" {
		if err := c.enforce(rule, map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func showServer(c *call) error {
	in, err := c.loadServer("os_compute_api:servers:show")
	if err != nil {
		return err
	}
	v, err := c.serverView(in, viewFull)
	if err != nil {
		return err
	}
	if err := c.addServerGroups(v, in); err != nil {
		return err
	}
	return c.json(200, map[string]any{"server": v})
}

func updateServer(c *call) error {
	in, err := c.loadServer("os_compute_api:servers:update")
	if err != nil {
		return err
	}
	body := c.obj("server")
	cols := map[string]any{}
	if v, ok := body["name"].(string); ok {
		cols["display_name"] = v
	}
	if v, ok := body["description"]; ok {
		cols["display_description"] = v
	}
	if v, ok := body["accessIPv4"].(string); ok {
		cols["access_ip_v4"] = nullable(canonicalIP(v))
	}
	if v, ok := body["accessIPv6"].(string); ok {
		cols["access_ip_v6"] = nullable(canonicalIP(v))
	}
	if v, ok := body["OS-DCF:diskConfig"].(string); ok {
		cols["disk_config"] = v
	}
	if v, ok := body["hostname"].(string); ok {
		cols["hostname"] = v
	}
	if err := c.s.instances().setFields(c.ctx, in.UUID, cols); err != nil {
		return err
	}
	if in, err = c.s.instances().get(c.ctx, in.UUID, false); err != nil {
		return err
	}
	v, err := c.serverView(in, viewReduced)
	if err != nil {
		return err
	}
	if err := c.addServerGroups(v, in); err != nil {
		return err
	}
	return c.json(200, map[string]any{"server": v})
}

// checkLocked is Nova's check_instance_lock: a locked server refuses
// changes from anyone but an admin (409).
func (c *call) checkLocked(in *Instance) error {
	if in.Locked && !c.admin {
		return httpapi.Conflict("Instance %s is locked", in.UUID)
	}
	return nil
}

func deleteServer(c *call) error {
	in, err := c.loadServer("os_compute_api:servers:delete")
	if err != nil {
		return err
	}
	if err := c.checkLocked(in); err != nil {
		return err
	}
	if err := c.deleteInstance(in, "delete"); err != nil {
		return err
	}
	return c.empty(http.StatusNoContent)
}

// deleteInstance deletes through the instance's host, or at once when it
// has none yet (Nova's local delete of an instance still scheduling).
func (c *call) deleteInstance(in *Instance, action string) error {
	rid := httpapi.RequestID(c.ctx)
	if err := c.recordAction(in, action); err != nil {
		return err
	}
	shelvedImage := c.s.shelvedImageToDelete(c.ctx, c.tok.ID, in)
	if h, ok := c.s.deps().hostOf(in.Host); ok {
		err := h.Manager.Delete(c.ctx, in.UUID, rid)
		if errors.Is(err, manager.ErrNotFound) {
			return httpapi.NotFound("Instance %s could not be found.", in.UUID)
		}
		if err == nil {
			c.s.deleteShelvedImage(c.ctx, in, shelvedImage)
		}
		return err
	}
	none := manager.TaskNone
	err := c.s.instances().Update(c.ctx, in.UUID, manager.Update{VMState: manager.VMDeleted, TaskState: &none,
		TerminatedAt: c.s.now()})
	if errors.Is(err, manager.ErrNotFound) {
		return httpapi.NotFound("Instance %s could not be found.", in.UUID)
	}
	if err != nil {
		return err
	}
	if d := c.s.deps(); d != nil && d.Claims != nil {
		if err := d.Claims.Release(c.ctx, in.UUID); err != nil {
			c.s.log.Error("release claims of a local delete", "instance", in.UUID, "err", err)
		}
	}
	c.s.deleteShelvedImage(c.ctx, in, shelvedImage)
	return nil
}

// recordAction starts the instance action of this request.
func (c *call) recordAction(in *Instance, action string) error {
	return c.s.instances().createAction(c.ctx, InstanceAction{InstanceUUID: in.UUID,
		RequestID: httpapi.RequestID(c.ctx), Action: action, ProjectID: c.project(), UserID: c.user(),
		StartTime: c.s.now()})
}
