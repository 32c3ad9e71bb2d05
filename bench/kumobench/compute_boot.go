package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// bootPart: n servers with the real QEMU driver, one after another; each
// is timed from the POST to ACTIVE (the manager marks ACTIVE once QEMU's VM
// runs; the guest's own boot is not in it), then deleted before the next,
// so that at most one guest runs. At the end no QEMU whose command line
// names dataDir may remain.
func (b *computeBench) bootPart(ctx context.Context, n int, flavor, imageFile, dataDir string) error {
	if imageFile == "" || dataDir == "" {
		return errors.New("boot needs -image-file (the guest qcow2) and -data-dir (kumo's)")
	}
	f, err := os.Open(imageFile)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	image, err := b.uploadImage(ctx, "kumobench-guest", "qcow2", f, st.Size())
	f.Close()
	if err != nil {
		return err
	}
	var post, active, server []time.Duration
	mark := b.cpu()
	for i := range n {
		p, a, s, err := b.bootOne(ctx, fmt.Sprintf("bench-boot-%d", i), image, flavor)
		if err != nil {
			return errors.Join(err, b.noGuestLeft(dataDir, 30*time.Second, nil))
		}
		post, active, server = append(post, p), append(active, a), append(server, s)
	}
	var left []int
	if err := b.noGuestLeft(dataDir, 30*time.Second, &left); err != nil {
		return err
	}
	nLeft := len(left)

	l := computeLine{stepLine: durLine("compute.boot_qemu", active), Instances: n,
		RunsMs: durMsList(active), ServerMs: durMsList(server), MedianMs: durMs(durMedian(active)), QEMULeft: &nLeft}
	l.Note = "POST /servers to ACTIVE (client poll of GET /servers/{id} every 10 ms); server_runs_ms: POST to launched_at; each server deleted before the next"
	b.since(mark, &l, int64(n))
	b.emit(l)
	pl := computeLine{stepLine: durLine("compute.boot_post", post), Instances: n, RunsMs: durMsList(post), MedianMs: durMs(durMedian(post))}
	pl.Note = "POST /servers alone (202)"
	b.emit(pl)
	return nil
}

// bootOne creates one server and waits for ACTIVE; then deletes it and
// waits for it to be gone. It returns the POST latency, the client's time
// to ACTIVE and the server's (launched_at minus the POST's start).
func (b *computeBench) bootOne(ctx context.Context, name, image, flavor string) (post, active, server time.Duration, err error) {
	t0 := time.Now()
	id, err := b.createServers(ctx, name, image, flavor, 1)
	if err != nil {
		return 0, 0, 0, err
	}
	post = time.Since(t0)
	defer func() { err = errors.Join(err, b.deleteAndWait(ctx, id, 2*time.Minute)) }()
	end := t0.Add(3 * time.Minute)
	for time.Now().Before(end) {
		var s struct {
			Server serverRow `json:"server"`
		}
		if err := b.want(ctx, http.StatusOK, "GET", b.nova+"/servers/"+id, nil, &s); err != nil {
			return 0, 0, 0, err
		}
		switch s.Server.Status {
		case "ACTIVE":
			active = time.Since(t0)
			if la, ok := s.Server.launched(); ok {
				server = la.Sub(t0.UTC())
			}
			return post, active, server, nil
		case "ERROR":
			msg := ""
			if s.Server.Fault != nil {
				msg = s.Server.Fault.Message
			}
			return 0, 0, 0, fmt.Errorf("server %s went to ERROR: %s", id, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, 0, 0, fmt.Errorf("server %s not ACTIVE after 3 minutes", id)
}

// deleteAndWait deletes server id and polls until GET answers 404.
func (b *computeBench) deleteAndWait(ctx context.Context, id string, limit time.Duration) error {
	if err := b.want(ctx, http.StatusNoContent, "DELETE", b.nova+"/servers/"+id, nil, nil); err != nil {
		return err
	}
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		code, _, err := b.call(ctx, b.token, "GET", b.nova+"/servers/"+id, nil)
		if err != nil {
			return err
		}
		if code == http.StatusNotFound {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server %s still there %s after DELETE", id, limit)
}

// noGuestLeft waits up to limit for every QEMU naming dataDir to exit; it
// fails naming the ones left (the caller's script kills them).
func (b *computeBench) noGuestLeft(dataDir string, limit time.Duration, left *[]int) error {
	end := time.Now().Add(limit)
	for {
		pids := qemuUnder(dataDir)
		if left != nil {
			*left = pids
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("QEMU processes of %s still running %s after the deletes: %v", dataDir, limit, pids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// qemuUnder lists the qemu-system processes whose command line names dir.
func qemuUnder(dir string) []int {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := string(raw)
		if strings.Contains(cmd, "qemu-system") && strings.Contains(cmd, abs) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func durMs(d time.Duration) float64 { return round(float64(d)/1e6, 2) }

func durMsList(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = durMs(d)
	}
	return out
}

// durMedian of ds (the lower middle for an even count), ds left unsorted.
func durMedian(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

// durLine is a step line over sequential latencies.
func durLine(workload string, ds []time.Duration) stepLine {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	r := stepResult{ops: int64(len(ds)), lat: append([]time.Duration(nil), ds...), elapsed: total}
	return r.line(workload, 1)
}
