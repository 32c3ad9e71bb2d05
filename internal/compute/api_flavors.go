package compute

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kumo/internal/platform/httpapi"
)

// Flavors: nova/api/openstack/compute/flavors.py and flavor_manage.py.
// The read rules are open to anyone authenticated (Nova has none for
// list and show); visibility of private flavors is a query filter.
func init() {
	register(
		route{method: "GET", path: "/flavors", query: flavorIndexQuery, handle: listFlavors(false)},
		route{method: "GET", path: "/flavors/detail", query: flavorIndexQuery, handle: listFlavors(true)},
		route{method: "GET", path: "/flavors/{flavor_id}", handle: showFlavor},
		route{method: "POST", path: "/flavors", body: flavorCreateSchema, rule: "os_compute_api:os-flavor-manage:create", handle: createFlavor},
		route{method: "PUT", path: "/flavors/{flavor_id}", min: V(2, 55), body: flavorUpdateSchema, rule: "os_compute_api:os-flavor-manage:update", handle: updateFlavor},
		route{method: "DELETE", path: "/flavors/{flavor_id}", rule: "os_compute_api:os-flavor-manage:delete", handle: deleteFlavor},
	)
}

var flavorSortKeys = []any{"created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
	"is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap", "updated_at", "vcpu_weight", "vcpus"}

// nonNegativeInt is Nova's parameter_types.non_negative_integer.
func nonNegativeInt() *Schema {
	return &Schema{Type: Types("integer", "string"), Pattern: "^[0-9]*$", Minimum: Num(0), MinLength: 1}
}

func multi(s *Schema) *Schema { return &Schema{Type: Types("array"), Items: s} }

func flavorIndexQuery(mv Microversion) *Schema {
	str := func() *Schema { return &Schema{Type: Types("string")} }
	return &Schema{Type: Types("object"), NoAdditional: mv.AtLeast(2, 75), Properties: []Prop{
		{"limit", multi(nonNegativeInt())},
		{"marker", multi(str())},
		{"is_public", multi(str())},
		{"minRam", multi(str())},
		{"minDisk", multi(str())},
		{"sort_key", multi(&Schema{Type: Types("string"), Enum: flavorSortKeys})},
		{"sort_dir", multi(&Schema{Type: Types("string"), Enum: []any{"asc", "desc"}})},
	}}
}

// maxLimit is Nova's [api] max_limit.
const maxLimit = 1000

// last is the value Nova's webob params give for a repeated query
// parameter.
func last(vs []string) string { return vs[len(vs)-1] }

func listFlavors(detail bool) func(c *call) error {
	return func(c *call) error {
		q := c.r.URL.Query()
		f := flavorFilter{sortKey: "flavorid", sortDir: "asc", limit: maxLimit}
		if v := q["sort_key"]; len(v) > 0 && last(v) != "" {
			f.sortKey = last(v)
		}
		if v := q["sort_dir"]; len(v) > 0 && last(v) != "" {
			f.sortDir = last(v)
		}
		if c.admin {
			// Only admins choose: true (default), false, or none (all).
			pub := true
			f.isPublic = &pub
			if v, ok := q["is_public"]; ok {
				switch s := strings.ToLower(last(v)); {
				case s == "none":
					f.isPublic = nil
				case boolTrue[s]:
				case boolFalse[s]:
					pub = false
				default:
					return httpapi.BadRequest("Invalid is_public filter [%s]", last(v))
				}
			}
		} else {
			f.project, f.noDisabled = c.project(), true
			if f.project == "" {
				pub := true
				f.isPublic = &pub
			}
		}
		for _, p := range []struct {
			name string
			dst  **int64
		}{{"minRam", &f.minMemory}, {"minDisk", &f.minDisk}} {
			if v, ok := q[p.name]; ok {
				n, err := strconv.ParseInt(strings.TrimSpace(last(v)), 10, 64)
				if err != nil {
					return httpapi.BadRequest("Invalid %s filter [%s]", p.name, last(v))
				}
				*p.dst = &n
			}
		}
		limit, marker, err := pagination(q)
		if err != nil {
			return err
		}
		f.limit = limit
		if marker != nil {
			m, err := c.s.flavors().get(c.ctx, *marker, viewerProject(c))
			if errors.Is(err, errNotFound) {
				return httpapi.BadRequest("marker [%s] not found", *marker)
			}
			if err != nil {
				return err
			}
			f.marker = m
		}
		list, err := c.s.flavors().list(c.ctx, f)
		if err != nil {
			return err
		}
		specs := detail && c.mv.AtLeast(2, 61) && c.allowed("os_compute_api:os-flavor-extra-specs:index", c.defaultTarget())
		out := make([]map[string]any, 0, len(list))
		for _, fl := range list {
			if !detail {
				out = append(out, c.flavorBasic(fl))
				continue
			}
			if specs {
				if fl.ExtraSpecs, err = c.s.flavors().extraSpecs(c.ctx, fl); err != nil {
					return err
				}
			}
			out = append(out, c.flavorView(fl, specs))
		}
		body := map[string]any{"flavors": out}
		if limit > 0 && len(list) == limit {
			coll := "flavors"
			if detail {
				coll = "flavors/detail"
			}
			body["flavors_links"] = c.nextLink(coll, list[len(list)-1].ID)
		}
		return c.json(http.StatusOK, body)
	}
}

