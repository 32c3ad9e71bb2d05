package compute

import (
	"net/http"
	"testing"
)

// Request latency through real HTTP, token validation included.
func benchGet(b *testing.B, path string, hdr ...string) {
	tc := newTestCloud(b)
	tc.must(200, "GET", path, tc.alice, nil, hdr...)
	req, _ := http.NewRequest("GET", tc.srv.URL+path, nil)
	req.Header.Set("X-Auth-Token", tc.alice)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set("OpenStack-API-Version", "compute "+hdr[i+1])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatal(res.Status)
		}
	}
}

func BenchmarkFlavorDetail(b *testing.B) { benchGet(b, "/v2.1/flavors/detail", "mv", "2.61") }
func BenchmarkFlavorShow(b *testing.B)   { benchGet(b, "/v2.1/flavors/1") }
func BenchmarkVersionDoc(b *testing.B)   { benchGet(b, "/v2.1/") }
