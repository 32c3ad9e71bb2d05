package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// imagecompare puts two kumobench image runs side by side (kumo and
// Debian's glance-api, measured in the same session) and prints their
// ratios: throughput as kumo/glance, latencies and CPU as glance/kumo, so
// a ratio above 1 always means kumo is ahead.
func imageCompareCmd(args []string) int {
	fs := flag.NewFlagSet("imagecompare", flag.ExitOnError)
	in := fs.String("in", "", "JSON lines file holding both runs")
	aRun := fs.String("kumo-run", "", "run id of the kumo run")
	bRun := fs.String("glance-run", "", "run id of the glance run")
	fs.Parse(args)
	if *in == "" || *aRun == "" || *bRun == "" {
		return fail(errors.New("-in, -kumo-run and -glance-run are required"))
	}
	f, err := os.Open(*in)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	a, b, err := readImageRuns(f, *aRun, *bRun)
	if err != nil {
		return fail(err)
	}
	fmt.Print(imageCompareTable(a, b, *aRun, *bRun))
	return 0
}

// readImageRuns returns the image.* lines of two runs, by workload.
func readImageRuns(r io.Reader, aRun, bRun string) (map[string]imageLine, map[string]imageLine, error) {
	a, b := map[string]imageLine{}, map[string]imageLine{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l imageLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || !strings.HasPrefix(l.Workload, "image.") {
			continue
		}
		switch l.Run {
		case aRun:
			a[l.Workload] = l
		case bRun:
			b[l.Workload] = l
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, fmt.Errorf("no image lines for run %q (%d) or %q (%d)", aRun, len(a), bRun, len(b))
	}
	return a, b, nil
}

func aheadRatio(num, den float64) string {
	if num <= 0 || den <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", num/den)
}

// imageCompareTable is the Markdown table of the workloads both runs have.
func imageCompareTable(a, b map[string]imageLine, aRun, bRun string) string {
	var names []string
	for w := range a {
		// cat, the local hashes and the loopback references measure the
		// machine, not the server.
		if _, ok := b[w]; ok && !strings.HasPrefix(w, "image.reference_") && !strings.HasPrefix(w, "image.local_") && !strings.HasPrefix(w, "image.cat_") {
			names = append(names, w)
		}
	}
	sort.Strings(names)
	var sb strings.Builder
	fmt.Fprintf(&sb, "## image service: kumo (%s) vs Debian glance-api (%s), same session; ratio > 1: kumo ahead\n\n", aRun, bRun)
	sb.WriteString("| workload | measure | kumo | glance | ratio |\n|---|---|---:|---:|---:|\n")
	row := func(w, m, x, y, r string) { fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s |\n", w, m, x, y, r) }
	for _, w := range names {
		x, y := a[w], b[w]
		switch {
		case x.MBps > 0: // throughput (cat, upload, download)
			row(w, "MB/s (best)", fmt.Sprintf("%.0f", x.MBps), fmt.Sprintf("%.0f", y.MBps), aheadRatio(x.MBps, y.MBps))
		case strings.HasPrefix(w, "image.list_walk_"):
			row(w, "best walk (s)", fmt.Sprintf("%.3f", x.DurationS), fmt.Sprintf("%.3f", y.DurationS), aheadRatio(y.DurationS, x.DurationS))
		default: // create, first page: latency and rate
			row(w, "p50 ms", fmt.Sprintf("%.2f", x.P50ms), fmt.Sprintf("%.2f", y.P50ms), aheadRatio(y.P50ms, x.P50ms))
			row(w, "p99 ms", fmt.Sprintf("%.2f", x.P99ms), fmt.Sprintf("%.2f", y.P99ms), aheadRatio(y.P99ms, x.P99ms))
			row(w, "ops/s", fmt.Sprintf("%.0f", x.OpsPerS), fmt.Sprintf("%.0f", y.OpsPerS), aheadRatio(x.OpsPerS, y.OpsPerS))
		}
		if x.ServerCPUmsPerOp != nil && y.ServerCPUmsPerOp != nil {
			row(w, "server CPU ms/op", fmt.Sprintf("%.1f", *x.ServerCPUmsPerOp), fmt.Sprintf("%.1f", *y.ServerCPUmsPerOp), aheadRatio(*y.ServerCPUmsPerOp, *x.ServerCPUmsPerOp))
		}
	}
	return sb.String()
}
