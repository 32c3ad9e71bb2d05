package image

import (
	"errors"
	"net/http"
	"slices"

	"kumo/internal/platform/db"
	"kumo/internal/platform/httpapi"
)

// Members follow Glance's image_members controller: only shared images
// have members; only the owner (or an admin) adds and removes them; only
// the member itself (never the owner) sets its status; a project that is
// neither owner nor admin sees only its own membership.
var memberRoutes = []route{
	{pattern: "POST /v2/images/{image_id}/members", action: "add_member", parse: parseMemberCreate, target: loadSharedImage("create"), handle: addMember},
	{pattern: "GET /v2/images/{image_id}/members", action: "get_members", target: loadSharedImage("list"), handle: listMembers},
	{pattern: "GET /v2/images/{image_id}/members/{member_id}", action: "get_member", target: loadSharedImage("show"), handle: showMember},
	{pattern: "PUT /v2/images/{image_id}/members/{member_id}", action: "modify_member", parse: parseMemberUpdate, target: loadSharedImage("update"), handle: updateMember},
	{pattern: "DELETE /v2/images/{image_id}/members/{member_id}", action: "delete_member", target: loadSharedImage("delete"), handle: deleteMember},
}

func parseMemberCreate(c *call) error {
	v, err := c.body()
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return httpapi.BadRequest(`Expected a member in the form: {"member": "image_id"}`)
	}
	id, has := m["member"]
	if !has {
		return httpapi.BadRequest("Member to be added not specified")
	}
	s, ok := id.(string)
	if !ok || s == "" {
		return httpapi.BadRequest("Member can't be empty")
	}
	c.input = s
	return nil
}

func parseMemberUpdate(c *call) error {
	v, err := c.body()
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return httpapi.BadRequest(`Expected a status in the form: {"status": "status"}`)
	}
	st, has := m["status"]
	if !has {
		return httpapi.BadRequest("Status not specified")
	}
	c.input = st
	return nil
}

// loadSharedImage loads the image and applies Glance's
// _check_visibility_and_ownership for the operation.
func loadSharedImage(op string) func(c *call) error {
	return func(c *call) error {
		if err := loadImage(c); err != nil {
			return err
		}
		im := c.image
		var e error
		switch {
		case im.Visibility != "shared":
			e = httpapi.Forbidden("Only shared images have members.")
		case c.admin:
		case op == "create" && (im.Owner == nil || *im.Owner != c.project()):
			e = httpapi.Forbidden("You are not permitted to create image members for the image.")
		case op == "update" && im.owner() == c.project():
			e = httpapi.Forbidden("You are not permitted to modify 'status' on this image member.")
		case op == "delete" && im.owner() != c.project():
			e = httpapi.Forbidden("You cannot delete image member.")
		}
		if e == nil {
			return nil
		}
		switch op {
		case "show":
			return httpapi.NotFound("%s", e.(*httpapi.Error).Message)
		case "create":
			return httpapi.Forbidden("Not allowed to create members for image %s.", im.ID)
		case "update":
			return httpapi.Forbidden("Not allowed to update members for image %s.", im.ID)
		case "delete":
			return httpapi.Forbidden("Not allowed to delete members for image %s.", im.ID)
		}
		return httpapi.Forbidden("Not allowed to list members for image %s: %s", im.ID, e.(*httpapi.Error).Message)
	}
}

// memberScope is the one member a caller may see, "" for all (owner, admin).
func (c *call) memberScope() string {
	if c.admin || c.image.owner() == c.project() {
		return ""
	}
	return c.project()
}

// lookupMember finds a membership the caller may see (404 otherwise).
func (c *call) lookupMember(id string) (*Member, error) {
	notFound := httpapi.NotFound("%s not found in the member list of the image %s.", id, c.image.ID)
	if scope := c.memberScope(); scope != "" && scope != id {
		return nil, notFound
	}
	if !c.allowed("get_member") {
		return nil, httpapi.Forbidden("You are not authorized to lookup the members of the image %s.", c.image.ID)
	}
	m, err := c.s.store.GetMember(c.ctx, c.image.ID, id)
	if errors.Is(err, errNotFound) {
		return nil, notFound
	}
	return m, err
}

func addMember(c *call) error {
	now := c.s.now()
	m := &Member{ImageID: c.image.ID, MemberID: c.input.(string), Status: "pending", CreatedAt: now, UpdatedAt: now}
	c.s.at("add_member")
	err := c.s.store.AddMember(c.ctx, m, maxImageMembers)
	var le *limitError
	switch {
	case errors.As(err, &le):
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "Image member limit exceeded for image %s: The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d:", c.image.ID, le.attempted, maxImageMembers)
	case errors.Is(err, errNotFound):
		return httpapi.NotFound("No image found with ID %s", c.image.ID)
	case db.IsUniqueViolation(err):
		return httpapi.Conflict("Member %s is duplicated for image %s", m.MemberID, m.ImageID)
	case err != nil:
		return err
	}
	return c.json(http.StatusOK, memberJSON(m))
}

func listMembers(c *call) error {
	ms, err := c.s.store.ListMembers(c.ctx, c.image.ID, c.memberScope())
	if err != nil {
		return err
	}
	out := []any{}
	if c.allowed("get_member") {
		for _, m := range ms {
			out = append(out, memberJSON(m))
		}
	}
	return c.json(http.StatusOK, map[string]any{"members": out, "schema": "/v2/schemas/members"})
}

func showMember(c *call) error {
	m, err := c.lookupMember(c.param("member_id"))
	if err != nil {
		if e, ok := httpapi.AsError(err); ok && e.Status == http.StatusForbidden {
			return httpapi.NotFound("%s", e.Message)
		}
		return err
	}
	return c.json(http.StatusOK, memberJSON(m))
}

func updateMember(c *call) error {
	m, err := c.lookupMember(c.param("member_id"))
	if err != nil {
		return err
	}
	st, _ := c.input.(string)
	if !slices.Contains(memberStatuses, st) {
		return httpapi.BadRequest(`Incorrect request: Status must be "pending", "accepted" or "rejected".`)
	}
	m.Status, m.UpdatedAt = st, c.s.now()
	if err := c.s.store.UpdateMemberStatus(c.ctx, m.ImageID, m.MemberID, st, m.UpdatedAt); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("%s not found in the member list of the image %s.", m.MemberID, m.ImageID)
		}
		return err
	}
	return c.json(http.StatusOK, memberJSON(m))
}

func deleteMember(c *call) error {
	m, err := c.lookupMember(c.param("member_id"))
	if err != nil {
		return err
	}
	if err := c.s.store.DeleteMember(c.ctx, m.ImageID, m.MemberID); err != nil {
		if errors.Is(err, errNotFound) {
			return httpapi.NotFound("The specified member %s could not be found", m.MemberID)
		}
		return err
	}
	return c.noContent()
}
