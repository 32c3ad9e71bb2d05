package compute

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"

	"kumo/internal/platform/db"
	"kumo/internal/platform/httpapi"
)

// The os-aggregates API (admin), as Nova's aggregates.py. An aggregate's
// availability_zone is its metadata key of that name; hosts in it show in
// that zone in os-availability-zone, os-services and os-hosts.
func init() {
	register(
		route{method: "GET", path: "/os-aggregates", rule: "os_compute_api:os-aggregates:index", handle: listAggregates},
		route{method: "POST", path: "/os-aggregates", body: aggregateCreateSchema, rule: "os_compute_api:os-aggregates:create", handle: createAggregate},
		route{method: "GET", path: "/os-aggregates/{aggregate_id}", rule: "os_compute_api:os-aggregates:show", handle: showAggregate},
		route{method: "PUT", path: "/os-aggregates/{aggregate_id}", body: aggregateUpdateSchema, rule: "os_compute_api:os-aggregates:update", handle: updateAggregate},
		route{method: "DELETE", path: "/os-aggregates/{aggregate_id}", rule: "os_compute_api:os-aggregates:delete", handle: deleteAggregate},
		route{method: "POST", path: "/os-aggregates/{aggregate_id}/action", actions: []action{
			{name: "add_host", rule: "os_compute_api:os-aggregates:add_host", body: aggregateHostSchema("add_host"), handle: aggregateAddHost},
			{name: "remove_host", rule: "os_compute_api:os-aggregates:remove_host", body: aggregateHostSchema("remove_host"), handle: aggregateRemoveHost},
			{name: "set_metadata", rule: "os_compute_api:os-aggregates:set_metadata", body: aggregateMetadataSchema, handle: aggregateSetMetadata},
		}},
	)
}

func aggregateName(mv Microversion) *Schema {
	s := &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: "name"}
	if !mv.AtLeast(2, 1) {
		s.Format = "name_with_spaces"
	}
	return s
}

// azName is Nova's parameter_types.az_name (no ':'), or null.
func azName() *Schema {
	return &Schema{Type: Types("string", "null"), MinLength: 1, MaxLength: 255, Pattern: "^[^:]*$"}
}

func aggregateCreateSchema(mv Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"aggregate"}, Properties: []Prop{
		{"aggregate", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"name"}, Properties: []Prop{
			{"name", aggregateName(mv)}, {"availability_zone", azName()}}}}}}
}

func aggregateUpdateSchema(mv Microversion) *Schema {
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"aggregate"}, Properties: []Prop{
		{"aggregate", &Schema{Type: Types("object"), NoAdditional: true, MinProperties: 1, Properties: []Prop{
			{"name", aggregateName(mv)}, {"availability_zone", azName()}}}}}}
}

func aggregateHostSchema(name string) func(Microversion) *Schema {
	return func(Microversion) *Schema {
		return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{name}, Properties: []Prop{
			{name, &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"host"}, Properties: []Prop{
				{"host", &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255}}}}}}}
	}
}

func aggregateMetadataSchema(Microversion) *Schema {
	meta := &Schema{Type: Types("object"), MinProperties: 1, NoAdditional: true, PatternProperties: []PatternProp{
		{Pattern: "^[a-zA-Z0-9-_:. ]{1,255}$", Schema: &Schema{Type: Types("string", "null"), MaxLength: 255}}}}
	return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"set_metadata"}, Properties: []Prop{
		{"set_metadata", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"metadata"},
			Properties: []Prop{{"metadata", meta}}}}}}
}

// aggregateView is Nova's _marshall_aggregate; create leaves out hosts
// and metadata.
func (c *call) aggregateView(a *Aggregate, full bool) map[string]any {
	m := map[string]any{"id": a.ID, "name": a.Name, "availability_zone": nil, "created_at": novaTime(a.CreatedAt),
		"updated_at": nil, "deleted": false, "deleted_at": nil}
	if z := a.Zone(); z != "" {
		m["availability_zone"] = z
	}
	if a.UpdatedAt != nil {
		m["updated_at"] = novaTime(*a.UpdatedAt)
	}
	if full {
		m["hosts"], m["metadata"] = a.Hosts, a.Metadata
	}
	if c.mv.AtLeast(2, 41) {
		m["uuid"] = a.UUID
	}
	return m
}

func listAggregates(c *call) error {
	l, err := c.s.aggregates().list(c.ctx)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(l))
	for _, a := range l {
		out = append(out, c.aggregateView(a, true))
	}
	return c.json(http.StatusOK, map[string]any{"aggregates": out})
}

func createAggregate(c *call) error {
	in := c.obj("aggregate")
	zone, _ := in["availability_zone"].(string)
	a, err := c.s.aggregates().create(c.ctx, in["name"].(string), zone, c.s.now())
	if errors.Is(err, errExists) {
		return httpapi.Conflict("Aggregate %s already exists.", in["name"])
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"aggregate": c.aggregateView(a, false)})
}

// aggregateID is the {aggregate_id} path parameter (Nova: an integer).
func (c *call) aggregateID() (int64, error) {
	id, err := strconv.ParseInt(c.param("aggregate_id"), 10, 64)
	if err != nil {
		return 0, httpapi.BadRequest("Invalid input received: id must be an integer")
	}
	return id, nil
}

