package image

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"kumo/internal/platform/db"
	"kumo/internal/platform/httpapi"
)

var imageRoutes = []route{
	{pattern: "POST /v2/images", action: "", parse: parseCreate, handle: createImage},       // add_image, publicize/communitize_image: in createImage
	{pattern: "GET /v2/images", action: "get_images", parse: parseList, handle: listImages}, // each image also passes get_image
	{pattern: "GET /v2/images/{image_id}", action: "get_image", target: loadImage, handle: showImage},
	{pattern: "PATCH /v2/images/{image_id}", action: "", parse: parsePatch, target: loadImage, handle: updateImage}, // modify_image (+ publicize_image) per change
	{pattern: "DELETE /v2/images/{image_id}", action: "delete_image", target: loadImage, handle: deleteImage},
	{pattern: "POST /v2/images/{image_id}/actions/deactivate", action: "deactivate", target: loadImage, handle: deactivateImage},
	{pattern: "POST /v2/images/{image_id}/actions/reactivate", action: "reactivate", target: loadImage, handle: reactivateImage},
}

// newUUID returns a random (version 4) UUID, Glance's image id format.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// parseCreate is Glance's create deserializer: read-only attributes are
// 403, the body must match the image schema, custom names must not be
// reserved.
func parseCreate(c *call) error {
	v, err := c.body()
	if err != nil {
		return err
	}
	body, ok := v.(map[string]any)
	if !ok {
		return schemaError("%s is not of type 'object'", pyRepr(v))
	}
	for _, k := range disallowedProps {
		if _, ok := body[k]; ok {
			return httpapi.Forbidden("Attribute '%s' is read-only.", k)
		}
	}
	for k, val := range body {
		if err := checkProperty(k, val); err != nil {
			return err
		}
	}
	for k := range body {
		if !slices.Contains(baseProps, k) {
			if err := checkCustomKey(k); err != nil {
				return err
			}
		}
	}
	c.input = body
	return nil
}

func createImage(c *call) error {
	body := c.input.(map[string]any)
	// The owner defaults to the caller's project; null means no owner.
	owner := c.project()
	if o, ok := body["owner"]; ok {
		owner, _ = o.(string)
	}
	visibility := "shared"
	if v, ok := body["visibility"].(string); ok {
		visibility = v
	}
	target := map[string]any{"project_id": nilIfEmpty(owner), "owner": nilIfEmpty(owner), "visibility": visibility}
	if !c.s.policy.Enforce("add_image", c.creds(), target) {
		if owner != c.project() {
			return httpapi.Forbidden("You are not permitted to create images owned by '%s'", owner)
		}
		return httpapi.Forbidden("You are not authorized to complete add_image action.")
	}
	if err := c.enforceVisibility(visibility, target); err != nil {
		return err
	}
	if !c.admin && owner != c.project() {
		return httpapi.Forbidden("You are not permitted to create images owned by '%s'.", owner)
	}
	if err := c.checkImageCount(); err != nil { // quota.go
		return err
	}
	for _, k := range readonlyOnCreate {
		if _, ok := body[k]; ok {
			return httpapi.Forbidden("Attribute '%s' is read-only.", k)
		}
	}
	if _, ok := body["locations"]; ok {
		return httpapi.BadRequest("new_image() got unexpected keywords dict_keys(['locations'])")
	}
	now := c.s.now()
	im := &Image{ID: newUUID(), Status: statusQueued, Visibility: "shared", CreatedAt: now, UpdatedAt: now,
		Properties: map[string]string{}, Tags: []string{}}
	if owner != "" {
		im.Owner = &owner
	}
	if id, ok := body["id"].(string); ok {
		im.ID = id
	}
	for k, v := range body {
		switch {
		case k == "id" || k == "owner":
		case slices.Contains(baseProps, k):
			if err := setBase(im, k, v); err != nil {
				return err
			}
		default:
			im.Properties[k] = v.(string)
		}
	}
	if err := checkLimits(im); err != nil {
		return err
	}
	if err := c.s.store.CreateImage(c.ctx, im); err != nil {
		if db.IsUniqueViolation(err) {
			return httpapi.Conflict("Image with identifier %s already exists!", im.ID)
		}
		return err
	}
	c.w.Header().Set("Location", c.base()+"/v2/images/"+im.ID)
	// Clients (openstack image create --import) read the import methods
	// from this header, as Glance sends it.
	c.w.Header().Set("OpenStack-image-import-methods", strings.Join(c.s.importMethods(), ","))
	if c.s.stores.multi {
		c.w.Header().Set("OpenStack-image-store-ids", strings.Join(c.s.stores.ids(), ","))
	}
	return c.json(http.StatusCreated, c.s.view(im))
}

