package compute

import (
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// os-server-external-events (admin), as Nova's server_external_events.py:
// other services tell compute that something happened to a server. Each
// event is answered per server: 200 when delivered, 404 for an unknown
// server, 422 for one not on a host yet; the whole request is 404 when no
// event could be delivered and 207 when some could not.
//
// Nothing in kumo waits for these events (there is no network or volume
// service whose operations would complete through them), so delivering
// one has no further effect. power-update (2.76) and
// accelerator-request-bound (2.82), which would, are not accepted.
func init() {
	register(route{method: "POST", path: "/os-server-external-events", body: externalEventsSchema,
		rule: "os_compute_api:os-server-external-events:create", handle: createExternalEvents})
}

func externalEventsSchema(mv Microversion) *Schema {
	names := []any{"network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"}
	if mv.AtLeast(2, 51) {
		names = append(names, "volume-extended")
	}
	if mv.AtLeast(2, 93) {
		names = append(names, "volume-reimaged")
	}
	event := &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"server_uuid", "name"}, Properties: []Prop{
		{"server_uuid", &Schema{Type: Types("string"), Format: "uuid"}},
		{"name", &Schema{Type: Types("string"), Enum: names}},
		{"status", &Schema{Type: Types("string"), Enum: []any{"failed", "completed", "in-progress"}}},
		{"tag", &Schema{Type: Types("string"), MaxLength: 255}},
	}}
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"events"}, Properties: []Prop{
		{"events", &Schema{Type: Types("array"), MinItems: 1, Items: event}}}}
}

func createExternalEvents(c *call) error {
	top, _ := c.body.(map[string]any)
	in, _ := top["events"].([]any)
	out := make([]map[string]any, 0, len(in))
	delivered := 0
	for _, e := range in {
		ev := e.(map[string]any)
		r := map[string]any{"server_uuid": ev["server_uuid"], "name": ev["name"], "status": "completed", "code": http.StatusOK}
		if s, ok := ev["status"].(string); ok {
			r["status"] = s
		}
		if t, ok := ev["tag"].(string); ok {
			r["tag"] = t
		}
		inst, err := c.s.instances().get(c.ctx, ev["server_uuid"].(string), false)
		switch {
		case errors.Is(err, errNotFound):
			r["code"], r["status"] = http.StatusNotFound, "failed"
		case err != nil:
			return err
		case inst.Host == "":
			r["code"], r["status"] = http.StatusUnprocessableEntity, "failed"
		default:
			delivered++
		}
		out = append(out, r)
	}
	if delivered == 0 {
		return httpapi.NotFound("No instances found for any event")
	}
	status := http.StatusOK
	if delivered < len(out) {
		status = http.StatusMultiStatus
	}
	return c.json(status, map[string]any{"events": out})
}
