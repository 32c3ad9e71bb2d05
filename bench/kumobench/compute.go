package main

// kumobench compute: the compute service's benchmarks (bench/compute.sh).
//
//	-part boot        control-plane time per boot with the real QEMU driver:
//	                  POST /servers (202) to ACTIVE, one server at a time
//	                  (each deleted before the next), then no QEMU of
//	                  -data-dir may remain
//	-part burst       one POST of min_count=max_count=-count on simulated
//	                  hosts, POST to the last ACTIVE (-repeat times)
//	-part throughput  -count single-instance POSTs from -concurrency
//	                  clients on simulated hosts; ACTIVE instances per
//	                  second, then no host may be over-committed
//	-part fill        a flavor of half a free host's RAM and 10% more single
//	                  POSTs than the hosts can take, from -concurrency
//	                  clients: at most the capacity ACTIVE, the rest ERROR,
//	                  no host over capacity
//	-part list        -count instances (POSTs of min_count=100), then
//	                  GET /servers and /servers/detail p50/p99 at
//	                  -list-concurrency and paged walks
//	-part gobench     turns `go test -bench` output (-in) into JSON lines
//	-part table       the compute lines of -run in -in as a Markdown table
//
// Credentials come from OS_* (an openrc); the compute, image and identity
// endpoints from the token's catalog, which must be on loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// computeLine is one JSON line: loadgen's step fields plus the compute
// figures.
type computeLine struct {
	stepLine
	Instances    int       `json:"instances,omitempty"`
	Hosts        int       `json:"hosts,omitempty"`
	RunsMs       []float64 `json:"runs_ms,omitempty"`
	MedianMs     float64   `json:"median_ms,omitempty"`
	ServerMs     []float64 `json:"server_runs_ms,omitempty"`
	Goal         string    `json:"goal,omitempty"`
	GoalMet      *bool     `json:"goal_met,omitempty"`
	PerS         float64   `json:"per_s,omitempty"`
	Pages        int       `json:"pages,omitempty"`
	Overcommit   *int      `json:"overcommitted_hosts,omitempty"`
	QEMULeft     *int      `json:"qemu_left,omitempty"`
	Microversion string    `json:"microversion,omitempty"`
	Loadavg      string    `json:"loadavg,omitempty"`
}

type computeBench struct {
	hc           *http.Client
	c            creds
	token        string
	projectID    string
	nova, glance string // endpoints from the catalog
	micro        string
	timeout      time.Duration
	procs        []namedPID
	run, tgt     string
	out          *os.File
}

