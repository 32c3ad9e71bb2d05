package containerserver

import (
	"bytes"
	"encoding/json"
	"mime"
	"strconv"
	"strings"
)

// Listing content types, in Swift's order of preference.
var listingTypes = []string{"text/plain", "application/json", "application/xml", "text/xml"}

var formatTypes = map[string]string{
	"plain": "text/plain",
	"json":  "application/json",
	"xml":   "application/xml",
}

// listingContentType picks the listing format as Swift does: ?format= wins
// (unknown values mean plain), else the Accept header's best match, else
// plain. "" means nothing acceptable (406).
func listingContentType(format, accept string) string {
	if format != "" {
		if t, ok := formatTypes[strings.ToLower(format)]; ok {
			return t
		}
		return "text/plain"
	}
	if strings.TrimSpace(accept) == "" {
		return "text/plain"
	}
	return bestMatch(accept, listingTypes)
}

type acceptRange struct {
	typ, sub string
	q        float64
	order    int
}

// bestMatch is a small RFC 9110 Accept matcher: the offer with the highest
// q wins, ties go to the earlier offer; the most specific range sets q.
func bestMatch(accept string, offers []string) string {
	var ranges []acceptRange
	for i, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		t, s, _ := strings.Cut(mt, "/")
		ranges = append(ranges, acceptRange{typ: t, sub: s, q: q, order: i})
	}
	best, bestQ := "", 0.0
	for _, o := range offers {
		ot, os, _ := strings.Cut(o, "/")
		q, spec := -1.0, -1
		for _, r := range ranges {
			s := -1
			switch {
			case r.typ == ot && r.sub == os:
				s = 2
			case r.typ == ot && r.sub == "*":
				s = 1
			case r.typ == "*" && r.sub == "*":
				s = 0
			}
			if s > spec {
				spec, q = s, r.q
			}
		}
		if q > bestQ {
			best, bestQ = o, q
		}
	}
	return best
}

// objectJSON is one line of a container's JSON listing.
type objectJSON struct {
	Name         string `json:"name,omitempty"`
	Hash         string `json:"hash,omitempty"`
	Bytes        *int64 `json:"bytes,omitempty"`
	ContentType  string `json:"content_type,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Subdir       string `json:"subdir,omitempty"`
}

// containerJSON is one line of an account's JSON listing.
type containerJSON struct {
	Name         string `json:"name,omitempty"`
	Count        *int64 `json:"count,omitempty"`
	Bytes        *int64 `json:"bytes,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Subdir       string `json:"subdir,omitempty"`
}

func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// renderObjects renders a container listing body in the content type ct.
func renderObjects(ct, container string, entries []Entry[ObjectRecord]) []byte {
	switch ct {
	case "application/json":
		return appendObjectsJSON(make([]byte, 0, 64+len(entries)*160), entries)
	case "application/xml", "text/xml":
		// Swift's container XML has no whitespace between elements and an
		// empty listing is a self-closed root (ElementTree's output).
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		b.WriteString(`<container name="` + xmlAttr(container) + `"`)
		if len(entries) == 0 {
			b.WriteString(" />")
			return b.Bytes()
		}
		b.WriteString(">")
		for _, e := range entries {
			if e.Subdir != "" {
				b.WriteString(`<subdir name="` + xmlAttr(e.Subdir) + `"><name>` + xmlText(e.Subdir) + "</name></subdir>")
				continue
			}
			r := e.Item
			b.WriteString("<object><name>" + xmlText(r.Name) + "</name><hash>" + xmlText(r.ETag) +
				"</hash><bytes>" + strconv.FormatInt(r.Size, 10) + "</bytes><content_type>" +
				xmlText(r.ContentType) + "</content_type><last_modified>" + r.CreatedAt.ISO() +
				"</last_modified></object>")
		}
		b.WriteString("</container>")
		return b.Bytes()
	default:
		return renderPlain(entries)
	}
}

// renderContainers renders an account listing body in the content type ct.
func renderContainers(ct, account string, entries []Entry[ContainerRecord]) []byte {
	switch ct {
	case "application/json":
		out := make([]containerJSON, 0, len(entries))
		for _, e := range entries {
			if e.Subdir != "" {
				out = append(out, containerJSON{Subdir: e.Subdir})
				continue
			}
			count, used := e.Item.ObjectCount, e.Item.BytesUsed
			out = append(out, containerJSON{Name: e.Item.Name, Count: &count, Bytes: &used,
				LastModified: e.Item.PutTimestamp.ISO()})
		}
		return encodeJSON(out)
	case "application/xml", "text/xml":
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		b.WriteString(`<account name="` + xmlAttr(account) + `">` + "\n")
		for _, e := range entries {
			if e.Subdir != "" {
				b.WriteString(`<subdir name="` + xmlAttr(e.Subdir) + `" />` + "\n")
				continue
			}
			r := e.Item
			b.WriteString("<container><name>" + xmlText(r.Name) + "</name><count>" +
				strconv.FormatInt(r.ObjectCount, 10) + "</count><bytes>" + strconv.FormatInt(r.BytesUsed, 10) +
				"</bytes><last_modified>" + r.PutTimestamp.ISO() + "</last_modified></container>\n")
		}
		b.WriteString("</account>")
		return b.Bytes()
	default:
		return renderPlain(entries)
	}
}

func renderPlain[T any](entries []Entry[T]) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		b.WriteString(e.Name)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// xmlText escapes element text as ElementTree does: only &, < and >.
var xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// xmlAttr escapes a double-quoted attribute value as ElementTree does.
var xmlAttr = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
	"\n", "&#10;", "\r", "&#13;", "\t", "&#09;").Replace
