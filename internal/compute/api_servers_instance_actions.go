package compute

import (
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

func init() {
	register(
		route{method: "GET", path: "/servers/{server_id}/os-instance-actions", query: instanceActionsQuery, handle: listInstanceActions},
		route{method: "GET", path: "/servers/{server_id}/os-instance-actions/{request_id}", handle: showInstanceAction},
	)
}

func instanceActionsQuery(mv Microversion) *Schema {
	if !mv.AtLeast(2, 58) {
		return nil
	}
	return &Schema{Type: Types("object"), Properties: []Prop{{"limit", multi(nonNegativeInt())}}}
}

// actionServer loads the server of an instance-actions call: from 2.21
// the actions of a deleted server stay visible.
func (c *call) actionServer(rule string) (*Instance, error) {
	id := c.param("server_id")
	in, err := c.s.instances().get(c.ctx, id, c.mv.AtLeast(2, 21))
	if err == nil && !c.admin && in.ProjectID != c.project() {
		err = errNotFound
	}
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Instance %s could not be found.", id)
	}
	if err != nil {
		return nil, err
	}
	if err := c.enforce(rule, map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}); err != nil {
		return nil, err
	}
	return in, nil
}

func (c *call) actionView(a *InstanceAction) map[string]any {
	v := map[string]any{"action": a.Action, "instance_uuid": a.InstanceUUID, "request_id": a.RequestID,
		"user_id": a.UserID, "project_id": a.ProjectID, "start_time": novaTime(a.StartTime), "message": a.Message}
	if c.mv.AtLeast(2, 58) {
		v["updated_at"] = novaTime(a.UpdatedAt)
	}
	return v
}

func listInstanceActions(c *call) error {
	in, err := c.actionServer("os_compute_api:os-instance-actions:list")
	if err != nil {
		return err
	}
	q := c.r.URL.Query()
	var f actionFilter
	if c.mv.AtLeast(2, 58) {
		limit, marker, err := pagination(q)
		if err != nil {
			return err
		}
		f.limit = limit
		if marker != nil {
			f.marker = *marker
		}
		if v := q.Get("changes-since"); v != "" {
			if f.changesSince, err = parseQueryTime("changes-since", v); err != nil {
				return err
			}
		}
		if v := q.Get("changes-before"); v != "" && c.mv.AtLeast(2, 66) {
			if f.changesBefore, err = parseQueryTime("changes-before", v); err != nil {
				return err
			}
			if !f.changesSince.IsZero() && f.changesSince.After(f.changesBefore) {
				return httpapi.BadRequest("The value of changes-since must be less than or equal to changes-before.")
			}
		}
	}
	actions, err := c.s.instances().actions(c.ctx, in.UUID, f)
	if errors.Is(err, errMarkerNotFound) {
		return httpapi.BadRequest("Marker %s could not be found.", f.marker)
	}
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(actions))
	for _, a := range actions {
		out = append(out, c.actionView(a))
	}
	body := map[string]any{"instanceActions": out}
	if f.limit > 0 && len(actions) == f.limit {
		body["links"] = c.nextLink("servers/"+in.UUID+"/os-instance-actions", actions[len(actions)-1].RequestID)
	}
	return c.json(http.StatusOK, body)
}

// showInstanceAction shows one action with its events: all details for
// whoever passes the events rule, and from 2.51 the events without
// traceback for the others, as Nova.
func showInstanceAction(c *call) error {
	in, err := c.actionServer("os_compute_api:os-instance-actions:show")
	if err != nil {
		return err
	}
	rid := c.param("request_id")
	a, err := c.s.instances().action(c.ctx, in.UUID, rid)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Action %s not found", rid)
	}
	if err != nil {
		return err
	}
	v := c.actionView(a)
	target := map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}
	showEvents, showTB, showHost := false, false, false
	if c.allowed("os_compute_api:os-instance-actions:events", target) {
		showEvents, showTB, showHost = true, true, c.mv.AtLeast(2, 62)
	} else if c.mv.AtLeast(2, 51) {
		showEvents = true
	}
	showDetails := c.mv.AtLeast(2, 84) && c.allowed("os_compute_api:os-instance-actions:events:details", target)
	if showEvents {
		evs, err := c.s.instances().events(c.ctx, a.ID)
		if err != nil {
			return err
		}
		list := make([]map[string]any, 0, len(evs))
		for _, e := range evs {
			ev := map[string]any{"event": e.Event, "start_time": novaTime(e.StartTime), "finish_time": optTime(e.FinishTime),
				"result": e.Result}
			if showTB {
				ev["traceback"] = e.Traceback
			}
			if showHost {
				ev["host"] = e.Host
			}
			if c.mv.AtLeast(2, 62) {
				ev["hostId"] = hostID(in.ProjectID, e.Host)
			}
			if showDetails {
				ev["details"] = e.Details
			}
			list = append(list, ev)
		}
		v["events"] = list
	}
	return c.json(http.StatusOK, map[string]any{"instanceAction": v})
}