func (c *call) aggregateNotFound(err error) error {
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Aggregate %s could not be found.", c.param("aggregate_id"))
	}
	return err
}

func showAggregate(c *call) error {
	id, err := c.aggregateID()
	if err != nil {
		return err
	}
	a, err := c.s.aggregates().get(c.ctx, c.s.db.R, id)
	if err != nil {
		return c.aggregateNotFound(err)
	}
	return c.json(http.StatusOK, map[string]any{"aggregate": c.aggregateView(a, true)})
}

func updateAggregate(c *call) error {
	id, err := c.aggregateID()
	if err != nil {
		return err
	}
	in := c.obj("aggregate")
	a, err := c.s.aggregates().change(c.ctx, id, c.s.now(), func(tx *sql.Tx, a *Aggregate) error {
		if name, ok := in["name"].(string); ok {
			_, err := tx.ExecContext(c.ctx, `UPDATE aggregates SET name = ? WHERE id = ?`, name, id)
			if db.IsUniqueViolation(err) {
				return httpapi.Conflict("Aggregate %s already exists.", name)
			}
			if err != nil {
				return err
			}
		}
		if v, ok := in["availability_zone"]; ok {
			var z *string
			if s, ok := v.(string); ok {
				z = &s
			}
			return setAggregateMetadata(c.ctx, tx, id, map[string]*string{azKey: z})
		}
		return nil
	})
	if err != nil {
		return c.aggregateNotFound(err)
	}
	return c.json(http.StatusOK, map[string]any{"aggregate": c.aggregateView(a, true)})
}

func deleteAggregate(c *call) error {
	id, err := c.aggregateID()
	if err != nil {
		return err
	}
	err = c.s.aggregates().delete(c.ctx, id)
	if errors.Is(err, errAggregateNotEmpty) {
		return httpapi.BadRequest("Cannot perform action 'delete' on aggregate %d. Reason: Host aggregate is not empty.", id)
	}
	if err != nil {
		return c.aggregateNotFound(err)
	}
	return c.empty(http.StatusOK)
}

// isComputeHost reports whether host runs a nova-compute service.
func (c *call) isComputeHost(host string) (bool, error) {
	svcs, _, err := c.s.services(c.ctx)
	if err != nil {
		return false, err
	}
	for _, hs := range svcs {
		if hs.Host == host && hs.Binary == "nova-compute" {
			return true, nil
		}
	}
	return false, nil
}

func aggregateAddHost(c *call) error {
	id, err := c.aggregateID()
	if err != nil {
		return err
	}
	host := c.obj("add_host")["host"].(string)
	ok, err := c.isComputeHost(host)
	if err != nil {
		return err
	}
	if !ok {
		return httpapi.NotFound("Compute host %s could not be found.", host)
	}
	zones, err := c.s.aggregates().hostZones(c.ctx)
	if err != nil {
		return err
	}
	a, err := c.s.aggregates().change(c.ctx, id, c.s.now(), func(tx *sql.Tx, a *Aggregate) error {
		for _, h := range a.Hosts {
			if h == host {
				return httpapi.Conflict("Aggregate %d already has host %s.", id, host)
			}
		}
		// A host is in one availability zone (Nova's add_host check).
		if z, in := zones[host]; in && a.Zone() != "" && z != a.Zone() {
			return httpapi.BadRequest("Cannot add host to aggregate %d. Reason: One or more hosts already in availability zone(s) ['%s'].", id, z)
		}
		_, err := tx.ExecContext(c.ctx, `INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)`, id, host)
		return err
	})
	if err != nil {
		return c.aggregateNotFound(err)
	}
	return c.json(http.StatusOK, map[string]any{"aggregate": c.aggregateView(a, true)})
}

func aggregateRemoveHost(c *call) error {
	id, err := c.aggregateID()
	if err != nil {
		return err
	}
	host := c.obj("remove_host")["host"].(string)
	a, err := c.s.aggregates().change(c.ctx, id, c.s.now(), func(tx *sql.Tx, a *Aggregate) error {
		res, err := tx.ExecContext(c.ctx, `DELETE FROM aggregate_hosts WHERE aggregate_id = ? AND host = ?`, id, host)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	})
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("Cannot remove host %s in aggregate %s", host, c.param("aggregate_id"))
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"aggregate": c.aggregateView(a, true)})
}

func aggregateSetMetadata(c *call) error {
	id, err := c.aggregateID()
	if err != nil {
		return err
	}
	set := map[string]*string{}
	for k, v := range c.obj("set_metadata")["metadata"].(map[string]any) {
		if s, ok := v.(string); ok {
			set[k] = &s
		} else {
			set[k] = nil
		}
	}
	a, err := c.s.aggregates().change(c.ctx, id, c.s.now(), func(tx *sql.Tx, a *Aggregate) error {
		return setAggregateMetadata(c.ctx, tx, id, set)
	})
	if err != nil {
		return c.aggregateNotFound(err)
	}
	return c.json(http.StatusOK, map[string]any{"aggregate": c.aggregateView(a, true)})
}
