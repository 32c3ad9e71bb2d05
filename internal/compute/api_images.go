package compute

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"kumo/internal/platform/httpapi"
)

// The image proxy API (/images, deprecated, gone from 2.36), as Nova's
// images.py and image_metadata.py: Nova's view of the image service's
// images, read and changed with the caller's own token.
func init() {
	const imgMax = 35
	register(
		route{method: "GET", path: "/images", max: V(2, imgMax), handle: listImages(false)},
		route{method: "GET", path: "/images/detail", max: V(2, imgMax), handle: listImages(true)},
		route{method: "GET", path: "/images/{image_id}", max: V(2, imgMax), handle: showImage},
		route{method: "DELETE", path: "/images/{image_id}", max: V(2, imgMax), handle: deleteImage},
		route{method: "GET", path: "/images/{image_id}/metadata", max: V(2, imgMax), handle: listImageMeta},
		route{method: "POST", path: "/images/{image_id}/metadata", max: V(2, imgMax), body: imageMetaSchema("metadata", false), handle: setImageMeta(false)},
		route{method: "PUT", path: "/images/{image_id}/metadata", max: V(2, imgMax), body: imageMetaSchema("metadata", false), handle: setImageMeta(true)},
		route{method: "GET", path: "/images/{image_id}/metadata/{key}", max: V(2, imgMax), handle: showImageMetaItem},
		route{method: "PUT", path: "/images/{image_id}/metadata/{key}", max: V(2, imgMax), body: imageMetaSchema("meta", true), handle: setImageMetaItem},
		route{method: "DELETE", path: "/images/{image_id}/metadata/{key}", max: V(2, imgMax), handle: deleteImageMetaItem},
	)
}

// imageMetaSchema is Nova's image_metadata create/update(_all) schema.
func imageMetaSchema(key string, one bool) func(Microversion) *Schema {
	return func(Microversion) *Schema {
		meta := &Schema{Type: Types("object"), NoAdditional: true, PatternProperties: []PatternProp{
			{Pattern: "^[a-zA-Z0-9-_:. ]{1,255}$", Schema: &Schema{Type: Types("string"), MaxLength: 255}}}}
		if one {
			meta.MinProperties, meta.MaxProperties = 1, 1
		}
		return &Schema{Type: Types("object"), NoAdditional: true, Required: []string{key}, Properties: []Prop{{key, meta}}}
	}
}

func (s *Service) glance() *glanceProxy {
	s.glanceOnce.Do(func() { s.glanceP = &glanceProxy{s: s} })
	return s.glanceP
}

// imageErr maps the image service's answers to Nova's.
func imageErr(err error) error {
	var ge *glanceError
	switch {
	case errors.As(err, &ge) && ge.status == http.StatusNotFound:
		return httpapi.NotFound("Image not found.")
	case errors.As(err, &ge) && ge.status == http.StatusForbidden:
		return httpapi.Forbidden("%s", ge.msg)
	case errors.As(err, &ge) && ge.status == http.StatusBadRequest:
		return httpapi.BadRequest("%s", ge.msg)
	case errors.Is(err, errNoImageService):
		return httpapi.Errorf(http.StatusServiceUnavailable, "The image service is not available.")
	}
	return err
}

