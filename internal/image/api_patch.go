package image

import (
	"errors"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"kumo/internal/platform/httpapi"
)

// patchMediaTypes are the JSON-patch dialects Glance accepts, with the
// JSON Schema draft each follows (draft 4: {"add": path}, draft 10: {"op",
// "path"}).
var patchMediaTypes = map[string]int{
	"application/openstack-images-v2.0-json-patch": 4,
	"application/openstack-images-v2.1-json-patch": 10,
}

// change is one validated JSON-patch operation.
type change struct {
	op    string // add, remove, replace
	path  []string
	value any
	draft int
}

var (
	adjacentSlash = regexp.MustCompile(`/\s*?/`)
	badTilde      = regexp.MustCompile(`~[^01]`)
)

// parsePatch is Glance's update deserializer: media type (415 with
// Accept-Patch), a JSON array of operations, JSON pointers of depth one,
// read-only (403) and reserved (403) attributes, values against the
// schema (400).
func parsePatch(c *call) error {
	mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	draft, ok := patchMediaTypes[mt]
	if !ok {
		e := httpapi.Errorf(http.StatusUnsupportedMediaType, "The request media type %s is not supported by this server.", c.r.Header.Get("Content-Type"))
		e.Header = http.Header{"Accept-Patch": {"application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch"}}
		return e
	}
	v, err := c.body()
	if err != nil {
		return err
	}
	raw, ok := v.([]any)
	if !ok {
		return httpapi.BadRequest("Request body must be a JSON array of operation objects.")
	}
	var changes []change
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return httpapi.BadRequest("Operations must be JSON objects.")
		}
		ch := change{draft: draft}
		var pointer any
		if draft == 10 {
			op, has := m["op"]
			if !has {
				return httpapi.BadRequest("Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.")
			}
			s, _ := op.(string)
			if !slices.Contains([]string{"add", "remove", "replace"}, s) {
				return httpapi.BadRequest("Invalid operation: `%v`. It must be one of the following: add, remove, replace.", op)
			}
			ch.op = s
			if pointer, has = m["path"]; !has {
				return httpapi.BadRequest("Unable to find 'path' in JSON Schema change")
			}
		} else {
			for _, k := range []string{"add", "remove", "replace"} {
				if _, has := m[k]; has {
					if ch.op != "" {
						return httpapi.BadRequest(`Operation objects must contain only one member named "add", "remove", or "replace".`)
					}
					ch.op = k
				}
			}
			if ch.op == "" {
				return httpapi.BadRequest(`Operation objects must contain exactly one member named "add", "remove", or "replace".`)
			}
			pointer = m[ch.op]
		}
		p, ok := pointer.(string)
		if !ok {
			return httpapi.BadRequest("Pointer `%s` does not start with \"/\".", pyRepr(pointer))
		}
		if ch.path, err = decodePointer(p); err != nil {
			return err
		}
		if len(ch.path) != 1 {
			return httpapi.BadRequest("Invalid JSON pointer for this resource: '/%s'", strings.Join(ch.path, "/"))
		}
		if ch.op != "remove" {
			val, has := m["value"]
			if !has {
				return httpapi.BadRequest(`Operation "%s" requires a member named "value".`, ch.op)
			}
			ch.value = val
		}
		root := ch.path[0]
		if slices.Contains(readonlyProps, root) {
			return httpapi.Forbidden("Attribute '%s' is read-only.", root)
		}
		if slices.Contains(reservedProps, root) || strings.HasPrefix(root, reservedNamespace) {
			return httpapi.Forbidden("Attribute '%s' is reserved.", root)
		}
		if ch.op != "remove" {
			if err := checkProperty(root, ch.value); err != nil {
				return err
			}
		}
		changes = append(changes, ch)
	}
	c.input = changes
	return nil
}

// decodePointer parses the limited JSON pointers Glance accepts.
func decodePointer(p string) ([]string, error) {
	switch {
	case !strings.HasPrefix(p, "/"):
		return nil, httpapi.BadRequest("Pointer `%s` does not start with \"/\".", p)
	case adjacentSlash.MatchString(p[1:]):
		return nil, httpapi.BadRequest("Pointer `%s` contains adjacent \"/\".", p)
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		return nil, httpapi.BadRequest("Pointer `%s` end with \"/\".", p)
	case strings.TrimSpace(p[1:]) == "/":
		return nil, httpapi.BadRequest("Pointer `%s` does not contains valid token.", p)
	case badTilde.MatchString(p) || strings.HasSuffix(p, "~"):
		return nil, httpapi.BadRequest("Pointer `%s` contains \"~\" not part of a recognized escape sequence.", p)
	}
	var out []string
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		out = append(out, strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")))
	}
	return out, nil
}

// updateImage applies the changes in order, as Glance's controller: each
// change needs modify_image (and publicize/communitize for visibility) and
// ownership; core attributes cannot be removed; a custom property must
// exist to be replaced or removed (409).
func updateImage(c *call) error {
	changes := c.input.([]change)
	im := c.image
	before := im.clone()
	for _, ch := range changes {
		root := ch.path[0]
		if root == "locations" {
			return httpapi.Forbidden("It's not allowed to update locations if locations are invisible.")
		}
		// Only an admin may move an image to another project, whatever the
		// op: draft-10 "add" on a core attribute replaces it too.
		if root == "owner" && ch.op != "remove" && !c.admin {
			return httpapi.Forbidden("Owner can't be updated by non admin.")
		}
		if root == "visibility" && ch.op != "remove" {
			if err := c.enforceVisibility(ch.value.(string), policyTarget(im, c.project())); err != nil {
				return err
			}
		}
		if err := c.enforce("modify_image"); err != nil {
			return err
		}
		if err := c.checkMutable(); err != nil {
			return err
		}
		base := slices.Contains(baseProps, root)
		_, custom := im.Properties[root]
		switch ch.op {
		case "replace":
			switch {
			case base:
				if err := setBase(im, root, ch.value); err != nil {
					return err
				}
			case custom:
				im.Properties[root] = ch.value.(string)
			default:
				return httpapi.Conflict("Property %s does not exist.", root)
			}
		case "add":
			if ch.draft == 4 && (base || custom) {
				return httpapi.Conflict("Property %s already present.", root)
			}
			if base {
				if err := setBase(im, root, ch.value); err != nil {
					return err
				}
			} else {
				im.Properties[root] = ch.value.(string)
			}
		case "remove":
			switch {
			case base:
				return httpapi.Forbidden("Property %s may not be removed.", root)
			case custom:
				delete(im.Properties, root)
			default:
				return httpapi.Conflict("Property %s does not exist.", root)
			}
		}
	}
	if len(changes) > 0 {
		if err := checkLimits(im); err != nil {
			return err
		}
		im.UpdatedAt = c.s.now()
		err := c.s.store.SaveMetadata(c.ctx, before, im)
		var le *limitError
		if errors.As(err, &le) {
			return limitExceeded(le)
		}
		if err != nil {
			if errors.Is(err, errStale) {
				return httpapi.Conflict("Image %s changed status during the update; retry.", im.ID)
			}
			if errors.Is(err, errNotFound) {
				return httpapi.NotFound("No image found with ID %s", im.ID)
			}
			return err
		}
	}
	return c.json(http.StatusOK, c.s.view(im))
}
