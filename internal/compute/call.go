package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"kumo/internal/platform/authn"
	"kumo/internal/platform/httpapi"
	"kumo/internal/platform/policy"
)

// call is one request being served.
type call struct {
	s          *Service
	w          http.ResponseWriter
	r          *http.Request
	ctx        context.Context
	tok        *authn.Token
	admin      bool         // Nova's context.is_admin (rule context_is_admin)
	mv         Microversion // the negotiated microversion
	legacy     bool         // the request came through /v2 (v2.0 compatible)
	urlProject string       // the project id in the URL, if any
	body       any          // the decoded JSON body (validated when the route has a schema)
	creds      policy.Credentials
}

func (s *Service) dispatch(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, ctx: r.Context()}
		c.urlProject, _ = r.Context().Value(urlProjectKey{}).(string)
		c.legacy = strings.HasPrefix(r.URL.Path, "/v2/") || r.URL.Path == "/v2"
		if err := c.serve(rt); err != nil {
			c.fail(err)
		}
	})
}

func (c *call) serve(rt route) error {
	if !rt.public {
		if err := c.authenticate(); err != nil {
			return err
		}
	}
	if err := c.negotiate(); err != nil {
		return err
	}
	if !c.mv.within(rt.min, rt.max) {
		return httpapi.NotFound("The resource could not be found.")
	}
	if err := c.readBody(); err != nil {
		return err
	}
	handle, rule, schema := rt.handle, rt.rule, rt.body
	if rt.actions != nil {
		a, err := c.pickAction(rt.actions)
		if err != nil {
			return err
		}
		handle, rule, schema = a.handle, a.rule, a.body
	}
	if c.urlProject != "" && c.tok != nil && c.urlProject != c.tok.ProjectID {
		return httpapi.BadRequest("Malformed request URL: URL's project_id '%s' doesn't match Context's project_id '%s'", c.urlProject, c.tok.ProjectID)
	}
	// Under /v2 Nova picks the schemas declared for "2.0" (schema funcs
	// see 2.0) and drops unknown members instead of refusing them.
	schemaMV := c.mv
	if c.legacy {
		schemaMV = V(2, 0)
	}
	if rt.query != nil {
		if sc := rt.query(schemaMV); sc != nil {
			if err := sc.ValidateQuery(c.r.URL.Query()); err != nil {
				return err
			}
		}
	}
	if schema != nil {
		if sc := schema(schemaMV); sc != nil {
			if c.legacy {
				sc.stripAdditional(c.body)
			}
			if err := sc.Validate(c.body); err != nil {
				return err
			}
		}
	}
	if rule != "" {
		if err := c.enforce(rule, c.defaultTarget()); err != nil {
			return err
		}
	}
	return handle(c)
}

// authenticate validates X-Auth-Token, as keystonemiddleware in front of
// Nova: no or a bad token is a 401 with WWW-Authenticate.
func (c *call) authenticate() error {
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
	base := tok.PolicyCredentials()
	c.creds = make(policy.Credentials, len(base)+1)
	for k, v := range base {
		c.creds[k] = v
	}
	// Nova's context.is_admin is context_is_admin, and Nova puts it in the
	// credentials so that "is_admin:True" checks work.
	c.admin = c.s.policy.Enforce("context_is_admin", c.creds, map[string]any{})
	c.creds["is_admin"] = c.admin
	c.ctx = authn.WithToken(c.ctx, tok)
	return nil
}

func (c *call) unauthorized() error {
	e := httpapi.Unauthorized("The request you have made requires authentication.")
	e.Header = http.Header{"Www-Authenticate": {`Keystone uri="` + c.s.cfg.IdentityURL + `"`}}
	return e
}

// negotiate reads the microversion headers (ignored under /v2, as Nova's
// legacy v2 compatibility mode) and echoes the result on the response,
// errors included.
func (c *call) negotiate() error {
	if c.legacy {
		c.mv = minVersion
		c.ctx = context.WithValue(c.ctx, microversionKey{}, c.mv)
		return nil
	}
	v, err := negotiator.Negotiate(c.r)
	if e, ok := httpapi.AsError(err); ok && e.Status == http.StatusBadRequest {
		return httpapi.BadRequest("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", requestedVersion(c.r))
	}
	if err != nil {
		return err
	}
	c.mv = Microversion(v)
	c.ctx = context.WithValue(c.ctx, microversionKey{}, c.mv)
	negotiator.SetHeaders(c.w, v)
	return nil
}

// requestedVersion is the compute version string the client sent.
func requestedVersion(r *http.Request) string {
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(h, ",") {
			svc, ver, ok := strings.Cut(strings.TrimSpace(part), " ")
			if ok && strings.EqualFold(svc, "compute") {
				return strings.TrimSpace(ver)
			}
		}
	}
	return strings.TrimSpace(r.Header.Get("X-OpenStack-Nova-API-Version"))
}

// readBody decodes a JSON body if there is one. Nova takes a missing or
// text/plain Content-Type as JSON and refuses other media types.
func (c *call) readBody() error {
	raw, err := io.ReadAll(c.r.Body)
	if err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "Request is too large.")
		}
		return httpapi.BadRequest("Malformed request body")
	}
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		switch mt {
		case "", "text/plain", "application/json", "application/vnd.openstack.compute+json":
		default:
			return httpapi.Errorf(http.StatusUnsupportedMediaType, "Unsupported Content-Type")
		}
	}
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&c.body); err != nil || dec.More() {
		return httpapi.BadRequest("Malformed request body")
	}
	return nil
}

// pickAction finds the action the body names: its only key (Nova's
// action_peek). An action outside its microversions is a 404, as any
// versioned method.
func (c *call) pickAction(actions []action) (*action, error) {
	obj, ok := c.body.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, httpapi.BadRequest("Malformed request body")
	}
	name := sortedKeys(obj)[0]
	found := false
	for i := range actions {
		a := &actions[i]
		if a.name != name {
			continue
		}
		if c.mv.within(a.min, a.max) {
			return a, nil
		}
		found = true
	}
	if found {
		return nil, httpapi.NotFound("The resource could not be found.")
	}
	return nil, httpapi.BadRequest("There is no such action: %s", name)
}

// defaultTarget is Nova's default policy target: the caller's project and
// user.
func (c *call) defaultTarget() map[string]any {
	if c.tok == nil {
		return map[string]any{}
	}
	return map[string]any{"project_id": c.tok.ProjectID, "user_id": c.tok.UserID}
}

// enforce checks rule against target: 403 with Nova's message if refused.
func (c *call) enforce(rule string, target map[string]any) error {
	if c.allowed(rule, target) {
		return nil
	}
	return httpapi.Forbidden("Policy doesn't allow %s to be performed.", rule)
}

// allowed is enforce without an error.
func (c *call) allowed(rule string, target map[string]any) bool {
	return c.s.policy.Enforce(rule, c.creds, target)
}

// project is the caller's project ("" when the token has none).
func (c *call) project() string { return c.tok.ProjectID }

// user is the caller's user id.
func (c *call) user() string { return c.tok.UserID }

func (c *call) param(name string) string { return c.r.PathValue(name) }

// json writes v with status.
func (c *call) json(status int, v any) error {
	httpapi.WriteJSON(c.w, status, v)
	return nil
}

// empty answers status with no body (202 and 204 answers).
func (c *call) empty(status int) error {
	c.w.WriteHeader(status)
	return nil
}

// obj returns the body's member key as an object (after validation it is
// one).
func (c *call) obj(key string) map[string]any {
	top, _ := c.body.(map[string]any)
	m, _ := top[key].(map[string]any)
	return m
}
