package image

import (
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"

	"kumo/internal/platform/httpapi"
)

var tagRoutes = []route{
	{pattern: "PUT /v2/images/{image_id}/tags/{tag_value}", action: "modify_image", target: loadImage, handle: addTag},
	{pattern: "DELETE /v2/images/{image_id}/tags/{tag_value}", action: "modify_image", target: loadImage, handle: deleteTag},
}

func addTag(c *call) error {
	if err := c.checkMutable(); err != nil {
		return httpapi.Forbidden("Not allowed to update tags for image %s.", c.image.ID)
	}
	tag := c.param("tag_value")
	if utf8.RuneCountInString(tag) > 255 {
		return schemaError("'%s' is too long", tag)
	}
	c.s.at("add_tag")
	err := c.s.store.AddTag(c.ctx, c.image.ID, tag, maxImageTags, c.s.now())
	var le *limitError
	switch {
	case errors.As(err, &le):
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "Image tag limit exceeded for image %s: The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d:", c.image.ID, le.attempted, maxImageTags)
	case errors.Is(err, errNotFound):
		return httpapi.NotFound("No image found with ID %s", c.image.ID)
	case err != nil:
		return err
	}
	return c.noContent()
}

func deleteTag(c *call) error {
	if err := c.checkMutable(); err != nil {
		return httpapi.Forbidden("Not allowed to delete tags for image %s.", c.image.ID)
	}
	tag := c.param("tag_value")
	if !slices.Contains(c.image.Tags, tag) {
		return httpapi.NotFound("The resource could not be found.")
	}
	if err := c.s.store.DeleteTag(c.ctx, c.image.ID, tag, c.s.now()); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("The resource could not be found.")
		}
		return err
	}
	return c.noContent()
}
