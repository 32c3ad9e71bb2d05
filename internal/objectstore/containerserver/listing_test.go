package containerserver

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
)

// photos is the object set of Swift's "Pseudo-hierarchical folders and
// directories" documentation (container "backups").
var photos = []string{
	"photos/animals/cats/persian.jpg",
	"photos/animals/cats/siamese.jpg",
	"photos/animals/dogs/corgi.jpg",
	"photos/animals/dogs/poodle.jpg",
	"photos/animals/dogs/terrier.jpg",
	"photos/me.jpg",
	"photos/plants/fern.jpg",
	"photos/plants/rose.jpg",
}

func listingNode(t *testing.T, container string, names []string) *node {
	t.Helper()
	n := newNode(t)
	expect(t, n.c("PUT", "/AUTH_a/"+container, hdrTS(1)), 201, "PUT container")
	// Insert in reverse so listing order cannot come from insertion order.
	for i := len(names) - 1; i >= 0; i-- {
		n.putObj("/AUTH_a/"+container+"/"+url.PathEscape(names[i]), 2, len(names[i]), "etag")
	}
	return n
}

func plainList(t *testing.T, n *node, path string) []string {
	t.Helper()
	r := n.c("GET", path, nil)
	if r.code == 204 {
		return nil
	}
	expect(t, r, 200, "GET "+path)
	if !strings.HasPrefix(r.h.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s content type %q", path, r.h.Get("Content-Type"))
	}
	return strings.Split(strings.TrimSuffix(r.body, "\n"), "\n")
}

