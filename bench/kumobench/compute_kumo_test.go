package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestComputePartsAgainstKumo runs the simulated parts, scaled down, against
// a real kumo (built from this tree, simulated hosts): the client must get
// through Keystone's limits, the image upload and the compute API, and
// write the lines compute.sh relies on.
func TestComputePartsAgainstKumo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts kumo")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kumo")
	build := exec.Command("go", "build", "-o", bin, "kumo/cmd/kumo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build kumo: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "kumo.yaml")
	if err := os.WriteFile(cfg, []byte("compute:\n  driver: simulated\n  simulated_hosts: 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	off := computeKumoOffset(t)
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "up", "--config", cfg, "--data-dir", data, "--port-offset", fmt.Sprint(off), "--admin-password", "test-pass-42")
	logf, err := os.Create(filepath.Join(dir, "kumo.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	waitComputeKumo(t, data, off, filepath.Join(dir, "kumo.log"))
	setenvOpenrc(t, filepath.Join(data, "openrc"))

	out := filepath.Join(dir, "out.jsonl")
	for _, args := range [][]string{
		{"-part", "burst", "-count", "10", "-repeat", "1"},
		{"-part", "throughput", "-count", "40", "-concurrency", "4"},
		{"-part", "list", "-count", "300", "-concurrency", "2", "-list-requests", "20", "-list-requests-big", "5"},
		{"-part", "fill", "-concurrency", "4"},
	} {
		if code := computeCmd(append(args, "-out", out, "-run", "t1", "-max-runtime", "3m")); code != 0 {
			t.Fatalf("kumobench compute %v: exit %d (kumo log %s)", args, code, filepath.Join(dir, "kumo.log"))
		}
	}
	lines := readComputeLines(t, out)
	for _, w := range []string{"compute.burst_10", "compute.schedule_throughput", "compute.create_250", "compute.list_servers_default",
		"compute.list_servers_limit100", "compute.list_detail_limit100", "compute.list_detail_default", "compute.walk_detail_limit1000"} {
		l, ok := lines[w]
		if !ok {
			t.Errorf("no %s line", w)
			continue
		}
		if l["run"] != "t1" || l["errors"] != 0.0 {
			t.Errorf("%s: %v", w, l)
		}
	}
	if tp := lines["compute.schedule_throughput"]; tp["hosts"] != 20.0 || tp["overcommitted_hosts"] != 0.0 || tp["instances"] != 40.0 {
		t.Errorf("throughput line: %v", tp)
	}
	// 20 hosts, 2 per free host, 300 nano instances taking some of the
	// room: at most the room ACTIVE, the rest ERROR.
	if f := lines["compute.fill_capacity"]; f["goal_met"] != true || f["overcommitted_hosts"] != 0.0 {
		t.Errorf("fill line: %v", f)
	}
	// burst 10 + throughput 40 were there: the list part adds 250 up to 300.
	if c := lines["compute.create_250"]; c["instances"] != 250.0 || c["ops"] != 3.0 {
		t.Errorf("create line: %v", c)
	}
	if w := lines["compute.walk_detail_limit1000"]; w["pages"] != 1.0 || w["instances"] != 300.0 {
		t.Errorf("walk line: %v", w)
	}
}

// computeKumoOffset finds a port offset whose ports are all free: identity,
// image, compute, the object store's proxy and storage node. Offsets come
// from 11000..21999, which keeps every port below Linux's ephemeral range
// (32768 on), where any test's outgoing connection may take one meanwhile.
func computeKumoOffset(t *testing.T) int {
	for range 50 {
		off := 11000 + rand.IntN(11000)
		free := true
		for _, p := range []int{5000, 6200, 6201, 6202, 8080, 8774, 9292} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+off))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return off
		}
	}
	t.Fatal("no free port offset")
	return 0
}

// waitComputeKumo waits until kumo wrote its openrc and answers on /v3.
func waitComputeKumo(t *testing.T, data string, off int, logPath string) {
	end := time.Now().Add(60 * time.Second)
	for time.Now().Before(end) {
		if _, err := os.Stat(filepath.Join(data, "openrc")); err == nil {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/v3", 5000+off))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	raw, _ := os.ReadFile(logPath)
	t.Fatalf("kumo did not start within 60 s:\n%s", raw)
}

// setenvOpenrc sets the openrc's "export K=V" variables for the test.
func setenvOpenrc(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok && strings.HasPrefix(line, "export ") {
			t.Setenv(k, strings.Trim(v, `'"`))
		}
	}
}

// readComputeLines maps workload to the last JSON line of it in path.
func readComputeLines(t *testing.T, path string) map[string]map[string]any {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]any{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		w, _ := m["workload"].(string)
		out[w] = m
	}
	return out
}
