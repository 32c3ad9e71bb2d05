package compute

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// GET /extensions: Nova still lists its (frozen) v2 extensions, and
// Tempest's test_extensions reads them. extensions.json is Nova Zed's
// EXTENSION_LIST, the data only, in Nova's order.
func init() {
	register(
		route{method: "GET", path: "/extensions", rule: "os_compute_api:extensions", handle: listExtensions},
		route{method: "GET", path: "/extensions/{alias}", rule: "os_compute_api:extensions", handle: showExtension},
	)
}

//go:embed extensions.json
var extensionsJSON []byte

// extensions decodes the list; it is embedded and checked by a test, so
// an error here is a build defect reported as a 500.
func extensions() ([]map[string]any, error) {
	var out []map[string]any
	err := json.Unmarshal(extensionsJSON, &out)
	return out, err
}

func listExtensions(c *call) error {
	exts, err := extensions()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"extensions": exts})
}

func showExtension(c *call) error {
	exts, err := extensions()
	if err != nil {
		return err
	}
	for _, e := range exts {
		if e["alias"] == c.param("alias") {
			return c.json(http.StatusOK, map[string]any{"extension": e})
		}
	}
	return httpapi.NotFound("The resource could not be found.")
}
