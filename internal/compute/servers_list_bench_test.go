package compute

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"kumo/internal/compute/manager"
)

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The list goal (p99 < 30 ms with 10,000 instances) in process:
// the handler alone (token validation, policy, SQL, views, encoding) on a
// real SQLite database of 10,000 varied instances, without the network.
// Run: go test -run XXX -bench ServerList -benchtime 200x ./internal/compute/
func benchServerList(b *testing.B, path, mv string) { benchServerListCache(b, path, mv, false) }

// BenchmarkServerDetailDefaultCold is the default detail page with the
// list cache emptied before each request: every row is read and decoded,
// as after a restart or when all the page's servers changed.
func BenchmarkServerDetailDefaultCold(b *testing.B) {
	benchServerListCache(b, "/v2.1/servers/detail", "2.37", true)
}

func benchServerListCache(b *testing.B, path, mv string, cold bool) {
	tc := newTestCloud(b)
	tc.seedServers(tc.projA, 10000)
	h := tc.svc.Handler()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("X-Auth-Token", tc.alice)
	req.Header.Set("OpenStack-API-Version", "compute "+mv)
	w := &countingWriter{h: http.Header{}}
	run := func() int {
		if cold {
			c := tc.svc.instances().listCache()
			c.mu.Lock()
			clear(c.m)
			c.mu.Unlock()
		}
		w.code, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("%s: %d", path, w.code)
		}
		return w.n
	}
	size := run()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		run()
	}
	// CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(size), "bytes/answer")
}

func BenchmarkServerListLimit100(b *testing.B) { benchServerList(b, "/v2.1/servers?limit=100", "2.37") }
func BenchmarkServerListDefault(b *testing.B)  { benchServerList(b, "/v2.1/servers", "2.37") }
func BenchmarkServerDetailLimit100(b *testing.B) {
	benchServerList(b, "/v2.1/servers/detail?limit=100", "2.37")
}
func BenchmarkServerDetailDefault(b *testing.B) { benchServerList(b, "/v2.1/servers/detail", "2.37") }
func BenchmarkServerDetailLatest(b *testing.B)  { benchServerList(b, "/v2.1/servers/detail", "2.93") }

// countingWriter is a ResponseWriter that keeps nothing but the status
// and size, as a connection's buffered writer costs next to nothing.
type countingWriter struct {
	h       http.Header
	code, n int
}

func (w *countingWriter) Header() http.Header { return w.h }
func (w *countingWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *countingWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// BenchmarkInstanceUpdate is the write side of the list cache: a task
// state update through the store (the manager's path) on one of 10,000
// instances, with migration 0600's row_version trigger and index.
func BenchmarkInstanceUpdate(b *testing.B) {
	tc := newTestCloud(b)
	uuids := tc.seedServers(tc.projA, 10000)
	var live []string
	for _, u := range uuids {
		if in, err := tc.svc.instances().get(context.Background(), u, false); err == nil && in != nil {
			live = append(live, u)
		}
	}
	st := tc.svc.instances()
	states := []string{"rebooting", ""}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		task := states[i%2]
		if err := st.Update(context.Background(), live[i%len(live)], manager.Update{TaskState: &task}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