// enforceVisibility is Glance's _enforce_image_visibility: making an image
// public or community needs its own rule.
func (c *call) enforceVisibility(visibility string, target map[string]any) error {
	rule := map[string]string{"public": "publicize_image", "community": "communitize_image"}[visibility]
	if rule != "" && !c.s.policy.Enforce(rule, c.creds(), target) {
		return httpapi.Forbidden("You are not authorized to complete %s action.", rule)
	}
	return nil
}

// setBase sets a core attribute from a schema-valid JSON value, with the
// domain rules of Glance's Image.
func setBase(im *Image, key string, v any) error {
	str := func() *string {
		if v == nil {
			return nil
		}
		s := v.(string)
		return &s
	}
	switch key {
	case "name":
		im.Name = str()
	case "visibility":
		im.Visibility = v.(string)
	case "protected":
		im.Protected = v.(bool)
	case "os_hidden":
		im.OSHidden = v.(bool)
	case "owner":
		im.Owner = str()
	case "container_format", "disk_format":
		// Formats are frozen once data exists or is being imported: the
		// content was (or is being) inspected against them.
		if im.Status != statusQueued {
			return httpapi.Forbidden("Attribute %s can be only replaced for a queued image.", key)
		}
		if key == "disk_format" {
			im.DiskFormat = str()
		} else {
			im.ContainerFormat = str()
		}
	case "min_ram", "min_disk":
		n, _ := wantInt(v, false)
		if n < 0 {
			return httpapi.BadRequest("Invalid value '%d' for parameter '%s': Cannot be a negative value.", n, key)
		}
		if key == "min_ram" {
			im.MinRAM = n
		} else {
			im.MinDisk = n
		}
	case "tags":
		tags := []string{}
		for _, t := range v.([]any) {
			if s := t.(string); !slices.Contains(tags, s) {
				tags = append(tags, s)
			}
		}
		slices.Sort(tags)
		im.Tags = tags
	default:
		return httpapi.Forbidden("Attribute '%s' is read-only.", key)
	}
	return nil
}

func showImage(c *call) error { return c.json(http.StatusOK, c.s.view(c.image)) }

// Glance's [DEFAULT] limit_param_default and api_limit_max.
const (
	defaultLimit = 25
	maxLimit     = 1000
)

var sortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

// imageColumns are the attributes Glance filters as columns; any other
// query parameter filters on a custom property.
var imageColumns = []string{"id", "name", "disk_format", "container_format", "size", "virtual_size", "status",
	"visibility", "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "owner", "protected", "os_hidden",
	"created_at", "updated_at"}

// parseList turns the query into a listQuery as Glance's index
// deserializer and image_get_all do.
func parseList(c *call) error {
	params := c.r.URL.Query()
	q := listQuery{MemberStatus: "accepted", Limit: defaultLimit}
	take := func(k string) (string, bool) {
		vs, ok := params[k]
		delete(params, k)
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}
	if v, ok := take("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return httpapi.BadRequest("limit param must be an integer")
		}
		if n < 0 {
			return httpapi.BadRequest("limit param must be positive")
		}
		q.Limit = min(n, maxLimit)
	}
	marker, hasMarker := take("marker")
	if v, ok := take("member_status"); ok {
		if !slices.Contains([]string{"pending", "accepted", "rejected", "all"}, v) {
			return httpapi.BadRequest("Invalid status: %s", v)
		}
		q.MemberStatus = v
	}
	for _, t := range params["tag"] {
		q.Filters.add("EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.value = ?)", strings.TrimSpace(t))
	}
	delete(params, "tag")
	if v, ok := take("visibility"); ok && v != "" {
		if !slices.Contains([]string{"community", "public", "private", "shared", "all"}, v) {
			return httpapi.BadRequest("Invalid visibility value: %s", v)
		}
		q.Visibility = v
	}
	if _, ok := params["changes-since"]; ok {
		return httpapi.BadRequest(`The "changes-since" filter is no longer available on v2.`)
	}
	var err error
	if q.SortKeys, q.SortDirs, err = sorting(params); err != nil {
		return err
	}
	hidden := "false"
	if v, ok := take("os_hidden"); ok {
		hidden = strings.ToLower(v)
	}
	if hidden != "true" && hidden != "false" {
		return httpapi.BadRequest("Invalid value '%s' for 'os_hidden' filter. Valid values are 'true' or 'false'.", hidden)
	}
	q.Filters.add("os_hidden = ?", boolInt(hidden == "true"))
	if v, ok := take("protected"); ok {
		if v != "true" && v != "false" {
			return httpapi.BadRequest("Invalid value '%s' for 'protected' filter. Valid values are 'true' or 'false'.", v)
		}
		q.Filters.add("protected = ?", boolInt(v == "true"))
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := addFilter(&q.Filters, k, params.Get(k)); err != nil {
			return err
		}
	}
	q.Admin, q.Project = c.admin, c.project()
	if hasMarker {
		m, err := c.s.store.GetImage(c.ctx, marker)
		if err == nil {
			var ok bool
			if ok, err = c.s.visible(c.ctx, m, c.admin, c.project()); err == nil && !ok {
				err = errNotFound
			}
		}
		if errors.Is(err, errNotFound) {
			return httpapi.BadRequest("No image found with ID %s", marker)
		}
		if err != nil {
			return err
		}
		q.Marker = m
	}
	c.input = q
	return nil
}