// pagination is Nova's get_limit_and_marker: limit capped at max_limit;
// marker is nil when absent (an empty marker is a marker, and names
// nothing).
func pagination(q map[string][]string) (int, *string, error) {
	limit := maxLimit
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(last(v))
		var ne *strconv.NumError
		switch {
		case errors.As(err, &ne) && ne.Err == strconv.ErrRange && !strings.HasPrefix(last(v), "-"):
			n = maxLimit // Python's int has no range: a huge limit is just capped
		case err != nil:
			return 0, nil, httpapi.BadRequest("limit param must be an integer")
		case n < 0:
			return 0, nil, httpapi.BadRequest("limit param must be positive")
		}
		limit = min(n, maxLimit)
	}
	if v, ok := q["marker"]; ok {
		m := last(v)
		return limit, &m, nil
	}
	return limit, nil, nil
}

// viewerProject is the project whose private flavors the caller sees;
// "" means all (an admin).
func viewerProject(c *call) string {
	if c.admin {
		return ""
	}
	if c.project() == "" {
		return "\x00" // no project: public flavors only
	}
	return c.project()
}

// loadFlavor is the flavor in the path as the caller may see it.
func (c *call) loadFlavor() (*Flavor, error) {
	id := c.param("flavor_id")
	f, err := c.s.flavors().get(c.ctx, id, viewerProject(c))
	if errors.Is(err, errNotFound) {
		return nil, httpapi.NotFound("Flavor %s could not be found.", id)
	}
	return f, err
}

func showFlavor(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	return c.showFlavor(f)
}

// showFlavor answers with the flavor's detail view; from 2.61 with its
// extra specs if the caller may list them.
func (c *call) showFlavor(f *Flavor) error {
	specs := c.mv.AtLeast(2, 61) && c.allowed("os_compute_api:os-flavor-extra-specs:index", c.defaultTarget())
	if specs && f.ExtraSpecs == nil {
		var err error
		if f.ExtraSpecs, err = c.s.flavors().extraSpecs(c.ctx, f); err != nil {
			return err
		}
	}
	return c.json(http.StatusOK, map[string]any{"flavor": c.flavorView(f, specs)})
}

// flavorBasic is the list view: id, name, links (and description from
// 2.55).
func (c *call) flavorBasic(f *Flavor) map[string]any {
	m := map[string]any{"id": f.ID, "name": f.Name, "links": c.links("flavors", f.ID)}
	if c.mv.AtLeast(2, 55) {
		m["description"] = f.Description
	}
	return m
}

// flavorView is Nova's flavor detail view for the request's microversion.
func (c *call) flavorView(f *Flavor, specs bool) map[string]any {
	m := map[string]any{
		"id": f.ID, "name": f.Name, "ram": f.MemoryMB, "disk": f.RootGB, "vcpus": f.VCPUs,
		"OS-FLV-EXT-DATA:ephemeral": f.EphemeralGB, "OS-FLV-DISABLED:disabled": f.Disabled,
		"os-flavor-access:is_public": f.IsPublic, "rxtx_factor": f.RxtxFactor,
		"links": c.links("flavors", f.ID),
	}
	// Before 2.75 a zero swap is "" (Nova's `swap or ""`).
	if f.Swap != 0 || c.mv.AtLeast(2, 75) {
		m["swap"] = f.Swap
	} else {
		m["swap"] = ""
	}
	if c.mv.AtLeast(2, 55) {
		m["description"] = f.Description
	}
	if specs {
		es := f.ExtraSpecs
		if es == nil {
			es = map[string]string{}
		}
		m["extra_specs"] = es
	}
	return m
}

// Request schemas: nova/api/openstack/compute/schemas/flavor_manage.py.

// flavorParam is Nova's flavor_param_positive (min 1) or _non_negative.
func flavorParam(min float64) *Schema {
	return &Schema{Type: Types("integer", "string"), Pattern: "^[0-9]+$", Minimum: Num(min), Maximum: Num(0x7FFFFFFF)}
}

// flavorIDPattern is '^(?! )[a-zA-Z0-9. _-]+(?<! )$'.
func flavorIDPattern(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(". _-", r)) {
			return false
		}
	}
	return true
}

// descriptionSchema is Nova's flavor_description: printable characters
// (valid_description_regex), up to 65535.
func descriptionSchema() *Schema {
	return &Schema{Type: Types("string", "null"), MaxLength: 65535, Pattern: "^[printable]*$", Match: func(s string) bool {
		for _, r := range s {
			if !printable(r) {
				return false
			}
		}
		return true
	}}
}