func computeCmd(args []string) int {
	fs := flag.NewFlagSet("compute", flag.ExitOnError)
	part := fs.String("part", "", "boot, burst, throughput, fill, list, gobench or table")
	count := fs.Int("count", 0, "instances (boot 5, burst 100, throughput 2000, list 10000)")
	repeat := fs.Int("repeat", 3, "burst: how many bursts")
	conc := fs.Int("concurrency", 16, "throughput: clients; list: creating clients")
	listConc := fs.Int("list-concurrency", 8, "list: clients of the list requests")
	listReqs := fs.Int("list-requests", 400, "list: requests per step of 100-entry pages")
	bigReqs := fs.Int("list-requests-big", 500, "list: requests per step of 1000-entry pages (a p99 needs some hundreds)")
	perHost := fs.Int("per-host", 2, "fill: instances of the fill flavor per free host")
	var r ratios
	fs.Float64Var(&r.cpu, "cpu-ratio", 16, "throughput: the cloud's cpu_allocation_ratio")
	fs.Float64Var(&r.ram, "ram-ratio", 1.5, "throughput: the cloud's ram_allocation_ratio")
	fs.Float64Var(&r.disk, "disk-ratio", 1, "throughput: the cloud's disk_allocation_ratio")
	fs.IntVar(&r.reservedMemMB, "reserved-host-memory-mb", 512, "throughput: the cloud's reserved_host_memory_mb")
	imageFile := fs.String("image-file", "", "boot: the guest image (qcow2) to upload")
	dataDir := fs.String("data-dir", "", "boot: kumo's data dir (QEMU command lines name it)")
	flavor := fs.String("flavor", "42", "flavor id (42 is m1.nano)")
	micro := fs.String("microversion", "2.37", "compute microversion (2.37+: networks \"none\")")
	in := fs.String("in", "", "gobench: `go test -bench` output; table: a results file")
	timeout := fs.Duration("timeout", 60*time.Second, "per-request timeout")
	maxRuntime := fs.Duration("max-runtime", 20*time.Minute, "hard cap on the whole part")
	pids := fs.String("pids", "", "file of \"name pid\" lines: server CPU time per step")
	target := fs.String("target", "kumo", "label written into every JSON line")
	run := fs.String("run", "", "run id written into every JSON line")
	out := fs.String("out", "", "also append JSON lines to this file")
	fs.Parse(args)

	b := &computeBench{micro: *micro, timeout: *timeout, run: *run, tgt: *target,
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: *timeout}}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		b.out = f
	}
	switch *part {
	case "gobench":
		return b.goBenchPart(*in)
	case "table":
		return b.tablePart(*in, *run)
	}
	if *pids != "" {
		p, err := loadPids(*pids)
		if err != nil {
			return fail(err)
		}
		b.procs = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxRuntime)
	defer cancel()
	var err error
	if b.c, err = credsFromEnv(); err != nil {
		return fail(err)
	}
	if err := b.login(ctx); err != nil {
		return fail(err)
	}
	n := func(def int) int {
		if *count > 0 {
			return *count
		}
		return def
	}
	switch *part {
	case "boot":
		err = b.bootPart(ctx, n(5), *flavor, *imageFile, *dataDir)
	case "burst":
		err = b.burstPart(ctx, n(100), *repeat, *flavor)
	case "throughput":
		err = b.throughputPart(ctx, n(2000), *conc, *flavor, r)
	case "fill":
		err = b.fillPart(ctx, *perHost, *conc, r)
	case "list":
		err = b.listPart(ctx, n(10000), *conc, *listConc, *listReqs, *bigReqs, *flavor)
	default:
		err = fmt.Errorf("-part %q: want boot, burst, throughput, fill, list, gobench or table", *part)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// emit prints l and appends it to -out.
func (b *computeBench) emit(l computeLine) {
	l.TS = time.Now().UTC().Format(time.RFC3339)
	l.Run, l.Target, l.Microversion, l.Loadavg = b.run, b.tgt, b.micro, loadAverage()
	b.write(l)
}

// write prints v as one JSON line and appends it to -out.
func (b *computeBench) write(v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // notes hold & and <
	enc.Encode(v)
	os.Stdout.Write(buf.Bytes())
	if b.out != nil {
		b.out.Write(buf.Bytes())
	}
}

// emitRaw prints m with the run's labels and appends it to -out.
func (b *computeBench) emitRaw(m map[string]any) {
	m["ts"] = time.Now().UTC().Format(time.RFC3339)
	m["run"], m["target"] = b.run, b.tgt
	b.write(m)
}

// cpu is the server CPU seconds so far (nil without -pids).
func (b *computeBench) cpu() map[string]float64 { return cpuTimes(b.procs) }

// since fills l's server CPU fields from mark to now, per op when ops > 0.
func (b *computeBench) since(mark map[string]float64, l *computeLine, ops int64) {
	b.cpuDelta(mark, b.cpu(), l, ops)
}

// cpuDelta fills l's server CPU fields from mark to now.
func (b *computeBench) cpuDelta(mark, now map[string]float64, l *computeLine, ops int64) {
	if b.procs == nil {
		return
	}
	var total float64
	by := map[string]float64{}
	for k, v := range now {
		by[k] = round(v-mark[k], 3)
		total += v - mark[k]
	}
	t := round(total, 3)
	l.ServerCPUs, l.ServerCPUByProc = &t, by
	if ops > 0 {
		per := round(total*1000/float64(ops), 3)
		l.ServerCPUmsPerOp = &per
	}
}

// loadAverage is /proc/loadavg's first three fields: how busy the machine was.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	return strings.Join(f[:min(3, len(f))], " ")
}

// verdict is the goal fields of a line.
func verdict(l *computeLine, met bool, text string) { l.GoalMet, l.Goal = &met, text }