// sorting reads sort=key:dir,... or the legacy sort_key/sort_dir, and adds
// created_at and id as Glance does so that pages are stable.
func sorting(params url.Values) ([]string, []string, error) {
	var keys, dirs []string
	checkKey := func(k string) error {
		if !slices.Contains(sortKeys, k) {
			return httpapi.BadRequest("Invalid sort key: %s. It must be one of the following: %s.", k, strings.Join(sortKeys, ", "))
		}
		return nil
	}
	checkDir := func(d string) error {
		if d != "asc" && d != "desc" {
			return httpapi.BadRequest("Invalid sort direction: %s", d)
		}
		return nil
	}
	if _, ok := params["sort"]; ok {
		if _, old := params["sort_key"]; old {
			return nil, nil, httpapi.BadRequest("Old and new sorting syntax cannot be combined")
		}
		if _, old := params["sort_dir"]; old {
			return nil, nil, httpapi.BadRequest("Old and new sorting syntax cannot be combined")
		}
		for _, part := range strings.Split(strings.TrimSpace(params.Get("sort")), ",") {
			k, d, _ := strings.Cut(part, ":")
			k, d = strings.TrimSpace(k), strings.TrimSpace(d)
			if d == "" {
				d = "desc"
			}
			if err := checkKey(k); err != nil {
				return nil, nil, err
			}
			if err := checkDir(d); err != nil {
				return nil, nil, err
			}
			keys, dirs = append(keys, k), append(dirs, d)
		}
		delete(params, "sort")
	} else {
		for _, k := range params["sort_key"] {
			k = strings.TrimSpace(k)
			if err := checkKey(k); err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		}
		for _, d := range params["sort_dir"] {
			d = strings.TrimSpace(d)
			if err := checkDir(d); err != nil {
				return nil, nil, err
			}
			dirs = append(dirs, d)
		}
		if len(dirs) > 1 && len(dirs) != len(keys) {
			return nil, nil, httpapi.BadRequest("Number of sort dirs does not match the number of sort keys")
		}
		delete(params, "sort_key")
		delete(params, "sort_dir")
	}
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	def := "desc"
	switch {
	case len(dirs) == 0:
		dirs = []string{"desc"}
		fallthrough
	case len(dirs) == 1:
		def = dirs[0]
		for len(dirs) < len(keys) {
			dirs = append(dirs, def)
		}
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.Contains(keys, k) {
			keys, dirs = append(keys, k), append(dirs, def)
		}
	}
	return keys, dirs, nil
}

var timeOps = map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}

