package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// info is GET /info: what this proxy implements, which clients and
// Tempest use to pick features. Only what is built is listed.
func (s *Server) info(rq *req) {
	if rq.r.Method != http.MethodGet && rq.r.Method != http.MethodHead {
		rq.w.Header().Set("Allow", "GET, HEAD")
		rq.fail(http.StatusMethodNotAllowed, "")
		return
	}
	doc := map[string]any{
		"swift": map[string]any{
			"version":                   "2.30.1",
			"max_file_size":             s.cfg.MaxFileSize,
			"max_meta_name_length":      maxMetaNameLength,
			"max_meta_value_length":     maxMetaValueLength,
			"max_meta_count":            maxMetaCount,
			"max_meta_overall_size":     maxMetaOverallSize,
			"max_header_size":           maxHeaderSize,
			"max_object_name_length":    maxObjectNameLength,
			"max_container_name_length": maxContainerNameLength,
			"max_account_name_length":   maxAccountNameLength,
			"container_listing_limit":   listingLimit,
			"account_listing_limit":     listingLimit,
			"extra_header_count":        0,
			"valid_api_versions":        []string{"v1", "v1.0"},
			"account_autocreate":        true,
			"allow_account_management":  false,
			"strict_cors_mode":          true,
			"policies":                  []map[string]any{{"name": defaultPolicy, "default": true}},
		},
		"crossdomain": map[string]any{},
		"slo":         map[string]any{"max_manifest_segments": maxManifestSegments, "max_manifest_size": maxManifestSize, "min_segment_size": 1},
		"bulk_delete": map[string]any{"max_deletes_per_request": maxBulkDeletes, "max_failed_deletes": maxBulkDeletes},
		"bulk_upload": map[string]any{"max_containers_per_extraction": 10000, "max_failed_extractions": 1000},
		"tempurl": map[string]any{"methods": tempURLMethods, "allowed_digests": []string{"sha1", "sha256", "sha512"},
			"incoming_remove_headers": []string{}, "incoming_allow_headers": []string{},
			"outgoing_remove_headers": []string{}, "outgoing_allow_headers": []string{}},
		"account_quotas":   map[string]any{},
		"container_quotas": map[string]any{},
		"dlo":              map[string]any{"max_segments": maxDLOSegments},
		"formpost":         map[string]any{"allowed_digests": []string{"sha1", "sha256", "sha512"}},
		"staticweb":        map[string]any{},
		"versioned_writes": map[string]any{"allowed_flags": []string{"x-versions-location", "x-history-location"}},
	}
	b, _ := json.Marshal(doc)
	h := rq.w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method == http.MethodGet {
		_, _ = rq.w.Write(b)
	}
}

// healthcheck is Swift's healthcheck middleware.
func (s *Server) healthcheck(rq *req) {
	h := rq.w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", "2")
	rq.w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		_, _ = rq.w.Write([]byte("OK"))
	}
}

// crossdomainPolicy is Swift's crossdomain middleware default: Flash
// clients of any domain may call the API.
const crossdomainPolicy = `<?xml version="1.0"?>
<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >
<cross-domain-policy>
<allow-access-from domain="*" secure="false" />
</cross-domain-policy>`

func (s *Server) crossdomain(rq *req) {
	if rq.r.Method != http.MethodGet {
		rq.fail(http.StatusMethodNotAllowed, "")
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(crossdomainPolicy)))
	rq.w.WriteHeader(http.StatusOK)
	_, _ = rq.w.Write([]byte(crossdomainPolicy))
}
