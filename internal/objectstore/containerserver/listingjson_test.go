package containerserver

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// reflectObjectsJSON is the encoding/json rendering appendObjectsJSON
// must reproduce byte for byte.
func reflectObjectsJSON(entries []Entry[ObjectRecord]) []byte {
	out := make([]objectJSON, 0, len(entries))
	for _, e := range entries {
		if e.Subdir != "" {
			out = append(out, objectJSON{Subdir: e.Subdir})
			continue
		}
		size := e.Item.Size
		out = append(out, objectJSON{Name: e.Item.Name, Hash: e.Item.ETag, Bytes: &size,
			ContentType: e.Item.ContentType, LastModified: e.Item.CreatedAt.ISO()})
	}
	return encodeJSON(out)
}

func TestObjectsJSONMatchesEncodingJSON(t *testing.T) {
	// Names that take the fast path and every kind encoding/json escapes
	// or rewrites: quotes, backslashes, control bytes, HTML characters,
	// non-ASCII, U+2028, invalid UTF-8.
	names := []string{"a", "photos/cat.jpg", `q"uote`, `back\slash`, "tab\tnl\n", "<b>&amp;</b>", "é ü 日本",
		"line\u2028sep", "bad\xffutf8", "\x7f", "sp ace", ""}
	rng := rand.New(rand.NewPCG(1, 2))
	var entries []Entry[ObjectRecord]
	for i := range 300 {
		n := names[rng.IntN(len(names))]
		if rng.IntN(10) == 0 {
			entries = append(entries, Entry[ObjectRecord]{Subdir: n + "/"})
			continue
		}
		rec := ObjectRecord{Name: n + string(rune('a'+i%26)), Size: rng.Int64N(1 << 40),
			CreatedAt:   Timestamp(fmt.Sprintf("%010d.%05d", rng.Int64N(1<<35), rng.IntN(100000))),
			ETag:        []string{"", "d41d8cd98f00b204e9800998ecf8427e"}[i%2],
			ContentType: names[rng.IntN(len(names))]}
		if i%7 == 0 {
			rec.CreatedAt += "_0000000000000001" // an offset suffix
		}
		entries = append(entries, Entry[ObjectRecord]{Item: rec})
	}
	for _, set := range [][]Entry[ObjectRecord]{nil, entries[:1], entries} {
		want := reflectObjectsJSON(set)
		got := renderObjects("application/json", "c", set)
		if !bytes.Equal(got, want) {
			t.Fatalf("fast JSON differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	}
}

func BenchmarkRenderObjectsJSON(b *testing.B) {
	entries := make([]Entry[ObjectRecord], 10000)
	for i := range entries {
		entries[i] = Entry[ObjectRecord]{Item: ObjectRecord{Name: "obj-" + itoaTest(i), Size: 0,
			CreatedAt: "1763700000.12345", ETag: "d41d8cd98f00b204e9800998ecf8427e", ContentType: "application/octet-stream"}}
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			renderObjects("application/json", "c", entries)
		}
	})
	b.Run("reflect", func(b *testing.B) {
		for b.Loop() {
			reflectObjectsJSON(entries)
		}
	})
}

func itoaTest(i int) string {
	return string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}