// addFilter adds one query-parameter filter, as Glance's
// _make_conditions_from_filters.
func addFilter(w *where, k, v string) error {
	switch {
	case strings.HasSuffix(k, "_min") || strings.HasSuffix(k, "_max"):
		col := k[:len(k)-4]
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return httpapi.BadRequest("Unable to filter on a range with a non-numeric value.")
		}
		if !slices.Contains([]string{"size", "virtual_size", "min_disk", "min_ram"}, col) {
			return httpapi.BadRequest("Unable to filter on a range on %s.", col)
		}
		if strings.HasSuffix(k, "_min") {
			w.add(col+" >= ?", n)
		} else {
			w.add(col+" <= ?", n)
		}
	case k == "created_at" || k == "updated_at":
		op, val := splitOp(v)
		t, err := parseISOTime(val)
		if err != nil {
			return httpapi.BadRequest(`Bad "%s" query filter format. Use ISO 8601 DateTime notation.`, k)
		}
		sqlOp, ok := timeOps[op]
		if !ok {
			return httpapi.BadRequest("Unable to filter on a unknown operator.")
		}
		// Glance stores whole seconds; compare at that precision.
		w.add("("+k+" / 1000000) "+sqlOp+" ?", t.Unix())
	case slices.Contains([]string{"name", "id", "status", "container_format", "disk_format"}, k):
		op, val := splitOp(v)
		switch op {
		case "in":
			vals := splitQuoted(val)
			w.add(k+" IN ("+placeholders(len(vals))+")", anyArgs(vals)...)
		case "eq":
			w.add(k+" = ?", val)
		default:
			return httpapi.BadRequest("Unable to filter by unknown operator '%s'.", op)
		}
	case k == "protected" || k == "os_hidden":
		w.add(k+" = ?", boolInt(strings.EqualFold(v, "true")))
	case slices.Contains(imageColumns, k):
		w.add(k+" = ?", v)
	default:
		w.add("EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = images.id AND p.name = ? AND p.value = ?)", k, v)
	}
	return nil
}

// splitOp is Glance's split_filter_op: "op:value", except that a bare
// ISO 8601 time (which contains colons) means eq.
func splitOp(expr string) (string, string) {
	left, right, ok := strings.Cut(expr, ":")
	if !ok {
		return "eq", expr
	}
	if _, err := parseISOTime(expr); err == nil {
		return "eq", expr
	}
	return left, right
}

func parseISOTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// splitQuoted splits "a,b,\"c,d\"" on commas outside double quotes.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, cur.String())
}

func anyArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func listImages(c *call) error {
	q := c.input.(listQuery)
	ims, err := c.s.store.ListImages(c.ctx, q)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(ims))
	for _, im := range ims {
		if c.s.policy.Enforce("get_image", c.creds(), policyTarget(im, c.project())) {
			out = append(out, c.s.view(im))
		}
	}
	params := c.r.URL.Query()
	params.Del("marker")
	body := map[string]any{"images": out, "first": "/v2/images", "schema": "/v2/schemas/images"}
	if len(params) > 0 {
		body["first"] = "/v2/images?" + params.Encode()
	}
	if len(ims) > 0 && len(ims) == q.Limit {
		params.Set("marker", ims[len(ims)-1].ID)
		body["next"] = "/v2/images?" + params.Encode()
	}
	return c.json(http.StatusOK, body)
}

func deleteImage(c *call) error {
	if err := c.checkMutable(); err != nil {
		return err
	}
	if c.image.Protected {
		return httpapi.Forbidden("Image %s is protected and cannot be deleted.", c.image.ID)
	}
	if err := c.s.store.DeleteImage(c.ctx, c.image.ID, c.s.now()); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("Failed to find image %s to delete", c.image.ID)
		}
		return err
	}
	c.s.removeData(c.image.ID)
	if err := os.Remove(c.s.stagingPath(c.image.ID)); err != nil && !os.IsNotExist(err) {
		c.s.log.Warn("image: removing staged data of deleted image", "image", c.image.ID, "err", err)
	}
	return c.noContent()
}

func deactivateImage(c *call) error { return c.setActivation(statusDeactivated) }

func reactivateImage(c *call) error { return c.setActivation(statusActive) }

// setActivation moves an image between active and deactivated.
func (c *call) setActivation(to string) error {
	if err := c.checkMutable(); err != nil {
		return err
	}
	from, verb := statusActive, "deactivate"
	if to == statusActive {
		from, verb = statusDeactivated, "reactivate"
	}
	switch c.image.Status {
	case to:
		return c.noContent()
	case from:
	default:
		return httpapi.Forbidden("Not allowed to %s image in status '%s'", verb, c.image.Status)
	}
	c.image.Status, c.image.UpdatedAt = to, c.s.now()
	if err := c.s.store.SaveData(c.ctx, c.image, from); err != nil {
		if errors.Is(err, errStale) {
			return httpapi.Conflict("Image %s changed status while being %sd.", c.image.ID, verb)
		}
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("No image found with ID %s", c.image.ID)
		}
		return err
	}
	return c.noContent()
}
