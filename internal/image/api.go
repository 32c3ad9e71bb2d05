package image

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kumo/internal/platform/authn"
	"kumo/internal/platform/httpapi"
	"kumo/internal/platform/policy"
)

// route is one door of the image API: the pattern, the policy rule that
// guards it, and the handler.
//
// Glance checks requests in a fixed order, and the fields follow it: parse
// (the request deserializer: media types, body shape — errors come before
// any lookup), target (loads the image; an image the caller may not see is
// a 404), then the rule, then handle. A failed rule on an image the caller
// may see is 403; on one it may not, 404 (Glance's ImageAPIPolicy). Rules
// that depend on the request body (publicize_image on PATCH, the owner
// checks of members) are applied by the handler next to the code they
// guard.
type route struct {
	pattern string
	action  string // policy rule; "" means a token is enough
	public  bool   // no token needed (version discovery)
	parse   func(c *call) error
	target  func(c *call) error
	handle  func(c *call) error
}

// routes lists every door; each file declares its group (api_images.go,
// api_data.go, api_members.go, api_tags.go, api_discovery.go,
// api_import.go, api_metadefs.go).
//
// Interoperable import offers glance-direct, and copy-image when stores
// are configured (api_import.go, import_request.go, import_run.go):
// stage, import as a background task, /v2/images/{id}/tasks, GET
// /v2/tasks[/id]. Multiple filesystem stores (api_stores.go, stores.go),
// as Glance's enabled_backends: /v2/info/stores[/detail], uploads to a
// chosen store, DELETE /v2/stores/{store_id}/{image_id}.
//
// Not implemented in this version (they answer as a Glance with the
// feature disabled would, or 404 where such a Glance has no door):
//   - the import method web-download (not enabled): 400 "Unknown import
//     method name", not listed;
//   - POST /v2/tasks (the deprecated task API: 405), the task schemas,
//     the image cache (/v2/cache, API 2.14-2.16), image locations
//     (as show_multiple_locations = False: PATCH of /locations is 403),
//     the object-store backend (data is on local disk only).
func (s *Service) routes() []route {
	var all []route
	for _, g := range [][]route{discoveryRoutes, imageRoutes, dataRoutes, memberRoutes, tagRoutes, schemaRoutes, importRoutes, storeRoutes, metadefRoutes} {
		all = append(all, g...)
	}
	return all
}

// Handler returns the image API with the shared platform behaviour.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.dispatch(rt))
	}
	// Image data can be of any size: the body limit is applied per route
	// (JSON bodies) instead of by the wrapper.
	return httpapi.Wrap(httpapi.MuxErrors(mux, renderError, "The method is not allowed for this resource."), httpapi.Options{Service: "image", Render: renderError, Log: s.log, MaxBodySize: 1 << 62})
}

// renderError writes Glance's fault body. Glance's errors are webob
// exceptions: JSON {"message", "code": "404 Not Found", "title"} when the
// client accepts JSON, text otherwise. A 401 comes from keystonemiddleware
// in Glance, so it has Keystone's body and WWW-Authenticate.
func renderError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	title := http.StatusText(e.Status)
	if e.Status == http.StatusRequestedRangeNotSatisfiable {
		title = "Requested Range Not Satisfiable"
	}
	if e.Status == http.StatusUnauthorized {
		httpapi.WriteJSON(w, e.Status, map[string]any{"error": map[string]any{"code": e.Status, "title": title, "message": e.Message}})
		return
	}
	code := strconv.Itoa(e.Status) + " " + title
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		httpapi.WriteJSON(w, e.Status, map[string]any{"message": e.Message, "code": code, "title": title})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, code+"\n\n"+e.Message+"\n\n   ")
	}
}

// call is one request being served.
type call struct {
	s     *Service
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	tok   *authn.Token
	admin bool       // Glance's context.is_admin (rule context_is_admin)
	image *Image     // the image a target loader found
	ns    *Namespace // the metadef namespace a target loader found
	input any        // what parse decoded
}

func (s *Service) dispatch(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, ctx: r.Context()}
		if err := c.serve(rt); err != nil {
			c.fail(err)
		}
	})
}

func (c *call) serve(rt route) error {
	if !rt.public {
		raw := c.r.Header.Get("X-Auth-Token")
		if raw == "" {
			return c.unauthorized()
		}
		tok, err := c.s.validator.ValidateToken(c.ctx, raw)
		if err != nil {
			if _, ok := httpapi.AsError(err); ok {
				return c.unauthorized()
			}
			return err
		}
		c.tok = tok
		c.admin = c.s.policy.Enforce("context_is_admin", c.creds(), map[string]any{})
	}
	if rt.parse != nil {
		if err := rt.parse(c); err != nil {
			return err
		}
	}
	if rt.target != nil {
		if err := rt.target(c); err != nil {
			return err
		}
	}
	if rt.action != "" {
		if err := c.enforce(rt.action); err != nil {
			return err
		}
	}
	return rt.handle(c)
}

func (c *call) unauthorized() error {
	e := httpapi.Unauthorized("The request you have made requires authentication.")
	e.Header = http.Header{"Www-Authenticate": {`Keystone uri="` + c.s.cfg.IdentityURL + `"`}}
	return e
}

func (c *call) creds() policy.Credentials { return policy.Credentials(c.tok.PolicyCredentials()) }

