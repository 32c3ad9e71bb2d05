package compute

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"kumo/internal/platform/httpapi"
)

// route is one door of the compute API. Paths are written without the
// version prefix; each route answers under /v2.1 and /v2, with and without
// a /{project_id} segment after the version, as Nova does.
//
// Nova's order of checks, which the dispatcher follows: token (401),
// microversion (400/406), route or action for this microversion (404, or
// 400 "There is no such action"), Content-Type (415), body JSON (400),
// the URL's project_id against the token's (400), the body schema (400),
// then the policy rule (403), then the handler.
type route struct {
	method string // GET, POST, PUT, DELETE
	path   string // e.g. "/flavors/{flavor_id}"
	// rule is the policy rule checked with the default target (the
	// caller's project_id and user_id); "" means the handler checks
	// (its target depends on the resource) or none applies.
	rule string
	// min and max bound the microversions the route exists in; the zero
	// value means no bound.
	min, max Microversion
	public   bool // no token needed (version documents)
	// body returns the request body schema for a microversion; nil (or a
	// nil result) means the body is not validated.
	body func(mv Microversion) *Schema
	// query returns the query-parameter schema; nil means not validated.
	query  func(mv Microversion) *Schema
	handle func(c *call) error
	// actions, when set, make this an action route (POST .../action): the
	// only key of the body names the action.
	actions []action
}

// action is one server/flavor action (the body {"<name>": {...}}).
type action struct {
	name     string
	rule     string
	min, max Microversion
	body     func(mv Microversion) *Schema
	handle   func(c *call) error
}

// routeGroups holds every group of routes; each api_*.go file adds its
// own in an init func with register, so a new group touches no other file.
var routeGroups [][]route

// register adds a group of routes to the API.
func register(group ...route) { routeGroups = append(routeGroups, group) }

// allRoutes merges the registered groups. Several groups may declare the
// same action route (POST /servers/{server_id}/action): their actions are
// merged into one route.
func allRoutes() ([]route, error) {
	var out []route
	index := map[string]int{}
	for _, g := range routeGroups {
		for _, rt := range g {
			key := rt.method + " " + rt.path
			if i, ok := index[key]; ok {
				if len(rt.actions) == 0 || len(out[i].actions) == 0 {
					return nil, fmt.Errorf("compute: route declared twice: %s", key)
				}
				out[i].actions = append(out[i].actions, rt.actions...)
				continue
			}
			index[key] = len(out)
			out = append(out, rt)
		}
	}
	return out, nil
}

// Versions served: Zed's range.
var (
	minVersion = Microversion{2, 1}
	maxVersion = Microversion{2, 93}
	negotiator = httpapi.Microversions{Service: "compute", LegacyHeader: "X-OpenStack-Nova-API-Version",
		Min: httpapi.Version(minVersion), Max: httpapi.Version(maxVersion)}
)

// Handler returns the compute API with the shared platform behaviour.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		h := s.dispatch(rt)
		for _, prefix := range []string{"/v2.1", "/v2"} {
			if rt.path == "/" {
				// The version document answers at "/v2.1" and "/v2.1/"
				// (Nova's urlmap), not below.
				mux.Handle(rt.method+" "+prefix+"/{$}", h)
				mux.Handle(rt.method+" "+prefix, h)
				continue
			}
			mux.Handle(rt.method+" "+prefix+rt.path, h)
		}
	}
	mux.Handle("GET /{$}", http.HandlerFunc(s.versionsIndex))
	return httpapi.Wrap(s.front(mux), httpapi.Options{Service: "compute", Render: renderError, Log: s.log})
}

// projectSegment is Nova's project_id_regex for the optional
// /{project_id} after the version.
var projectSegment = regexp.MustCompile(`^/(v2|v2\.1)/([0-9a-f\-]+)(/.*)?$`)

// front runs before the mux: it sets Nova's x-compute-request-id, strips
// an optional project id after the version (remembered for links and the
// project check), and renders unknown paths as Nova does. Nova's router
// has no 405: a path without a route for the method is a 404.
func (s *Service) front(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Compute-Request-Id", httpapi.RequestID(r.Context()))
		// Matched on the escaped path, so that an escaped "/" in a later
		// segment (a key pair name) stays one segment.
		if m := projectSegment.FindStringSubmatch(r.URL.EscapedPath()); m != nil {
			rest := m[3]
			if rest == "" {
				rest = "/"
			}
			escaped := "/" + m[1] + rest
			path, err := url.PathUnescape(escaped)
			if err != nil {
				renderError(w, r, httpapi.NotFound("The resource could not be found."))
				return
			}
			r2 := r.Clone(context.WithValue(r.Context(), urlProjectKey{}, m[2]))
			r2.URL.Path, r2.URL.RawPath = path, escaped
			r = r2
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			if !strings.HasPrefix(r.URL.Path, "/v2/") && !strings.HasPrefix(r.URL.Path, "/v2.1/") {
				// Outside the versions Nova's root app answers 300 with
				// the choices for this path.
				s.versionChoices(w, r)
				return
			}
			renderError(w, r, httpapi.NotFound("The resource could not be found."))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type urlProjectKey struct{}
