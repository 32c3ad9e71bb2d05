package main

import (
	"encoding/json"
	"fmt"
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

// BenchmarkCountSelfLinks: the check of a 1,000-server detail page (about
// 1.1 MB) must cost far less than the server's 2 ms answering it.
func BenchmarkCountSelfLinks(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"servers":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"%036d","name":"bench-list-%d","status":"ACTIVE","tenant_id":"4f1d","user_id":"9c2a","metadata":{},"hostId":"ab12","image":{"id":"e1","links":[{"href":"http://127.0.0.1:9174/images/e1","rel":"bookmark"}]},"flavor":{"vcpus":1,"ram":64,"disk":0,"ephemeral":0,"swap":0,"original_name":"bench","extra_specs":{}},"created":"2026-11-21T21:45:31Z","updated":"2026-11-21T21:45:31Z","addresses":{},"accessIPv4":"","accessIPv6":"","links":[{"href":"http://127.0.0.1:9174/v2.1/4f1d/servers/%036d","rel":"self"},{"href":"http://127.0.0.1:9174/4f1d/servers/%036d","rel":"bookmark"}],"OS-DCF:diskConfig":"MANUAL","progress":0,"OS-EXT-AZ:availability_zone":"nova","config_drive":"","key_name":null,"OS-SRV-USG:launched_at":"2026-11-21T21:45:31.000000","OS-SRV-USG:terminated_at":null,"OS-EXT-STS:task_state":null,"OS-EXT-STS:vm_state":"active","OS-EXT-STS:power_state":1,"os-extended-volumes:volumes_attached":[],"security_groups":[{"name":"default"}]}`, i, i, i, i)
	}
	sb.WriteString(`]}`)
	raw := []byte(sb.String())
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if n := countSelfLinks(raw); n != 1000 {
			b.Fatalf("%d self links, want 1000", n)
		}
	}
}
