package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// The 64 MiB benchmarks measure the large-object path of issue 4 (proxy
// plus three object servers in this process): MB/s and the process CPU per
// object, the figure bench/swift.sh compares with Swift's.

const largeSize = 64 << 20

// runLarge runs b.N operations of a 64 MiB object on conc clients
// (runConc), so MB/s comes out too.
func runLarge(b *testing.B, conc int, op func(i int) error) {
	b.SetBytes(largeSize)
	runConc(b, conc, op)
}

func benchPutLarge(b *testing.B, conc int) {
	c := newCluster(b)
	c.must(201, "PUT", c.acctA+"/bench", c.alice, nil)
	body := make([]byte, largeSize)
	for i := range body {
		body[i] = byte(i * 7)
	}
	runLarge(b, conc, func(i int) error {
		req, _ := http.NewRequest("PUT", fmt.Sprintf("%s%s/bench/o%d", c.url, c.acctA, i%8), bytes.NewReader(body))
		req.Header.Set("X-Auth-Token", c.alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			return fmt.Errorf("PUT %d", resp.StatusCode)
		}
		return nil
	})
}

func benchGetLarge(b *testing.B, conc int) {
	c := newCluster(b)
	c.must(201, "PUT", c.acctA+"/bench", c.alice, nil)
	body := make([]byte, largeSize)
	for i := range body {
		body[i] = byte(i * 7)
	}
	c.must(201, "PUT", c.acctA+"/bench/o", c.alice, body)
	runLarge(b, conc, func(int) error {
		req, _ := http.NewRequest("GET", c.url+c.acctA+"/bench/o", nil)
		req.Header.Set("X-Auth-Token", c.alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != largeSize {
			return fmt.Errorf("GET %d, %d bytes", resp.StatusCode, n)
		}
		return nil
	})
}

func BenchmarkPut64M(b *testing.B)   { benchPutLarge(b, 1) }
func BenchmarkPut64Mc4(b *testing.B) { benchPutLarge(b, 4) }
func BenchmarkGet64M(b *testing.B)   { benchGetLarge(b, 1) }
func BenchmarkGet64Mc4(b *testing.B) { benchGetLarge(b, 4) }

// BenchmarkGet64MFresh reads each object once, right after it was stored:
// the GET finds none of it in the page cache that a write could have left.
func BenchmarkGet64MFresh(b *testing.B) {
	c := newCluster(b)
	c.must(201, "PUT", c.acctA+"/bench", c.alice, nil)
	body := make([]byte, largeSize)
	for i := range body {
		body[i] = byte(i * 7)
	}
	for i := 0; i < b.N; i++ {
		c.must(201, "PUT", fmt.Sprintf("%s/bench/f%d", c.acctA, i), c.alice, body)
	}
	runLarge(b, 1, func(i int) error {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s%s/bench/f%d", c.url, c.acctA, i), nil)
		req.Header.Set("X-Auth-Token", c.alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != largeSize {
			return fmt.Errorf("GET %d, %d bytes", resp.StatusCode, n)
		}
		return nil
	})
}
