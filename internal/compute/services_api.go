package compute

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// Compute services (nova/api/openstack/compute/services.py). Before 2.53
// a service is changed with PUT /os-services/{enable|disable|
// disable-log-reason|force-down} and a body naming host and binary; from
// 2.53 with PUT /os-services/{uuid}. Both forms share the one route.
func init() {
	register(
		route{method: "GET", path: "/os-services", rule: "os_compute_api:os-services:list", query: servicesQuery, handle: listServices},
		route{method: "PUT", path: "/os-services/{service_id}", body: serviceUpdateSchema, handle: updateService},
		route{method: "DELETE", path: "/os-services/{service_id}", rule: "os_compute_api:os-services:delete", handle: deleteService},
	)
}

// registry is the service registry: the configured one when it is a
// *ServiceRegistry (its DownTime), else one over the compute database.
func (s *Service) registry() *ServiceRegistry {
	if r, ok := s.cfg.Hosts.(*ServiceRegistry); ok && r != nil {
		return r
	}
	return &ServiceRegistry{db: s.db, DownTime: 60 * time.Second, now: s.now}
}

func servicesQuery(mv Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: mv.AtLeast(2, 75), Properties: []Prop{
		{"host", multi(&Schema{Type: Types("string")})},
		{"binary", multi(&Schema{Type: Types("string")})},
	}}
}

func serviceUpdateSchema(mv Microversion) *Schema {
	reason := &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255}
	if mv.AtLeast(2, 53) {
		return &Schema{Type: Types("object"), NoAdditional: true, Properties: []Prop{
			{"status", &Schema{Type: Types("string"), Enum: []any{"enabled", "disabled"}}},
			{"disabled_reason", reason},
			{"forced_down", booleanSchema()},
		}}
	}
	props := []Prop{
		{"host", &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Pattern: "^[a-zA-Z0-9-._]*$"}},
		{"binary", &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255}},
		{"disabled_reason", reason},
	}
	if mv.AtLeast(2, 11) {
		props = append(props, Prop{"forced_down", booleanSchema()})
	}
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"host", "binary"}, Properties: props}
}

// serviceView is Nova's _get_service_detail.
func (c *call) serviceView(r *ServiceRegistry, cs *computeService, forcedDown bool) map[string]any {
	hs := cs.hostService(r.up(cs))
	m := map[string]any{"binary": cs.Binary, "host": cs.Host, "zone": hs.zone(), "status": "enabled", "state": "down",
		"updated_at": nil, "disabled_reason": nil}
	if c.mv.AtLeast(2, 53) {
		m["id"] = cs.UUID
	} else {
		m["id"] = cs.ID
	}
	if cs.Disabled {
		m["status"] = "disabled"
	}
	if hs.Up {
		m["state"] = "up"
	}
	if cs.UpdatedAt != nil {
		m["updated_at"] = novaTime(*cs.UpdatedAt)
	}
	if cs.DisabledReason != nil {
		m["disabled_reason"] = *cs.DisabledReason
	}
	if forcedDown {
		m["forced_down"] = cs.ForcedDown
	}
	return m
}

func listServices(c *call) error {
	q := c.r.URL.Query()
	host, binary := "", ""
	if v, ok := q["host"]; ok {
		host = last(v)
	}
	if v, ok := q["binary"]; ok {
		binary = last(v)
	}
	r := c.s.registry()
	list, err := r.list(c.ctx, host, binary)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, cs := range list {
		// Nova leaves its API services out.
		if cs.Binary == "nova-osapi_compute" || cs.Binary == "nova-metadata" {
			continue
		}
		out = append(out, c.serviceView(r, cs, c.mv.AtLeast(2, 11)))
	}
	return c.json(http.StatusOK, map[string]any{"services": out})
}

