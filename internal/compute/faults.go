package compute

import (
	"encoding/json"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// faultNames are Nova's fault body keys by status (wsgi.Fault).
var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
	429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable",
}

// renderError writes Nova's fault body {"itemNotFound": {"code": 404,
// "message": "..."}}; other statuses are "computeFault". A 401 comes from
// keystonemiddleware in Nova, so it has Keystone's body.
func renderError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	if e.Status == http.StatusUnauthorized {
		httpapi.WriteJSON(w, e.Status, map[string]any{"error": map[string]any{"code": e.Status, "title": "Unauthorized", "message": e.Message}})
		return
	}
	name, ok := faultNames[e.Status]
	if !ok {
		name = "computeFault"
	}
	fault := map[string]any{"code": e.Status, "message": e.Message}
	if ra := e.Header.Get("Retry-After"); ra != "" && (e.Status == 413 || e.Status == 429) {
		fault["retryAfter"] = ra
	}
	b, _ := json.Marshal(map[string]any{name: fault})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

func (c *call) fail(err error) {
	e, ok := httpapi.AsError(err)
	if !ok {
		c.s.log.Error("compute request failed", "request_id", httpapi.RequestID(c.ctx), "method", c.r.Method, "path", c.r.URL.Path, "err", err)
		e = httpapi.Errorf(http.StatusInternalServerError, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'kumo.Error'>")
	}
	renderError(c.w, c.r, e)
}
