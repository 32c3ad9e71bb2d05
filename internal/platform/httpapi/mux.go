package httpapi

import "net/http"

// MuxErrors serves mux, but renders the mux's own answers for an unknown
// path (404) and a known path with another method (405, with Allow) in the
// service's fault format instead of ServeMux's plain text. methodMessage is
// the service's wording for 405.
func MuxErrors(mux *http.ServeMux, render Renderer, methodMessage string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := mux.Handler(r); pattern == "" {
			// A 404, a 405 or a redirect: let ServeMux decide, then render.
			rec := &statusOnly{header: http.Header{}}
			h.ServeHTTP(rec, r)
			switch rec.status {
			case http.StatusMethodNotAllowed:
				w.Header().Set("Allow", rec.header.Get("Allow"))
				render(w, r, Errorf(http.StatusMethodNotAllowed, "%s", methodMessage))
				return
			case http.StatusNotFound:
				render(w, r, NotFound("The resource could not be found."))
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// statusOnly records the status and headers a handler would send.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }
