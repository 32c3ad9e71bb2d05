package identity

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strings"

	"kumo/internal/platform/authn"
	"kumo/internal/platform/db"
	"kumo/internal/platform/httpapi"
	"kumo/internal/platform/policy"
)

// route is one door of the identity API: the pattern, the policy rule that
// guards it, and the handler. target, when set, loads the resource the rule
// looks at (Keystone's "target.*" attributes); path parameters are always in
// the target too.
type route struct {
	pattern string
	action  string // policy rule; "" means no token is needed (auth, discovery)
	target  func(c *call) (map[string]any, error)
	handle  func(c *call) error
	// actionFor, when set, picks the rule per request (after target), for
	// the few doors where Keystone enforces a different rule depending on
	// the request (domain config reads, domain-specific roles).
	actionFor func(c *call) string
}

// routes returns every route of the API. Each file adds its group; the
// authorization of every door is visible next to it there.
func (s *Service) routes() []route {
	var all []route
	for _, g := range [][]route{
		discoveryRoutes, authRoutes, projectRoutes, domainRoutes, userRoutes, groupRoutes, roleRoutes,
		assignmentRoutes, catalogRoutes, credentialRoutes, appCredRoutes, trustRoutes, oauthRoutes,
		endpointFilterRoutes, limitRoutes, policyRoutes, domainConfigRoutes, revokeRoutes,
	} {
		all = append(all, g...)
	}
	return all
}

// Handler returns the identity API with the shared platform behaviour.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.dispatch(rt))
	}
	return httpapi.Wrap(httpapi.MuxErrors(mux, renderError, "The method is not allowed for the requested URL."), httpapi.Options{Service: "identity", Render: renderError, Log: s.log, MaxBodySize: 112 * 1024})
}

// renderError writes Keystone's error body.
func renderError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	title := http.StatusText(e.Status)
	if e.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+baseURL(r)+`"`)
	}
	httpapi.WriteJSON(w, e.Status, map[string]any{"error": map[string]any{"code": e.Status, "title": title, "message": e.Message}})
}

// call is one request being served.
type call struct {
	s      *Service
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	tok    *authn.Token // the caller; nil on routes without a policy action
	target map[string]any
	// subject is the validated X-Subject-Token on the /v3/auth/tokens routes.
	subject *tokenData
	// loaded is the resource a target function loaded for the policy check,
	// and input the request object it decoded; handlers reuse both.
	loaded any
	input  map[string]any
}

func (s *Service) dispatch(rt route) http.Handler {
	mutates := rt.pattern[:4] != "GET " && rt.pattern[:5] != "HEAD " && !strings.Contains(rt.pattern, " /v3/auth/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mutates {
			// Drop caches before the response leaves, so the client's next
			// request already sees its own write.
			w = &invalidatingWriter{ResponseWriter: w, s: s}
		}
		c := &call{s: s, w: w, r: r, ctx: r.Context()}
		if err := c.serve(rt); err != nil {
			c.fail(err)
		}
	})
}

func (c *call) serve(rt route) error {
	if rt.action == "" {
		return rt.handle(c)
	}
	raw := c.r.Header.Get("X-Auth-Token")
	if raw == "" {
		return httpapi.Unauthorized("The request you have made requires authentication.")
	}
	td, err := c.s.validate(c.ctx, raw, false)
	if err != nil {
		if _, ok := httpapi.AsError(err); ok {
			return httpapi.Unauthorized("The request you have made requires authentication.")
		}
		return err
	}
	c.tok = td.authnToken(raw)
	c.target = map[string]any{}
	for _, name := range pathParams(rt.pattern) {
		c.target[name] = c.r.PathValue(name)
	}
	if rt.target != nil {
		t, err := rt.target(c)
		if err != nil {
			return err
		}
		for k, v := range t {
			c.target[k] = v
		}
	}
	action := rt.action
	if rt.actionFor != nil {
		action = rt.actionFor(c)
	}
	if err := c.authorize(action, c.target); err != nil {
		return err
	}
	return rt.handle(c)
}

// authorize checks a policy rule for the caller against target.
func (c *call) authorize(action string, target map[string]any) error {
	if !c.s.policy.Enforce(action, policy.Credentials(c.tok.PolicyCredentials()), target) {
		return httpapi.Forbidden("You are not authorized to perform the requested action: %s.", action)
	}
	return nil
}

// allowed reports whether the caller passes a rule, without failing.
func (c *call) allowed(action string, target map[string]any) bool {
	return c.s.policy.Enforce(action, policy.Credentials(c.tok.PolicyCredentials()), target)
}

func pathParams(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return out
}

func (c *call) fail(err error) {
	e, ok := httpapi.AsError(err)
	switch {
	case ok:
	case errors.Is(err, errNotFound):
		// The row went away between the handler's read and its write
		// (a concurrent delete): what the caller asked for is gone.
		e = httpapi.NotFound("Could not find: %s.", path.Base(c.r.URL.Path))
	default:
		c.s.log.Error("identity request failed", "request_id", httpapi.RequestID(c.ctx), "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		e = httpapi.Errorf(http.StatusInternalServerError, "An unexpected error prevented the server from fulfilling your request.")
	}
	renderError(c.w, c.r, e)
}

// param returns a path parameter.
func (c *call) param(name string) string { return c.r.PathValue(name) }

// query returns a query parameter.
func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// body decodes the JSON request body as a generic object.
func (c *call) body() (map[string]any, error) {
	var m map[string]any
	if err := httpapi.ReadJSON(c.r, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, httpapi.BadRequest("The request body must be a JSON object.")
	}
	return m, nil
}

// json writes v with status.
func (c *call) json(status int, v any) error {
	httpapi.WriteJSON(c.w, status, v)
	return nil
}

// noContent answers 204.
func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// baseURL returns the identity endpoint as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (c *call) base() string {
	if c.s.PublicURL != "" {
		return strings.TrimSuffix(c.s.PublicURL, "/")
	}
	return baseURL(c.r)
}

// self returns {"self": <base>/v3/<path>} for a resource's links.
func (c *call) self(path string) map[string]any {
	return map[string]any{"self": c.base() + "/v3/" + path}
}

// listLinks returns the links of a collection response.
func (c *call) listLinks() map[string]any {
	u := c.base() + c.r.URL.Path
	if c.r.URL.RawQuery != "" {
		u += "?" + c.r.URL.RawQuery
	}
	return map[string]any{"self": u, "previous": nil, "next": nil}
}

type invalidatingWriter struct {
	http.ResponseWriter
	s    *Service
	done bool
}

func (w *invalidatingWriter) WriteHeader(code int) {
	// A client error (401, 403, 400...) wrote nothing: keep the cache, so
	// refused requests cannot be used to empty it.
	if !w.done && (code < 400 || code >= 500) {
		w.s.invalidate()
	}
	w.done = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *invalidatingWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func isUnique(err error) bool { return db.IsUniqueViolation(err) }

func splitComma(s string) []string { return strings.Split(s, ",") }

// rawJSON embeds pre-encoded JSON in a response.
type rawJSON = json.RawMessage
