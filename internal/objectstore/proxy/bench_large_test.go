package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The 64 MiB benchmarks measure the large-object path of issue 4 (proxy
// plus three object servers in this process): MB/s and the process CPU per
// object, the figure bench/swift.sh compares with Swift's.

const largeSize = 64 << 20

// cpuTotal is the process's user and system CPU time.
func cpuTotal() time.Duration {
	u, s := processCPU()
	return u + s
}

// runLarge runs b.N operations on conc clients and reports cpu-ms/op.
func runLarge(b *testing.B, conc int, op func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	b.SetBytes(largeSize)
	b.ResetTimer()
	cpu0 := cpuTotal()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := op(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTotal()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
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