// project is the caller's project ("" when the token has none).
func (c *call) project() string { return c.tok.ProjectID }

// enforce checks rule against the loaded image (or, with none, against
// the caller's project). As Glance: a refused rule on an image the caller
// cannot even get is a 404, otherwise a 403.
func (c *call) enforce(rule string) error {
	target := c.target()
	if c.s.policy.Enforce(rule, c.creds(), target) {
		return nil
	}
	if c.image != nil && (rule == "get_image" || !c.s.policy.Enforce("get_image", c.creds(), target)) {
		return httpapi.NotFound("No image found with ID %s", c.image.ID)
	}
	if c.ns != nil && (rule == "get_metadef_namespace" || !c.s.policy.Enforce("get_metadef_namespace", c.creds(), target)) {
		return httpapi.NotFound("Metadata definition namespace=%s was not found.", c.ns.Namespace)
	}
	return httpapi.Forbidden("You are not authorized to complete %s action.", rule)
}

// allowed is enforce without an error.
func (c *call) allowed(rule string) bool { return c.s.policy.Enforce(rule, c.creds(), c.target()) }

// target is the policy target: Glance's ImageTarget (the image's
// attributes, project_id for owner, member_id for the caller when the
// image is shared with it, and the custom properties).
func (c *call) target() map[string]any {
	if c.ns != nil {
		return map[string]any{"project_id": nullable(c.ns.Owner), "owner": nullable(c.ns.Owner), "visibility": c.ns.Visibility}
	}
	if c.image == nil {
		return map[string]any{"project_id": nilIfEmpty(c.project())}
	}
	return policyTarget(c.image, c.project())
}

func policyTarget(im *Image, project string) map[string]any {
	t := map[string]any{}
	for k, v := range im.Properties {
		t[k] = v
	}
	var member any
	if im.Visibility == "shared" && project != im.owner() {
		member = nilIfEmpty(project)
	}
	for k, v := range map[string]any{
		"id": im.ID, "name": nullable(im.Name), "status": im.Status, "visibility": im.Visibility,
		"owner": nullable(im.Owner), "project_id": nullable(im.Owner), "member_id": member, "member": member,
		"protected": im.Protected, "os_hidden": im.OSHidden, "disk_format": nullable(im.DiskFormat),
		"container_format": nullable(im.ContainerFormat), "min_disk": im.MinDisk, "min_ram": im.MinRAM,
	} {
		t[k] = v
	}
	return t
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkMutable is Glance's check_is_image_mutable: with the legacy (Zed
// default) policies, only an admin or the owner changes an image.
func (c *call) checkMutable() error {
	if c.admin {
		return nil
	}
	if c.image.Owner == nil || c.project() == "" || *c.image.Owner != c.project() {
		return httpapi.Forbidden("You do not own this image")
	}
	return nil
}

func (c *call) fail(err error) {
	e, ok := httpapi.AsError(err)
	if !ok {
		c.s.log.Error("image request failed", "request_id", httpapi.RequestID(c.ctx), "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		e = httpapi.Errorf(http.StatusInternalServerError, "An unexpected error prevented the server from fulfilling your request.")
	}
	renderError(c.w, c.r, e)
}

// maxJSONBody bounds request documents (image data has no such bound).
const maxJSONBody = 1 << 20

// body decodes the JSON request body; Glance answers 400 "Body expected in
// request." when there is none.
func (c *call) body() (any, error) {
	raw, err := io.ReadAll(io.LimitReader(c.r.Body, maxJSONBody+1))
	if err != nil {
		return nil, httpapi.BadRequest("could not read the request body: %v", err)
	}
	if len(raw) > maxJSONBody {
		return nil, httpapi.Errorf(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, httpapi.BadRequest("Body expected in request.")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, httpapi.BadRequest("Malformed JSON in request body.")
	}
	return v, nil
}

func (c *call) param(name string) string { return c.r.PathValue(name) }

func (c *call) json(status int, v any) error {
	httpapi.WriteJSON(c.w, status, v)
	return nil
}

func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// base is the image endpoint as the client reached it.
func (c *call) base() string {
	if c.s.cfg.PublicURL != "" {
		return strings.TrimSuffix(c.s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

// loadImage is the target loader of every /v2/images/{image_id} route:
// the image if the caller may see it (Glance's is_image_visible), else 404.
func loadImage(c *call) error {
	id := c.param("image_id")
	im, err := c.s.store.GetImage(c.ctx, id)
	if errors.Is(err, errNotFound) {
		return httpapi.NotFound("No image found with ID %s", id)
	}
	if err != nil {
		return err
	}
	visible, err := c.s.visible(c.ctx, im, c.admin, c.project())
	if err != nil {
		return err
	}
	if !visible {
		return httpapi.NotFound("No image found with ID %s", id)
	}
	c.image = im
	return nil
}

// visible is Glance's is_image_visible.
func (s *Service) visible(ctx context.Context, im *Image, admin bool, project string) (bool, error) {
	switch {
	case admin, im.Owner == nil, im.Visibility == "public", im.Visibility == "community":
		return true, nil
	case project == "":
		return false, nil
	case *im.Owner == project:
		return true, nil
	case im.Visibility == "shared":
		_, err := s.store.GetMember(ctx, im.ID, project)
		if errors.Is(err, errNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	return false, nil
}