func TestListingSwiftDocExamples(t *testing.T) {
	n := listingNode(t, "backups", photos)
	cases := []struct {
		query string
		want  []string
	}{
		{"", photos},
		{"?delimiter=/", []string{"photos/"}},
		{"?prefix=photos/&delimiter=/", []string{"photos/animals/", "photos/me.jpg", "photos/plants/"}},
		{"?prefix=photos/animals/&delimiter=/", []string{"photos/animals/cats/", "photos/animals/dogs/"}},
		{"?prefix=photos/animals/dogs/&delimiter=/", photos[2:5]},
		// path= lists only the names directly under the pseudo-folder.
		{"?path=photos", []string{"photos/me.jpg"}},
		{"?path=photos/animals/cats", photos[0:2]},
		{"?path=photos/animals/cats/", photos[0:2]},
		{"?path=photos/animals", nil},
		{"?prefix=photos/animals/cats/p", photos[0:1]},
		{"?marker=photos/animals/dogs/terrier.jpg", photos[5:]},
		{"?end_marker=photos/animals/dogs/corgi.jpg", photos[0:2]},
		{"?marker=photos/animals/cats/siamese.jpg&end_marker=photos/me.jpg", photos[2:5]},
		{"?limit=3", photos[0:3]},
		{"?limit=3&marker=photos/animals/dogs/corgi.jpg", photos[3:6]},
		{"?limit=0", nil}, // Swift lists nothing for limit=0
		{"?reverse=true", reversed(photos)},
		{"?reverse=true&limit=2", []string{photos[7], photos[6]}},
		{"?reverse=true&marker=photos/me.jpg", reversed(photos[0:5])},
		{"?reverse=true&marker=photos/me.jpg&end_marker=photos/animals/cats/siamese.jpg", reversed(photos[2:5])},
		{"?reverse=true&prefix=photos/&delimiter=/", []string{"photos/plants/", "photos/me.jpg", "photos/animals/"}},
		{"?prefix=nothing", nil},
		// A marker on a pseudo-folder continues after it, not inside it.
		{"?prefix=photos/&delimiter=/&marker=photos/animals/", []string{"photos/me.jpg", "photos/plants/"}},
		{"?delimiter=/&limit=1&prefix=photos/animals/", []string{"photos/animals/cats/"}},
	}
	for _, c := range cases {
		got := plainList(t, n, "/AUTH_a/backups"+c.query)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("GET %s\n got %q\nwant %q", c.query, got, c.want)
		}
	}
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestListingFormats(t *testing.T) {
	n := listingNode(t, "backups", photos)
	r := n.c("GET", "/AUTH_a/backups?format=json&prefix=photos/&delimiter=/", nil)
	expect(t, r, 200, "json listing")
	if r.h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("json content type %q", r.h.Get("Content-Type"))
	}
	got := jsonList(t, r)
	if len(got) != 3 || got[0].Subdir != "photos/animals/" || got[0].Name != "" ||
		got[1].Name != "photos/me.jpg" || got[1].Hash != "etag" || got[1].Bytes != int64(len("photos/me.jpg")) ||
		got[1].ContentType != "application/octet-stream" || got[1].LastModified == "" || got[2].Subdir != "photos/plants/" {
		t.Fatalf("json listing = %+v", got)
	}
	// Subdir entries carry only "subdir", objects exactly Swift's five keys.
	if !strings.Contains(r.body, `{"subdir":"photos/animals/"}`) {
		t.Errorf("subdir entry shape: %s", r.body)
	}

	// The Accept header chooses the format when ?format is absent.
	r = n.c("GET", "/AUTH_a/backups?limit=1", map[string]string{"Accept": "application/json"})
	if !strings.HasPrefix(r.h.Get("Content-Type"), "application/json") || len(jsonList(t, r)) != 1 {
		t.Errorf("Accept json: %q %s", r.h.Get("Content-Type"), r.body)
	}
	r = n.c("GET", "/AUTH_a/backups?limit=1", map[string]string{"Accept": "text/xml;q=0.9, application/json;q=0.5"})
	if !strings.HasPrefix(r.h.Get("Content-Type"), "text/xml") {
		t.Errorf("Accept q-values chose %q", r.h.Get("Content-Type"))
	}
	r = n.c("GET", "/AUTH_a/backups?limit=1", map[string]string{"Accept": "*/*"})
	if !strings.HasPrefix(r.h.Get("Content-Type"), "text/plain") {
		t.Errorf("Accept */* chose %q", r.h.Get("Content-Type"))
	}

	r = n.c("GET", "/AUTH_a/backups?format=xml&prefix=photos/&delimiter=/", nil)
	expect(t, r, 200, "xml listing")
	if !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<container name="backups"><subdir name="photos/animals/"><name>photos/animals/</name></subdir><object><name>photos/me.jpg</name>`) {
		t.Errorf("xml head: %q", r.body)
	}
	var doc struct {
		XMLName xml.Name `xml:"container"`
		Name    string   `xml:"name,attr"`
		Objects []struct {
			Name         string `xml:"name"`
			Hash         string `xml:"hash"`
			Bytes        int64  `xml:"bytes"`
			ContentType  string `xml:"content_type"`
			LastModified string `xml:"last_modified"`
		} `xml:"object"`
		Subdirs []struct {
			Name    string `xml:"name,attr"`
			Element string `xml:"name"`
		} `xml:"subdir"`
	}
	if err := xml.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("xml listing does not parse: %v\n%s", err, r.body)
	}
	if doc.Name != "backups" || len(doc.Objects) != 1 || doc.Objects[0].Name != "photos/me.jpg" || doc.Objects[0].Bytes != 13 ||
		doc.Objects[0].Hash != "etag" || doc.Objects[0].LastModified != got[1].LastModified ||
		len(doc.Subdirs) != 2 || doc.Subdirs[0].Name != "photos/animals/" || doc.Subdirs[0].Element != "photos/animals/" {
		t.Fatalf("xml listing = %+v", doc)
	}
	for _, tag := range []string{"<hash>etag</hash>", "<bytes>13</bytes>", "<content_type>application/octet-stream</content_type>", "<last_modified>"} {
		if !strings.Contains(r.body, tag) {
			t.Errorf("xml lacks %s: %s", tag, r.body)
		}
	}

	// Empty listings: 204 for plain, a 200 document for json and xml.
	expect(t, n.c("GET", "/AUTH_a/backups?prefix=zzz", nil), 204, "empty plain listing")
	r = n.c("GET", "/AUTH_a/backups?prefix=zzz&format=json", nil)
	if r.code != 200 || r.body != "[]" {
		t.Errorf("empty json listing: %d %q", r.code, r.body)
	}
	r = n.c("GET", "/AUTH_a/backups?prefix=zzz&format=xml", nil)
	if r.code != 200 || r.body != `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<container name="backups" />` {
		t.Errorf("empty xml listing: %d %q", r.code, r.body)
	}
}

func TestListingUnicodeBytesOrder(t *testing.T) {
	names := []string{"Zebra", "apple", "e\u0301cole", "éclair", "über", "中文", "日本語/文書", "😀", "a b", "a&b<c>"}
	n := listingNode(t, "uni", names)
	got := plainList(t, n, "/AUTH_a/uni")
	// Byte order of the UTF-8 encodings, as Swift's SQLite sorts them.
	want := []string{"Zebra", "a b", "a&b<c>", "apple", "e\u0301cole", "éclair", "über", "中文", "日本語/文書", "😀"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
	// Unicode prefix, delimiter and marker.
	if got := plainList(t, n, "/AUTH_a/uni?delimiter=/&prefix="+url.QueryEscape("日")); strings.Join(got, "|") != "日本語/" {
		t.Errorf("unicode delimiter listing = %q", got)
	}
	if got := plainList(t, n, "/AUTH_a/uni?marker="+url.QueryEscape("über")); strings.Join(got, "|") != "中文|日本語/文書|😀" {
		t.Errorf("unicode marker listing = %q", got)
	}
	if got := plainList(t, n, "/AUTH_a/uni?delimiter="+url.QueryEscape("é")); len(got) != len(names) || got[5] != "é" {
		t.Errorf("two-byte delimiter listing = %q", got)
	}
	r := n.c("GET", "/AUTH_a/uni?format=xml&prefix=a", nil)
	if !strings.Contains(r.body, "<name>a&amp;b&lt;c&gt;</name>") {
		t.Errorf("xml escaping: %s", r.body)
	}
	var names2 []string
	for _, o := range jsonList(t, n.c("GET", "/AUTH_a/uni?format=json", nil)) {
		names2 = append(names2, o.Name)
	}
	if strings.Join(names2, "|") != strings.Join(want, "|") {
		t.Errorf("json names %q", names2)
	}
}

// TestListingPagesCoverAll walks a listing in pages with marker and
// checks the pages add up to the full listing, forwards and backwards.
func TestListingPagesCoverAll(t *testing.T) {
	var names []string
	for _, d := range []string{"a", "b", "c"} {
		for i := 0; i < 7; i++ {
			names = append(names, d+"/"+itoa(i))
		}
		names = append(names, d+"-x")
	}
	n := listingNode(t, "pages", names)
	for _, reverse := range []bool{false, true} {
		var all []string
		marker := ""
		for page := 0; page < 50; page++ {
			q := "?limit=4&marker=" + url.QueryEscape(marker)
			if reverse {
				q += "&reverse=true"
			}
			got := plainList(t, n, "/AUTH_a/pages"+q)
			if len(got) == 0 {
				break
			}
			all = append(all, got...)
			marker = got[len(got)-1]
		}
		want := append([]string(nil), names...)
		sortBytes(want)
		if reverse {
			want = reversed(want)
		}
		if strings.Join(all, "|") != strings.Join(want, "|") {
			t.Errorf("reverse=%v pages\n got %q\nwant %q", reverse, all, want)
		}
	}
	// With a delimiter, paging by the last subdir continues after it.
	got := plainList(t, n, "/AUTH_a/pages?delimiter=/&limit=2")
	if strings.Join(got, "|") != "a-x|a/" {
		t.Fatalf("first delimiter page %q", got)
	}
	got = plainList(t, n, "/AUTH_a/pages?delimiter=/&limit=2&marker=a/")
	if strings.Join(got, "|") != "b-x|b/" {
		t.Fatalf("second delimiter page %q", got)
	}
}

func sortBytes(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// A listing row comes back from SQLite as one NUL-joined value; the
// content type is what lies between the size and the last NUL.
func TestParseListingRow(t *testing.T) {
	r, err := parseListingRow([]byte("a/b\x001700000000.00000\x0042\x00text/plain;x=\x00y\x00d41d8cd98f00b204e9800998ecf8427e"))
	want := ObjectRecord{Name: "a/b", CreatedAt: "1700000000.00000", Size: 42, ContentType: "text/plain;x=\x00y", ETag: "d41d8cd98f00b204e9800998ecf8427e"}
	if err != nil || r != want {
		t.Fatalf("got %+v, %v", r, err)
	}
	for _, bad := range []string{"", "a\x00t\x0042", "a\x00t\x00x\x00ct\x00e", "a\x00t\x0042\x00"} {
		if r, err := parseListingRow([]byte(bad)); err == nil {
			t.Fatalf("%q: parsed as %+v", bad, r)
		}
	}
}