// booleanSchema is Nova's parameter_types.boolean.
func booleanSchema() *Schema {
	return &Schema{Type: Types("boolean", "string"), Enum: []any{true, "True", "TRUE", "true", "1", "ON", "On", "on",
		"YES", "Yes", "yes", false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}}
}

func flavorCreateSchema(mv Microversion) *Schema {
	name := &Schema{Type: Types("string"), MinLength: 1, MaxLength: 255, Format: "name"}
	if !mv.AtLeast(2, 1) {
		name.Format = "name_with_spaces" // /v2: create_v20
	}
	props := []Prop{
		{"name", name},
		{"id", &Schema{Type: Types("string", "number", "null"), MinLength: 1, MaxLength: 255,
			Pattern: "^(?! )[a-zA-Z0-9. _-]+(?<! )$", Match: flavorIDPattern}},
		{"ram", flavorParam(1)},
		{"vcpus", flavorParam(1)},
		{"disk", flavorParam(0)},
		{"OS-FLV-EXT-DATA:ephemeral", flavorParam(0)},
		{"swap", flavorParam(0)},
		{"rxtx_factor", &Schema{Type: Types("number", "string"), Pattern: `^[0-9]+(\.[0-9]+)?$`,
			Minimum: Num(0), ExclusiveMin: true, Maximum: Num(3.40282e+38)}},
		{"os-flavor-access:is_public", booleanSchema()},
	}
	if mv.AtLeast(2, 55) {
		props = append(props, Prop{"description", descriptionSchema()})
	}
	return &Schema{Type: Types("object"), Required: []string{"flavor"}, NoAdditional: true, Properties: []Prop{
		{"flavor", &Schema{Type: Types("object"), Properties: props, NoAdditional: true,
			Required: []string{"name", "ram", "vcpus", "disk"}}},
	}}
}

func flavorUpdateSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Required: []string{"flavor"}, NoAdditional: true, Properties: []Prop{
		{"flavor", &Schema{Type: Types("object"), Properties: []Prop{{"description", descriptionSchema()}},
			Required: []string{"description"}, NoAdditional: true}},
	}}
}

var (
	boolTrue  = map[string]bool{"1": true, "t": true, "true": true, "on": true, "y": true, "yes": true}
	boolFalse = map[string]bool{"0": true, "f": true, "false": true, "off": true, "n": true, "no": true}
)

// intValue reads a validated integer-or-digits field.
func intValue(v any, def int64) int64 {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return def
}

func createFlavor(c *call) error {
	in := c.obj("flavor")
	f := &Flavor{
		Name:        strings.TrimSpace(in["name"].(string)),
		MemoryMB:    intValue(in["ram"], 0),
		VCPUs:       intValue(in["vcpus"], 0),
		RootGB:      intValue(in["disk"], 0),
		EphemeralGB: intValue(in["OS-FLV-EXT-DATA:ephemeral"], 0),
		Swap:        intValue(in["swap"], 0),
		RxtxFactor:  1.0,
		IsPublic:    true,
		CreatedAt:   c.s.now(),
	}
	switch id := in["id"].(type) {
	case string:
		f.ID = id
	case json.Number:
		// Nova stores str(id); a zero id, like none, gets a UUID.
		if f0, _ := id.Float64(); f0 != 0 {
			f.ID = pyStr(id)
		}
	}
	if f.ID == "" {
		f.ID = newUUID()
	}
	switch r := in["rxtx_factor"].(type) {
	case json.Number:
		f.RxtxFactor, _ = r.Float64()
	case string:
		f.RxtxFactor, _ = strconv.ParseFloat(r, 64)
	}
	if p, ok := in["os-flavor-access:is_public"]; ok {
		switch x := p.(type) {
		case bool:
			f.IsPublic = x
		case string:
			f.IsPublic = boolTrue[strings.ToLower(x)]
		}
	}
	if d, ok := in["description"].(string); ok && c.mv.AtLeast(2, 55) {
		f.Description = &d
	}
	switch err := c.s.flavors().create(c.ctx, f); {
	case errors.Is(err, errNameTaken):
		return httpapi.Conflict("Flavor with name %s already exists.", f.Name)
	case errors.Is(err, errIDTaken):
		return httpapi.Conflict("Flavor with ID %s already exists.", f.ID)
	case err != nil:
		return err
	}
	f.ExtraSpecs = map[string]string{}
	return c.showFlavor(f)
}

func updateFlavor(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	var desc *string
	if d, ok := c.obj("flavor")["description"].(string); ok {
		desc = &d
	}
	if err := c.s.flavors().setDescription(c.ctx, f, desc, c.s.now()); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Flavor %s could not be found.", f.ID)
		}
		return err
	}
	return c.showFlavor(f)
}

func deleteFlavor(c *call) error {
	id := c.param("flavor_id")
	if err := c.s.flavors().delete(c.ctx, id); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Flavor %s could not be found.", id)
		}
		return err
	}
	return c.empty(http.StatusAccepted)
}

func (s *Service) flavors() flavorStore { return flavorStore{db: s.db} }
