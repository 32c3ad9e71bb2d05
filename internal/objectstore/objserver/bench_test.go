package objserver

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// Benchmarks run a real node over loopback HTTP on t.TempDir(). The
// reference benchmarks time the bare file-system work of a durable write
// (create, write, fsync, rename, fsync dir) so the object server's figures
// can be read as a ratio on the same disk.

func benchPut(b *testing.B, n *testNode, path string, i int, body []byte) {
	req, _ := http.NewRequest("PUT", n.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("X-Timestamp", fmtTS(1700000000+int64(i/100000), i%100000))
	req.Header.Set("Content-Type", "application/octet-stream")
	r, err := n.srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 201 {
		b.Fatalf("PUT: %d", r.StatusCode)
	}
}

func BenchmarkPut4K(b *testing.B) {
	n := newTestNode(b, []string{"sdb1"}, nil)
	body := bytes.Repeat([]byte("k"), 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchPut(b, n, fmt.Sprintf("/sdb1/%d/AUTH_b/c/o%d", i%64, i), i+1, body)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkGet4K(b *testing.B) {
	n := newTestNode(b, []string{"sdb1"}, nil)
	body := bytes.Repeat([]byte("k"), 4096)
	const objects = 256
	for i := 0; i < objects; i++ {
		benchPut(b, n, fmt.Sprintf("/sdb1/%d/AUTH_b/c/o%d", i%64, i), i+1, body)
	}
	buf := make([]byte, 8192)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := n.srv.Client().Get(n.srv.URL + fmt.Sprintf("/sdb1/%d/AUTH_b/c/o%d", i%objects%64, i%objects))
		if err != nil {
			b.Fatal(err)
		}
		m, _ := r.Body.Read(buf)
		for m < 4096 {
			k, err := r.Body.Read(buf[m:])
			m += k
			if err != nil {
				break
			}
		}
		r.Body.Close()
		if r.StatusCode != 200 || m != 4096 {
			b.Fatalf("GET: %d, %d bytes", r.StatusCode, m)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkPut64M(b *testing.B) { benchPut64M(b) }

func benchPut64M(b *testing.B) {
	n := newTestNode(b, []string{"sdb1"}, nil)
	body := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One object overwritten: cleanup keeps the disk use at one copy.
		benchPut(b, n, "/sdb1/1/AUTH_b/c/big", i+1, body)
	}
}

// referenceWrite is the floor under a PUT: a durable write of size bytes.
func referenceWrite(b *testing.B, size int) {
	dir := b.TempDir()
	body := bytes.Repeat([]byte("k"), size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.CreateTemp(dir, "tmp-")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := os.Rename(f.Name(), filepath.Join(dir, "obj")); err != nil {
			b.Fatal(err)
		}
		if err := (osFS{}).SyncDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkReferenceDurableWrite4K(b *testing.B)  { referenceWrite(b, 4096) }
func BenchmarkReferenceDurableWrite64M(b *testing.B) { referenceWrite(b, 64<<20) }
