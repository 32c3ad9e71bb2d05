package compute

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

func init() {
	register(route{method: "POST", path: "/servers/{server_id}/action", actions: []action{
		{name: "os-start", handle: hostAction("os_compute_api:servers:start", "start", (*manager.Manager).Start)},
		{name: "os-stop", handle: hostAction("os_compute_api:servers:stop", "stop", (*manager.Manager).Stop)},
		{name: "reboot", body: rebootSchema, handle: rebootServer},
		{name: "pause", handle: hostAction("os_compute_api:os-pause-server:pause", "pause", (*manager.Manager).Pause)},
		{name: "unpause", handle: hostAction("os_compute_api:os-pause-server:unpause", "unpause", (*manager.Manager).Unpause)},
		{name: "suspend", handle: hostAction("os_compute_api:os-suspend-server:suspend", "suspend", (*manager.Manager).Suspend)},
		{name: "resume", handle: hostAction("os_compute_api:os-suspend-server:resume", "resume", (*manager.Manager).Resume)},
		{name: "unrescue", handle: hostAction("os_compute_api:os-unrescue", "unrescue", (*manager.Manager).Unrescue)},
		{name: "confirmResize", handle: confirmResize},
		{name: "revertResize", handle: revertResize},
		{name: "lock", body: lockSchema, handle: lockServer},
		{name: "unlock", handle: unlockServer},
		{name: "rescue", body: rescueSchema, handle: rescueServer},
		{name: "os-resetState", body: resetStateSchema, handle: resetState},
		{name: "forceDelete", handle: forceDelete},
		{name: "restore", handle: restoreServer},
		{name: "os-getConsoleOutput", body: consoleOutputSchema, handle: consoleOutput},
	}})
}

// actionError turns a manager error into Nova's answer: a wrong state is
// 409 with Nova's message, a vanished instance 404.
func actionError(err error, uuid string) error {
	var inv *manager.InvalidStateError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return httpapi.Conflict("%s", inv.Error())
	case errors.Is(err, manager.ErrNotFound):
		return httpapi.NotFound("Instance %s could not be found.", uuid)
	case errors.Is(err, manager.ErrClosed):
		return httpapi.Errorf(http.StatusServiceUnavailable, "%s", err.Error())
	}
	return err
}

// hostOrConflict returns the instance's host; an instance without one is
// in a state no action but delete accepts.
func (c *call) hostOrConflict(in *Instance, method string) (ComputeHost, error) {
	h, ok := c.s.deps().hostOf(in.Host)
	if !ok {
		return h, httpapi.Conflict("%s", (&manager.InvalidStateError{Method: method, UUID: in.UUID, Attr: "vm_state",
			State: in.VMState}).Error())
	}
	return h, nil
}

// serverForAction loads the server, checks rule and the lock.
func (c *call) serverForAction(rule string) (*Instance, error) {
	in, err := c.loadServer(rule)
	if err != nil {
		return nil, err
	}
	return in, c.checkLocked(in)
}

// hostAction is an action that is one manager call on the instance's host.
func hostAction(rule, name string, fn func(m *manager.Manager, ctx context.Context, uuid, rid string) error) func(c *call) error {
	return func(c *call) error {
		in, err := c.serverForAction(rule)
		if err != nil {
			return err
		}
		h, err := c.hostOrConflict(in, name)
		if err != nil {
			return err
		}
		if err := c.recordAction(in, name); err != nil {
			return err
		}
		if err := fn(h.Manager, c.ctx, in.UUID, httpapi.RequestID(c.ctx)); err != nil {
			return actionError(err, in.UUID)
		}
		return c.empty(http.StatusAccepted)
	}
}

func rebootSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Required: []string{"reboot"}, Properties: []Prop{
		{"reboot", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"type"}, Properties: []Prop{
			{"type", &Schema{Type: Types("string"), Enum: []any{"HARD", "Hard", "hard", "SOFT", "Soft", "soft"}}},
		}}},
	}}
}

func rebootServer(c *call) error {
	hard := false
	if t, _ := c.obj("reboot")["type"].(string); t == "HARD" || t == "Hard" || t == "hard" {
		hard = true
	}
	return hostAction("os_compute_api:servers:reboot", "reboot", func(m *manager.Manager, ctx context.Context, uuid, rid string) error {
		return m.Reboot(ctx, uuid, rid, hard)
	})(c)
}

func lockSchema(mv Microversion) *Schema {
	if !mv.AtLeast(2, 73) {
		return nil
	}
	return &Schema{Type: Types("object"), Properties: []Prop{
		{"lock", &Schema{Type: Types("object", "null"), NoAdditional: true, Properties: []Prop{
			{"locked_reason", &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255}},
		}}},
	}}
}

func lockServer(c *call) error {
	in, err := c.loadServer("os_compute_api:os-lock-server:lock")
	if err != nil {
		return err
	}
	by := "owner"
	if c.project() != in.ProjectID {
		by = "admin"
	}
	cols := map[string]any{"locked": 1, "locked_by": by}
	if r, ok := c.obj("lock")["locked_reason"].(string); ok {
		cols["locked_reason"] = r
	}
	if err := c.recordAction(in, "lock"); err != nil {
		return err
	}
	if err := c.s.instances().setFields(c.ctx, in.UUID, cols); err != nil {
		return err
	}
	return c.empty(http.StatusAccepted)
}

