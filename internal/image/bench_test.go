package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkUploadDownload streams an image of KUMO_BENCH_IMAGE_MB (default
// 256) MiB through PUT and GET .../file and reports each throughput and
// its ratio to reading the same bytes from a file on this machine (the
// "cat" ceiling), measured in the same run.
func BenchmarkUploadDownload(b *testing.B) {
	mb := 256
	if v, err := strconv.Atoi(os.Getenv("KUMO_BENCH_IMAGE_MB")); err == nil && v > 0 {
		mb = v
	}
	size := int64(mb) << 20
	tc := newTestCloud(b)
	src := filepath.Join(b.TempDir(), "src")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ceiling := readRate(b, src)
	var up, down float64
	for i := 0; i < b.N; i++ {
		id := tc.create(tc.alice, map[string]any{"disk_format": "raw", "container_format": "bare"})
		f, _ := os.Open(src)
		req, _ := http.NewRequest("PUT", tc.srv.URL+"/v2/images/"+id+"/file", f)
		req.ContentLength = size
		req.Header.Set("X-Auth-Token", tc.alice)
		req.Header.Set("Content-Type", "application/octet-stream")
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 204 {
			b.Fatalf("upload: %v %v", err, res)
		}
		res.Body.Close()
		f.Close()
		up += float64(size) / time.Since(start).Seconds()
		req, _ = http.NewRequest("GET", tc.srv.URL+"/v2/images/"+id+"/file", nil)
		req.Header.Set("X-Auth-Token", tc.alice)
		start = time.Now()
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if n != size {
			b.Fatalf("download: %d bytes", n)
		}
		down += float64(size) / time.Since(start).Seconds()
		tc.must(204, "DELETE", "/v2/images/"+id, tc.alice, nil)
	}
	up, down = up/float64(b.N), down/float64(b.N)
	b.ReportMetric(up/1e6, "upload-MB/s")
	b.ReportMetric(down/1e6, "download-MB/s")
	b.ReportMetric(up/ceiling, "upload/cat")
	b.ReportMetric(down/ceiling, "download/cat")
}

// readRate is the rate at which this machine reads path (like cat > /dev/null).
func readRate(b *testing.B, path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	n, err := io.CopyBuffer(io.Discard, f, make([]byte, 128<<10))
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkListImages10k measures GET /v2/images (default page, as a
// project member) with 10,000 images in the database and reports p50/p99.
func BenchmarkListImages10k(b *testing.B) {
	tc := newTestCloud(b)
	ctx := context.Background()
	now := time.Now().UTC()
	for i := 0; i < 10000; i++ {
		owner := tc.projA
		if i%2 == 1 {
			owner = tc.projB
		}
		name := fmt.Sprintf("img-%05d", i)
		im := &Image{ID: newUUID(), Name: &name, Status: statusActive, Visibility: "shared", Owner: &owner,
			CreatedAt: now.Add(time.Duration(i) * time.Millisecond), UpdatedAt: now, Properties: map[string]string{"k": "v"}, Tags: []string{"t"}}
		if err := tc.svc.store.CreateImage(ctx, im); err != nil {
			b.Fatal(err)
		}
	}
	req, _ := http.NewRequest("GET", tc.srv.URL+"/v2/images", nil)
	req.Header.Set("X-Auth-Token", tc.alice)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(raw, []byte(`"next"`)) {
			b.Fatalf("list: %d %s", res.StatusCode, raw[:min(len(raw), 200)])
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