func updateService(c *call) error {
	if c.mv.AtLeast(2, 53) {
		return updateServiceByUUID(c)
	}
	if err := c.enforce("os_compute_api:os-services:update", map[string]any{}); err != nil {
		return err
	}
	body, _ := c.body.(map[string]any)
	host, _ := body["host"].(string)
	binary, _ := body["binary"].(string)
	action := c.param("service_id")
	var reason *string
	forced := false
	switch action {
	case "enable", "disable":
	case "disable-log-reason":
		r, ok := body["disabled_reason"].(string)
		if !ok {
			return httpapi.BadRequest("Missing disabled reason field")
		}
		reason = &r
	case "force-down":
		if !c.mv.AtLeast(2, 11) {
			return httpapi.NotFound("Unknown action")
		}
		v, ok := body["forced_down"]
		if !ok {
			return httpapi.BadRequest("Missing forced_down field")
		}
		forced = boolFromString(v)
	default:
		return httpapi.NotFound("Unknown action")
	}
	if binary != "nova-compute" {
		return httpapi.BadRequest("Updating a %s service is not supported. Only nova-compute services can be updated.", binary)
	}
	r := c.s.registry()
	cs, err := r.getByHost(c.ctx, host, binary)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Could not find binary %s on host %s.", binary, host)
	}
	if err != nil {
		return err
	}
	out := map[string]any{"host": host, "binary": binary}
	switch action {
	case "enable":
		cs.Disabled, cs.DisabledReason = false, nil
		out["status"] = "enabled"
	case "disable", "disable-log-reason":
		cs.Disabled, cs.DisabledReason = true, reason
		out["status"] = "disabled"
		if reason != nil {
			out["disabled_reason"] = *reason
		}
	case "force-down":
		cs.ForcedDown = forced
		out = map[string]any{"host": host, "binary": binary, "forced_down": forced}
	}
	if err := r.update(c.ctx, cs); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"service": out})
}

func updateServiceByUUID(c *call) error {
	id := c.param("service_id")
	if !isUUIDLike(id) {
		return httpapi.BadRequest("Invalid uuid %s", id)
	}
	if err := c.enforce("os_compute_api:os-services:update", map[string]any{}); err != nil {
		return err
	}
	r := c.s.registry()
	cs, err := r.get(c.ctx, id, false)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Service %s could not be found.", id)
	}
	if err != nil {
		return err
	}
	if cs.Binary != "nova-compute" {
		return httpapi.BadRequest("Updating a %s service is not supported. Only nova-compute services can be updated.", cs.Binary)
	}
	body, _ := c.body.(map[string]any)
	changed := false
	switch body["status"] {
	case "enabled":
		if reason, _ := body["disabled_reason"].(string); reason != "" {
			return httpapi.BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
		}
		cs.Disabled, cs.DisabledReason, changed = false, nil, true
	case "disabled":
		cs.Disabled, cs.DisabledReason, changed = true, nil, true
		if reason, ok := body["disabled_reason"].(string); ok {
			cs.DisabledReason = &reason
		}
	}
	if v, ok := body["forced_down"]; ok {
		cs.ForcedDown, changed = boolFromString(v), true
	}
	if !changed {
		return httpapi.BadRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
	}
	if err := r.update(c.ctx, cs); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"service": c.serviceView(r, cs, true)})
}

// boolFromString is oslo's bool_from_string for a value the boolean
// schema let through.
func boolFromString(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(x) {
		case "1", "t", "true", "on", "y", "yes":
			return true
		}
	}
	return false
}

func deleteService(c *call) error {
	id := c.param("service_id")
	byInt := !c.mv.AtLeast(2, 53)
	if byInt {
		if _, err := strconv.Atoi(id); err != nil {
			return httpapi.BadRequest("Invalid input received: id must be an integer")
		}
	} else if !isUUIDLike(id) {
		return httpapi.BadRequest("Invalid uuid %s", id)
	}
	r := c.s.registry()
	cs, err := r.get(c.ctx, id, byInt)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Service %s not found.", id)
	}
	if err != nil {
		return err
	}
	switch err := r.deleteService(c.ctx, cs); {
	case errors.Is(err, errInUse):
		return httpapi.Conflict("Unable to delete compute service that is hosting instances. Migrate or delete the instances first.")
	case err != nil:
		return err
	}
	if cs.Binary == "nova-compute" && r.ComputeDeleted != nil {
		if err := r.ComputeDeleted(c.ctx, cs.Host); err != nil {
			c.s.log.Error("compute: cleaning up after deleting compute service", "host", cs.Host, "err", err)
		}
	}
	return c.empty(http.StatusNoContent)
}
