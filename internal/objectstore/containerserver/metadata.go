package containerserver

import (
	"encoding/json"
	"net/http"
	"strings"
)

// MetaItem is one metadata value and the timestamp that set it; an empty
// value is a deletion that still has to win over older values on replicas.
type MetaItem struct {
	Value     string
	Timestamp Timestamp
}

// MarshalJSON stores an item as Swift does: [value, timestamp].
func (m MetaItem) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{m.Value, string(m.Timestamp)})
}

// UnmarshalJSON reads [value, timestamp].
func (m *MetaItem) UnmarshalJSON(b []byte) error {
	var a [2]string
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	m.Value, m.Timestamp = a[0], Timestamp(a[1])
	return nil
}

// Metadata maps a header name (canonical form, e.g. "X-Container-Meta-Color")
// to its value.
type Metadata map[string]MetaItem

// merge folds newer items of o into m and reports whether m changed.
func (m Metadata) merge(o Metadata) bool {
	changed := false
	for k, v := range o {
		if cur, ok := m[k]; !ok || v.Timestamp > cur.Timestamp {
			m[k] = v
			changed = true
		}
	}
	return changed
}

func parseMetadata(s string) Metadata {
	m := Metadata{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

func (m Metadata) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// sysHeaders are the container headers Swift stores as metadata besides
// X-Container-Meta-* and X-Container-Sysmeta-*.
var containerSysHeaders = []string{
	"X-Container-Read", "X-Container-Write", "X-Container-Sync-Key",
	"X-Container-Sync-To", "X-Versions-Location", "X-History-Location",
}

// metadataFromHeaders picks the metadata headers of a request for a
// database of kind ("Container" or "Account").
func metadataFromHeaders(h http.Header, kind string, ts Timestamp) Metadata {
	m := Metadata{}
	metaPrefix := "X-" + kind + "-Meta-"
	sysPrefix := "X-" + kind + "-Sysmeta-"
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		if strings.HasPrefix(ck, metaPrefix) || strings.HasPrefix(ck, sysPrefix) {
			m[ck] = MetaItem{Value: v[0], Timestamp: ts}
		}
	}
	if kind == "Container" {
		for _, k := range containerSysHeaders {
			if v, ok := h[k]; ok {
				m[k] = MetaItem{Value: v[0], Timestamp: ts}
			}
		}
	}
	return m
}

// writeHeaders emits the non-empty metadata values as response headers.
func (m Metadata) writeHeaders(h http.Header) {
	for k, v := range m {
		if v.Value != "" {
			h.Set(k, v.Value)
		}
	}
}
