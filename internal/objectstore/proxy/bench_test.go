package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// Benchmarks run against the 3-node, 3-replica harness. The "direct"
// variants write one replica straight to one object server, the reference
// the proxy's fan-out (three replicas plus a container HEAD) is compared to.

func benchPut(b *testing.B, size int) {
	c := newCluster(b)
	c.must(201, "PUT", c.acctA+"/bench", c.alice, nil)
	body := bytes.Repeat([]byte("b"), size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("PUT", fmt.Sprintf("%s%s/bench/o%d", c.url, c.acctA, i), bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", c.alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			b.Fatalf("PUT %d", resp.StatusCode)
		}
	}
}

func benchDirectPut(b *testing.B, size int) {
	c := newCluster(b)
	pl := c.proxy.place(c.rings[0], "AUTH_x", "bench", "o")
	d := pl.primaries[0]
	body := bytes.Repeat([]byte("b"), size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		url := nodeURL(d, fmt.Sprintf("/%d/AUTH_x/bench/o%d", pl.part, i), "")
		req, _ := http.NewRequest("PUT", url, bytes.NewReader(body))
		req.Header.Set("X-Timestamp", c.proxy.clock.next())
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			b.Fatalf("direct PUT %d", resp.StatusCode)
		}
	}
}

func benchGet(b *testing.B, size int) {
	c := newCluster(b)
	c.must(201, "PUT", c.acctA+"/bench", c.alice, nil)
	c.must(201, "PUT", c.acctA+"/bench/o", c.alice, bytes.Repeat([]byte("g"), size))
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", c.url+c.acctA+"/bench/o", nil)
		req.Header.Set("X-Auth-Token", c.alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(size) {
			b.Fatalf("GET %d, %d bytes", resp.StatusCode, n)
		}
	}
}

func BenchmarkPut4K(b *testing.B)       { benchPut(b, 4<<10) }
func BenchmarkPut1M(b *testing.B)       { benchPut(b, 1<<20) }
func BenchmarkDirectPut4K(b *testing.B) { benchDirectPut(b, 4<<10) }
func BenchmarkDirectPut1M(b *testing.B) { benchDirectPut(b, 1<<20) }
func BenchmarkGet4K(b *testing.B)       { benchGet(b, 4<<10) }
func BenchmarkGet1M(b *testing.B)       { benchGet(b, 1<<20) }