// imageProps are an image's properties (Nova's metadata), as strings.
func imageProps(img map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range img {
		if glanceCore[k] {
			continue
		}
		if s, ok := v.(string); ok {
			out[k] = s
		} else if v != nil {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

var imageStatus = map[string]string{"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "importing": "SAVING",
	"uploading": "SAVING", "deleted": "DELETED", "pending_delete": "DELETED", "killed": "ERROR"}
var imageProgress = map[string]int{"queued": 25, "saving": 50, "uploading": 50, "importing": 50, "active": 100}

func glanceTime(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func intOfAny(v any) int64 {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	return 0
}

// imageView is Nova's images view builder: basic or detailed.
func (c *call) imageView(img map[string]any, detail bool) map[string]any {
	id, _ := img["id"].(string)
	links := append([]map[string]string{}, c.links("images", id)...)
	if base := c.s.glance().base; base != "" {
		links = append(links, map[string]string{"rel": "alternate", "type": "application/vnd.openstack.image", "href": base + "/images/" + id})
	}
	m := map[string]any{"id": id, "name": img["name"], "links": links}
	if !detail {
		return m
	}
	st, _ := img["status"].(string)
	status, ok := imageStatus[st]
	if !ok {
		status = "UNKNOWN"
	}
	props := imageProps(img)
	m["status"], m["progress"] = status, imageProgress[st]
	m["minRam"], m["minDisk"] = intOfAny(img["min_ram"]), intOfAny(img["min_disk"])
	m["created"], m["updated"] = glanceTime(img["created_at"]), glanceTime(img["updated_at"])
	m["metadata"] = props
	m["OS-EXT-IMG-SIZE:size"] = nil
	if sz, ok := img["size"].(float64); ok {
		m["OS-EXT-IMG-SIZE:size"] = int64(sz)
	}
	if u, ok := props["instance_uuid"].(string); ok && u != "" {
		m["server"] = map[string]any{"id": u, "links": c.links("servers", u)}
	}
	return m
}

// imageMatches applies Nova's image list filters.
func imageMatches(img map[string]any, q map[string][]string) bool {
	props := imageProps(img)
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok {
			return "", false
		}
		return last(v), true
	}
	if v, ok := get("name"); ok && img["name"] != v {
		return false
	}
	if v, ok := get("status"); ok && img["status"] != strings.ToLower(v) {
		return false
	}
	if v, ok := get("server"); ok {
		if i := strings.LastIndex(v, "/"); i >= 0 {
			v = v[i+1:]
		}
		if props["instance_uuid"] != v {
			return false
		}
	}
	if v, ok := get("type"); ok && props["image_type"] != v {
		return false
	}
	for param, attr := range map[string]string{"minRam": "min_ram", "minDisk": "min_disk"} {
		if v, ok := get(param); ok && fmt.Sprint(intOfAny(img[attr])) != v && !geq(intOfAny(img[attr]), v) {
			return false
		}
	}
	if v, ok := get("changes-since"); ok {
		since, err := time.Parse(time.RFC3339, v)
		upd, err2 := time.Parse(time.RFC3339, fmt.Sprint(img["updated_at"]))
		if err == nil && err2 == nil && upd.Before(since) {
			return false
		}
	}
	for k, vs := range q {
		if p, ok := strings.CutPrefix(k, "property-"); ok && props[p] != last(vs) {
			return false
		}
	}
	return true
}

// geq reports n >= v (Nova passes minRam/minDisk to Glance as minimums).
func geq(n int64, v string) bool {
	var want int64
	if _, err := fmt.Sscan(v, &want); err != nil {
		return false
	}
	return n >= want
}

func listImages(detail bool) func(c *call) error {
	return func(c *call) error {
		q := c.r.URL.Query()
		limit, marker, err := pagination(q)
		if err != nil {
			return err
		}
		all, err := c.s.glance().images(c)
		if err != nil {
			return imageErr(err)
		}
		// Nova's default order from Glance: newest first.
		sort.SliceStable(all, func(i, j int) bool {
			return fmt.Sprint(all[i]["created_at"]) > fmt.Sprint(all[j]["created_at"])
		})
		var sel []map[string]any
		for _, img := range all {
			if imageMatches(img, q) {
				sel = append(sel, img)
			}
		}
		if marker != nil {
			i := 0
			for i < len(sel) && sel[i]["id"] != *marker {
				i++
			}
			if i == len(sel) {
				return httpapi.BadRequest("marker [%s] not found", *marker)
			}
			sel = sel[i+1:]
		}
		out := []map[string]any{}
		for _, img := range sel {
			if len(out) == limit {
				break
			}
			out = append(out, c.imageView(img, detail))
		}
		body := map[string]any{"images": out}
		if len(out) == limit && len(sel) > limit && limit > 0 {
			coll := "images"
			if detail {
				coll = "images/detail"
			}
			body["images_links"] = c.nextLink(coll, out[len(out)-1]["id"].(string))
		}
		return c.json(http.StatusOK, body)
	}
}

// loadImage fetches the {image_id} image or answers Nova's 404.
func (c *call) loadImage() (map[string]any, error) {
	img, err := c.s.glance().image(c, c.param("image_id"))
	if err != nil {
		return nil, imageErr(err)
	}
	if img == nil {
		return nil, httpapi.NotFound("Image not found.")
	}
	return img, nil
}

func showImage(c *call) error {
	img, err := c.loadImage()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"image": c.imageView(img, true)})
}

func deleteImage(c *call) error {
	if err := c.s.glance().do(c, "DELETE", "/v2/images/"+c.param("image_id"), "", nil, nil); err != nil {
		return imageErr(err)
	}
	return c.empty(http.StatusNoContent)
}

func listImageMeta(c *call) error {
	img, err := c.loadImage()
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"metadata": imageProps(img)})
}