func unlockServer(c *call) error {
	in, err := c.loadServer("os_compute_api:os-lock-server:unlock")
	if err != nil {
		return err
	}
	// Nova: a lock taken by an admin needs unlock_override to be lifted
	// by someone else.
	if in.Locked && in.LockedBy == "admin" && c.project() == in.ProjectID {
		if err := c.enforce("os_compute_api:os-lock-server:unlock:unlock_override",
			map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}); err != nil {
			return err
		}
	}
	if err := c.recordAction(in, "unlock"); err != nil {
		return err
	}
	if err := c.s.instances().setFields(c.ctx, in.UUID, map[string]any{"locked": 0, "locked_by": nil,
		"locked_reason": nil}); err != nil {
		return err
	}
	return c.empty(http.StatusAccepted)
}

func rescueSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Properties: []Prop{
		{"rescue", &Schema{Type: Types("object", "null"), NoAdditional: true, Properties: []Prop{
			{"adminPass", strSchema()},
			{"rescue_image_ref", uuidSchema()},
		}}},
	}}
}

func rescueServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:os-rescue")
	if err != nil {
		return err
	}
	h, err := c.hostOrConflict(in, "rescue")
	if err != nil {
		return err
	}
	body := c.obj("rescue")
	image := in.ImageRef
	if ref, ok := body["rescue_image_ref"].(string); ok {
		image = ref
	}
	pass, _ := body["adminPass"].(string)
	if pass == "" {
		pass = randomPassword(12)
	}
	if err := c.recordAction(in, "rescue"); err != nil {
		return err
	}
	err = h.Manager.Rescue(c.ctx, manager.RescueRequest{UUID: in.UUID, RequestID: httpapi.RequestID(c.ctx),
		ProjectID: in.ProjectID, ImageID: image})
	if err != nil {
		return actionError(err, in.UUID)
	}
	if c.s.deps().DisableInstancePassword {
		return c.json(http.StatusOK, map[string]any{})
	}
	return c.json(http.StatusOK, map[string]any{"adminPass": pass})
}

func resetStateSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Required: []string{"os-resetState"}, Properties: []Prop{
		{"os-resetState", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"state"}, Properties: []Prop{
			{"state", &Schema{Type: Types("string"), Enum: []any{"active", "error"}}},
		}}},
	}}
}

// resetState is the admin's os-resetState: vm_state active or error,
// task_state None, whatever the instance is doing.
func resetState(c *call) error {
	in, err := c.loadServer("os_compute_api:os-admin-actions:reset_state")
	if err != nil {
		return err
	}
	state, _ := c.obj("os-resetState")["state"].(string)
	none := manager.TaskNone
	if err := c.s.instances().Update(c.ctx, in.UUID, manager.Update{VMState: state, TaskState: &none}); err != nil {
		return actionError(err, in.UUID)
	}
	return c.empty(http.StatusAccepted)
}

// forceDelete deletes at once: kumo does not defer deletes (Nova's
// reclaim_instance_interval 0), so it is a delete in any state.
func forceDelete(c *call) error {
	in, err := c.serverForAction("os_compute_api:os-deferred-delete:force")
	if err != nil {
		return err
	}
	if err := c.deleteInstance(in, "forceDelete"); err != nil {
		return err
	}
	return c.empty(http.StatusAccepted)
}

// restoreServer restores a soft-deleted server; none ever is, so it is
// Nova's 409 for a server not in soft-delete.
func restoreServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:os-deferred-delete:restore")
	if err != nil {
		return err
	}
	if in.VMState != manager.VMSoftDeleted {
		return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: "restore", UUID: in.UUID, Attr: "vm_state",
			State: in.VMState}).Error())
	}
	return c.empty(http.StatusAccepted)
}

func consoleOutputSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Properties: []Prop{
		{"os-getConsoleOutput", &Schema{Type: Types("object", "null"), NoAdditional: true, Properties: []Prop{
			{"length", &Schema{Type: Types("integer", "string", "null"), Pattern: "^-?[0-9]+$", Minimum: Num(-1)}},
		}}},
	}}
}

// consoleOutput is os-getConsoleOutput: the tail of the serial console
// (length lines; -1 or none is all of it).
func consoleOutput(c *call) error {
	in, err := c.loadServer("os_compute_api:os-console-output")
	if err != nil {
		return err
	}
	lines := 0
	switch v := c.obj("os-getConsoleOutput")["length"].(type) {
	case string:
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			return httpapi.BadRequest("Invalid input for field/attribute length. Value: %s. %s is less than the minimum of -1", v, pyRepr(v))
		}
		lines = n
	case nil:
	default:
		lines = intOf(v)
	}
	h, ok := c.s.deps().hostOf(in.Host)
	if !ok || h.Driver == nil || in.VMState == manager.VMBuilding {
		return httpapi.Conflict("Instance %s is not ready", in.UUID)
	}
	if lines < 0 {
		lines = 0
	}
	out, err := h.Driver.ConsoleOutput(c.ctx, in.UUID, lines)
	if err != nil {
		return httpapi.Conflict("Instance %s is not ready", in.UUID)
	}
	// Nova drops the control characters other than tab and newline.
	out = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' {
			return -1
		}
		return r
	}, out)
	return c.json(http.StatusOK, map[string]any{"output": out})
}
