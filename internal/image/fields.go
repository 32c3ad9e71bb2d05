package image

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kumo/internal/platform/httpapi"
)

// Request documents are checked against Glance's image schema property by
// property, with jsonschema's wording, because clients show the message.

var uuidPattern = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)

// Properties Glance treats specially (glance/api/v2/images.py).
var (
	disallowedProps = []string{"direct_url", "self", "file", "schema", "stores"}
	readonlyProps   = []string{"created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url",
		"self", "file", "schema", "id", "os_hash_algo", "os_hash_value"}
	// readonlyOnCreate are refused by Glance's image factory on create.
	readonlyOnCreate = []string{"created_at", "updated_at", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size"}
	reservedProps    = []string{"location", "deleted", "deleted_at"}
	baseProps        = []string{"checksum", "created_at", "container_format", "disk_format", "id", "min_disk", "min_ram",
		"name", "size", "virtual_size", "status", "tags", "owner", "updated_at", "visibility", "protected", "os_hidden"}
)

const reservedNamespace = "os_glance"

func schemaError(format string, args ...any) error {
	return httpapi.BadRequest("Provided object does not match schema 'image': %s", fmt.Sprintf(format, args...))
}

// pyRepr shows a JSON value as Python's jsonschema messages do.
func pyRepr(v any) string {
	switch t := v.(type) {
	case string:
		return "'" + t + "'"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case json.Number:
		return t.String()
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

func enumRepr(vals []string, withNull bool) string {
	var parts []string
	if withNull {
		parts = append(parts, "None")
	}
	for _, v := range vals {
		parts = append(parts, "'"+v+"'")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func wantString(v any, nullable bool, maxLen int) error {
	if v == nil && nullable {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return schemaError("%s is not of type 'string'", pyRepr(v))
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return schemaError("%s is too long", pyRepr(v))
	}
	return nil
}

func wantEnum(v any, vals []string, nullable bool) error {
	if v == nil && nullable {
		return nil
	}
	s, ok := v.(string)
	if !ok || !slices.Contains(vals, s) {
		if !ok && v != nil {
			return schemaError("%s is not of type 'string'", pyRepr(v))
		}
		return schemaError("%s is not one of %s", pyRepr(v), enumRepr(vals, nullable))
	}
	return nil
}

func wantInt(v any, nullable bool) (int64, error) {
	if v == nil && nullable {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, schemaError("%s is not of type 'integer'", pyRepr(v))
	}
	i, err := n.Int64()
	if err != nil {
		return 0, schemaError("%s is not of type 'integer'", pyRepr(v))
	}
	return i, nil
}

// checkProperty validates one image property against Glance's schema
// (base properties, the custom properties of Glance's schema-image.json,
// and any other property, which must be a string).
func checkProperty(key string, v any) error {
	switch key {
	case "id":
		if err := wantString(v, false, 0); err != nil {
			return err
		}
		if !uuidPattern.MatchString(v.(string)) {
			return schemaError("%s does not match %s", pyRepr(v), pyRepr(uuidPattern.String()))
		}
	case "name", "owner":
		return wantString(v, true, 255)
	case "status":
		return wantEnum(v, imageStatuses, false)
	case "visibility":
		return wantEnum(v, visibilities, false)
	case "protected", "os_hidden":
		if _, ok := v.(bool); !ok {
			return schemaError("%s is not of type 'boolean'", pyRepr(v))
		}
	case "checksum":
		return wantString(v, true, 32)
	case "os_hash_algo":
		return wantString(v, true, 64)
	case "os_hash_value":
		return wantString(v, true, 128)
	case "size", "virtual_size":
		_, err := wantInt(v, true)
		return err
	case "min_ram", "min_disk":
		_, err := wantInt(v, false)
		return err
	case "container_format":
		return wantEnum(v, containerFormats, true)
	case "disk_format":
		return wantEnum(v, diskFormats, true)
	case "created_at", "updated_at", "direct_url", "self", "file", "schema", "stores":
		return wantString(v, false, 0)
	case "tags":
		arr, ok := v.([]any)
		if !ok {
			return schemaError("%s is not of type 'array'", pyRepr(v))
		}
		for _, t := range arr {
			if err := wantString(t, false, 255); err != nil {
				return err
			}
		}
	case "locations":
		if _, ok := v.([]any); !ok {
			return schemaError("%s is not of type 'array'", pyRepr(v))
		}
	case "kernel_id", "ramdisk_id":
		if err := wantString(v, true, 0); err != nil {
			return err
		}
		if s, ok := v.(string); ok && !uuidPattern.MatchString(s) {
			return schemaError("%s does not match %s", pyRepr(v), pyRepr(uuidPattern.String()))
		}
	case "cinder_encryption_key_deletion_policy":
		return wantEnum(v, []string{"on_image_deletion", "do_not_delete"}, false)
	default:
		return wantString(v, false, 0)
	}
	return nil
}

// checkCustomKey applies Glance's rules on custom property names.
func checkCustomKey(key string) error {
	if utf8.RuneCountInString(key) > 255 {
		return httpapi.BadRequest("Custom property should not be greater than 255 characters.")
	}
	if slices.Contains(reservedProps, key) || strings.HasPrefix(key, reservedNamespace) {
		return httpapi.Forbidden("Attribute '%s' is reserved.", key)
	}
	return nil
}

// isotime renders a time as Glance does (seconds, "Z").
func isotime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// imageJSON renders an image as Glance's image view.
func imageJSON(im *Image) map[string]any {
	out := make(map[string]any, len(im.Properties)+24)
	for k, v := range im.Properties {
		out[k] = v
	}
	tags := im.Tags
	if tags == nil {
		tags = []string{}
	}
	for k, v := range map[string]any{
		"id": im.ID, "name": nullable(im.Name), "disk_format": nullable(im.DiskFormat),
		"container_format": nullable(im.ContainerFormat), "visibility": im.Visibility, "size": nullable(im.Size),
		"virtual_size": nullable(im.VirtualSize), "status": im.Status, "checksum": nullable(im.Checksum),
		"protected": im.Protected, "min_ram": im.MinRAM, "min_disk": im.MinDisk, "owner": nullable(im.Owner),
		"os_hidden": im.OSHidden, "os_hash_algo": nullable(im.OSHashAlgo), "os_hash_value": nullable(im.OSHashValue),
		"created_at": isotime(im.CreatedAt), "updated_at": isotime(im.UpdatedAt), "tags": tags,
		"self": "/v2/images/" + im.ID, "file": "/v2/images/" + im.ID + "/file", "schema": "/v2/schemas/image",
	} {
		out[k] = v
	}
	return out
}

// view is the image view of this service: imageJSON, with "stores" (the
// stores holding the data) when several stores are enabled, as Glance.
func (s *Service) view(im *Image) map[string]any {
	out := imageJSON(im)
	if s.stores.multi && len(im.Stores) > 0 {
		out["stores"] = storesProp(im.Stores)
	}
	return out
}

func memberJSON(m *Member) map[string]any {
	return map[string]any{"member_id": m.MemberID, "image_id": m.ImageID, "status": m.Status,
		"created_at": isotime(m.CreatedAt), "updated_at": isotime(m.UpdatedAt), "schema": "/v2/schemas/member"}
}

// checkLimits enforces Glance's per-image property and tag limits.
func checkLimits(im *Image) error {
	if n := len(im.Properties); n > maxImageProperties {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d", n, maxImageProperties)
	}
	if n := len(im.Tags); n > maxImageTags {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d", n, maxImageTags)
	}
	return nil
}

// limitExceeded is checkLimits' answer for a limit found exceeded by the
// store, inside its write transaction (writes made meanwhile counted).
func limitExceeded(le *limitError) error {
	if le.what == "properties" {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d", le.attempted, maxImageProperties)
	}
	return httpapi.Errorf(http.StatusRequestEntityTooLarge, "The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d", le.attempted, maxImageTags)
}
