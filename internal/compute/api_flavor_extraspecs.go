package compute

import (
	"encoding/json"
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// Flavor extra specs (nova/api/openstack/compute/flavors_extraspecs.py).
//
// Not done: from 2.86 Nova validates the values of the extra specs it
// knows (hw:, hw_rng:, quota:, ...) and refuses unknown keys in those
// namespaces; kumo stores any key the schema allows.
func init() {
	const base = "/flavors/{flavor_id}/os-extra_specs"
	register(
		route{method: "GET", path: base, rule: "os_compute_api:os-flavor-extra-specs:index", handle: listExtraSpecs},
		route{method: "POST", path: base, body: extraSpecsCreateSchema, rule: "os_compute_api:os-flavor-extra-specs:create", handle: createExtraSpecs},
		route{method: "GET", path: base + "/{key}", rule: "os_compute_api:os-flavor-extra-specs:show", handle: showExtraSpec},
		route{method: "PUT", path: base + "/{key}", body: extraSpecsUpdateSchema, rule: "os_compute_api:os-flavor-extra-specs:update", handle: updateExtraSpec},
		route{method: "DELETE", path: base + "/{key}", rule: "os_compute_api:os-flavor-extra-specs:delete", handle: deleteExtraSpec},
	)
}

// extraSpecKey is Nova's metadata key pattern '^[a-zA-Z0-9-_:. ]{1,255}$'.
const extraSpecKey = `^[a-zA-Z0-9_:. -]{1,255}$`

func extraSpecsMetadata() *Schema {
	return &Schema{Type: Types("object"), NoAdditional: true, PatternProperties: []PatternProp{
		{Pattern: extraSpecKey, Schema: &Schema{Type: Types("string", "number"), MaxLength: 255}},
	}}
}

func extraSpecsCreateSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Required: []string{"extra_specs"}, NoAdditional: true,
		Properties: []Prop{{"extra_specs", extraSpecsMetadata()}}}
}

func extraSpecsUpdateSchema(Microversion) *Schema {
	s := extraSpecsMetadata()
	s.MinProperties, s.MaxProperties = 1, 1
	return s
}

// specValues turns validated values into the strings Nova stores; a
// number longer than 255 characters is refused as Nova does.
func specValues(in map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch x := v.(type) {
		case string:
			out[k] = x
		case json.Number:
			s := pyStr(x)
			if len(s) > 255 {
				return nil, httpapi.BadRequest("Invalid input received: extra_specs value has more than 255 characters.")
			}
			out[k] = s
		}
	}
	return out, nil
}

func listExtraSpecs(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	specs, err := c.s.flavors().extraSpecs(c.ctx, f)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"extra_specs": specs})
}

func createExtraSpecs(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	in := c.obj("extra_specs")
	specs, err := specValues(in)
	if err != nil {
		return err
	}
	if err := c.s.flavors().setExtraSpecs(c.ctx, f, specs); err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"extra_specs": in})
}

func updateExtraSpec(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	key := c.param("key")
	in, _ := c.body.(map[string]any)
	if _, ok := in[key]; !ok {
		return httpapi.BadRequest("Request body and URI mismatch")
	}
	specs, err := specValues(in)
	if err != nil {
		return err
	}
	if err := c.s.flavors().setExtraSpecs(c.ctx, f, specs); err != nil {
		return err
	}
	return c.json(http.StatusOK, in)
}

func showExtraSpec(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	specs, err := c.s.flavors().extraSpecs(c.ctx, f)
	if err != nil {
		return err
	}
	key := c.param("key")
	v, ok := specs[key]
	if !ok {
		return httpapi.NotFound("Flavor %s has no extra specs with key %s.", f.ID, key)
	}
	return c.json(http.StatusOK, map[string]string{key: v})
}

func deleteExtraSpec(c *call) error {
	f, err := c.loadFlavor()
	if err != nil {
		return err
	}
	key := c.param("key")
	if err := c.s.flavors().deleteExtraSpec(c.ctx, f, key); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Flavor %s has no extra specs with key %s.", f.ID, key)
		}
		return err
	}
	return c.empty(http.StatusOK)
}
