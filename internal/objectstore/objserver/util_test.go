package objserver

import (
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"testing"
)

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

type part struct{ rng, ctype, body string }

// readMultipart parses a multipart/byteranges response.
func readMultipart(t testing.TB, r resp) []part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q is not multipart/byteranges", r.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(r.body)), params["boundary"])
	var out []part
	for i := 0; i < 100; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		out = append(out, part{rng: p.Header.Get("Content-Range"), ctype: p.Header.Get("Content-Type"), body: string(b)})
	}
	return out
}
