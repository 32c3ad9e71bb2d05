package compute

import (
	"net/http"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// The migrate and os-migrateLive actions (admin). kumo does not move an
// instance between hosts, so after Nova's API checks (404, 403, lock,
// state 409) a migration fails the way Nova's conductor fails one that
// finds no other host: 202, then the instance stays where it is with a
// NoValidHost fault and a failed conductor event.
func init() {
	register(route{method: "POST", path: "/servers/{server_id}/action", actions: []action{
		{name: "migrate", rule: "", body: migrateSchema, handle: migrateServer("os_compute_api:os-migrate-server:migrate", "migrate",
			"conductor_migrate_server", manager.VMActive, manager.VMStopped)},
		{name: "os-migrateLive", rule: "", body: migrateLiveSchema, handle: migrateServer("os_compute_api:os-migrate-server:migrate_live",
			"live-migration", "conductor_live_migrate_instance", manager.VMActive, manager.VMPaused)},
	}})
}

func migrateSchema(mv Microversion) *Schema {
	props := []Prop{}
	if mv.AtLeast(2, 56) {
		props = append(props, Prop{"host", &Schema{Type: Types("string", "null"), MinLength: 1, MaxLength: 255}})
	}
	return &Schema{Type: Types("object"), Required: []string{"migrate"}, Properties: []Prop{
		{"migrate", &Schema{Type: Types("object", "null"), NoAdditional: true, Properties: props}}}}
}

func migrateLiveSchema(mv Microversion) *Schema {
	props := []Prop{{"host", &Schema{Type: Types("string", "null"), MinLength: 1, MaxLength: 255}}}
	req := []string{"host"}
	if !mv.AtLeast(2, 25) {
		props = append(props, Prop{"block_migration", booleanSchema()}, Prop{"disk_over_commit", booleanSchema()})
		req = append(req, "block_migration", "disk_over_commit")
	} else {
		props = append(props, Prop{"block_migration", &Schema{Type: Types("boolean", "string"), Enum: []any{true, false, "auto", "True", "False", "true", "false"}}})
		req = append(req, "block_migration")
	}
	if mv.AtLeast(2, 30) {
		props = append(props, Prop{"force", booleanSchema()})
	}
	return &Schema{Type: Types("object"), Required: []string{"os-migrateLive"}, Properties: []Prop{
		{"os-migrateLive", &Schema{Type: Types("object"), NoAdditional: true, Required: req, Properties: props}}}}
}

func migrateServer(rule, actionName, event string, states ...string) func(c *call) error {
	return func(c *call) error {
		in, err := c.serverForAction(rule)
		if err != nil {
			return err
		}
		if err := precheck(in, actionName, states...); err != nil {
			return err
		}
		if err := c.recordAction(in, actionName); err != nil {
			return err
		}
		st := c.s.instances()
		now := c.s.now()
		cause := &manager.NoValidHostError{Reason: "kumo does not move instances between hosts"}
		rid := httpapi.RequestID(c.ctx)
		_ = st.StartEvent(c.ctx, in.UUID, rid, event, now)
		_ = st.FinishEvent(c.ctx, in.UUID, rid, event, now, manager.ResultError, cause.Error())
		_ = st.AddFault(c.ctx, in.UUID, manager.Fault{Code: 500, Message: cause.Error(), Created: now})
		return c.empty(http.StatusAccepted)
	}
}
