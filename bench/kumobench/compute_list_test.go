package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// countSelfLinks counts servers, not the next link, the image and flavor
// bookmarks, or a name that spells a self link.
func TestCountSelfLinks(t *testing.T) {
	srv := func(id, name string) map[string]any {
		return map[string]any{"id": id, "name": name,
			"links": []map[string]string{{"href": "http://x/v2.1/servers/" + id, "rel": "self"}, {"href": "http://x/servers/" + id, "rel": "bookmark"}},
			"image": map[string]any{"id": "i", "links": []map[string]string{{"href": "http://x/images/i", "rel": "bookmark"}}}}
	}
	body := map[string]any{"servers": []any{srv("a", `"rel":"self"`), srv("b", "b"), srv("c", `", "rel": "self`)},
		"servers_links": []map[string]string{{"href": "http://x/v2.1/servers?marker=c", "rel": "next"}}}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if n := countSelfLinks(raw); n != 3 {
		t.Fatalf("Go spacing: %d, want 3", n)
	}
	py := strings.ReplaceAll(strings.ReplaceAll(string(raw), `":`, `": `), `,"`, `, "`) // Python's separators
	if n := countSelfLinks([]byte(py)); n != 3 {
		t.Fatalf("Python spacing: %d, want 3 in %s", n, py)
	}
}