// patchProps changes the image's properties to want (nil value: remove),
// after the metadata quota check on the resulting count.
func (c *call) patchProps(img map[string]any, want map[string]any) (map[string]any, error) {
	cur := imageProps(img)
	n := len(cur)
	var ops []map[string]any
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := want[k]
		_, has := cur[k]
		switch {
		case v == nil && has:
			ops = append(ops, map[string]any{"op": "remove", "path": "/" + k})
			n--
		case v != nil && has:
			ops = append(ops, map[string]any{"op": "replace", "path": "/" + k, "value": v})
		case v != nil:
			ops = append(ops, map[string]any{"op": "add", "path": "/" + k, "value": v})
			n++
		}
	}
	if err := c.s.checkMetadataQuota(c.ctx, c.project(), n); err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return img, nil
	}
	out, err := c.s.glance().patch(c, img["id"].(string), ops)
	if err != nil {
		return nil, imageErr(err)
	}
	return out, nil
}

func setImageMeta(replace bool) func(c *call) error {
	return func(c *call) error {
		img, err := c.loadImage()
		if err != nil {
			return err
		}
		in := c.obj("metadata")
		want := map[string]any{}
		if replace {
			for k := range imageProps(img) {
				want[k] = nil
			}
		}
		for k, v := range in {
			want[k] = v
		}
		out, err := c.patchProps(img, want)
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, map[string]any{"metadata": imageProps(out)})
	}
}

func showImageMetaItem(c *call) error {
	img, err := c.loadImage()
	if err != nil {
		return err
	}
	key := c.param("key")
	v, ok := imageProps(img)[key]
	if !ok {
		return httpapi.NotFound("Image %s has no metadata with key %s.", c.param("image_id"), key)
	}
	return c.json(http.StatusOK, map[string]any{"meta": map[string]any{key: v}})
}

func setImageMetaItem(c *call) error {
	key := c.param("key")
	in := c.obj("meta")
	if _, ok := in[key]; !ok {
		return httpapi.BadRequest("Request body and URI mismatch")
	}
	img, err := c.loadImage()
	if err != nil {
		return err
	}
	out, err := c.patchProps(img, map[string]any{key: in[key]})
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"meta": map[string]any{key: imageProps(out)[key]}})
}

func deleteImageMetaItem(c *call) error {
	img, err := c.loadImage()
	if err != nil {
		return err
	}
	key := c.param("key")
	if _, ok := imageProps(img)[key]; !ok {
		return httpapi.NotFound("Image %s has no metadata with key %s.", c.param("image_id"), key)
	}
	if _, err := c.patchProps(img, map[string]any{key: nil}); err != nil {
		return err
	}
	return c.empty(http.StatusNoContent)
}
