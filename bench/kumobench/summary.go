package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

type record = map[string]any

// readRuns returns the JSON lines of path grouped by "run", and the run of
// the last line.
func readRuns(path string) (map[string][]record, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	runs := map[string][]record{}
	last := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m record
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		r, _ := m["run"].(string)
		runs[r] = append(runs[r], m)
		last = r
	}
	return runs, last, sc.Err()
}

func fnum(m record, k string) (float64, bool) {
	v, ok := m[k].(float64)
	return v, ok
}

func fstr(m record, k string) string {
	s, _ := m[k].(string)
	return s
}

type wlKey struct {
	workload string
	conc     int
}

func steps(recs []record) map[wlKey]record {
	out := map[wlKey]record{}
	for _, m := range recs {
		w := fstr(m, "workload")
		// image.* steps have no Keystone counterpart (kumobench image prints them).
		if w == "" || w == "meta" || w == "machine" || w == "memory" || w == "coldstart" || fstr(m, "skipped") != "" ||
			strings.HasPrefix(w, "image.") {
			continue
		}
		c, _ := fnum(m, "concurrency")
		out[wlKey{w, int(c)}] = m
	}
	return out
}

func memory(recs []record, label string) record {
	for _, m := range recs {
		if fstr(m, "workload") == "memory" && fstr(m, "label") == label {
			return m
		}
	}
	return nil
}

func coldstart(recs []record, service string) (float64, bool) {
	for _, m := range recs {
		if fstr(m, "workload") == "coldstart" && fstr(m, "service") == service {
			return fnum(m, "cold_start_ms")
		}
	}
	return 0, false
}

func ratio(a, b float64, okA, okB bool) string {
	if !okA || !okB || b == 0 {
		return "-"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f", r)
	default: // e.g. 1/73: easier to read than 0.0137
		return fmt.Sprintf("1/%.0f", 1/r)
	}
}

func cell(m record, k, format string) (string, float64, bool) {
	if m == nil {
		return "-", 0, false
	}
	v, ok := fnum(m, k)
	if !ok {
		return "-", 0, false
	}
	return fmt.Sprintf(format, v), v, true
}

func summaryCmd(args []string) int {
	fs := flag.NewFlagSet("summary", flag.ExitOnError)
	anchors := fs.String("anchors", "", "anchor results (JSON lines)")
	anchorRun := fs.String("anchor-run", "", "anchor run id (default: the file's last run)")
	kumoFile := fs.String("kumo", "", "kumo results (JSON lines)")
	kumoRun := fs.String("kumo-run", "", "kumo run id (default: the file's last run)")
	ksRescope := fs.String("keystone-rescope", "", "optional: Keystone rescope results (its last run is used)")
	fs.Parse(args)
	if *anchors == "" || *kumoFile == "" {
		return fail(fmt.Errorf("summary needs -anchors and -kumo"))
	}
	aRuns, aLast, err := readRuns(*anchors)
	if err != nil {
		return fail(err)
	}
	kRuns, kLast, err := readRuns(*kumoFile)
	if err != nil {
		return fail(err)
	}
	if *anchorRun == "" {
		*anchorRun = aLast
	}
	if *kumoRun == "" {
		*kumoRun = kLast
	}
	a, k := aRuns[*anchorRun], kRuns[*kumoRun]
	if a == nil || k == nil {
		return fail(fmt.Errorf("run %q or %q not found", *anchorRun, *kumoRun))
	}
	as, ks := steps(a), steps(k)
	if *ksRescope != "" {
		rr, last, err := readRuns(*ksRescope)
		if err != nil {
			return fail(err)
		}
		for key, m := range steps(rr[last]) {
			as[key] = m
		}
	}

	fmt.Printf("## kumo (%s) vs Keystone anchor (%s)\n\n", *kumoRun, *anchorRun)
	fmt.Println("Ratios are kumo / Keystone: above 1 means kumo does more ops/s, or uses more time, CPU or memory.")
	fmt.Println()
	fmt.Println("| workload | conc | kumo ops/s | Keystone ops/s | ops/s ratio | kumo p50 ms | Keystone p50 ms | kumo p99 ms | Keystone p99 ms | kumo CPU ms/op | Keystone CPU ms/op | CPU/op ratio |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var keys []wlKey
	for key := range ks {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].workload != keys[j].workload {
			return keys[i].workload < keys[j].workload
		}
		return keys[i].conc < keys[j].conc
	})
	for _, key := range keys {
		km, am := ks[key], as[key]
		kOps, kv, kok := cell(km, "ops_per_s", "%.1f")
		aOps, av, aok := cell(am, "ops_per_s", "%.1f")
		kP50, _, _ := cell(km, "p50_ms", "%.1f")
		aP50, _, _ := cell(am, "p50_ms", "%.1f")
		kP99, _, _ := cell(km, "p99_ms", "%.1f")
		aP99, _, _ := cell(am, "p99_ms", "%.1f")
		kCPU, kc, kcok := cell(km, "server_cpu_ms_per_op", "%.2f")
		aCPU, ac, acok := cell(am, "server_cpu_ms_per_op", "%.1f")
		errs := ""
		if e, _ := fnum(km, "errors"); e > 0 {
			errs = fmt.Sprintf(" (%d errors)", int(e))
		}
		fmt.Printf("| %s | %d | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", key.workload, key.conc,
			kOps, errs, aOps, ratio(kv, av, kok, aok), kP50, aP50, kP99, aP99, kCPU, aCPU, ratio(kc, ac, kcok, acok))
	}
	fmt.Println()

	fmt.Println("| memory and start | kumo | Keystone | ratio |")
	fmt.Println("|---|---:|---:|---:|")
	for _, label := range []string{"idle", "after-load"} {
		km, am := memory(k, label), memory(a, label)
		if km == nil {
			continue
		}
		kr, kok := fnum(km, "rss_kib")
		kp, _ := fnum(km, "pss_kib")
		var ksOnly, stack float64
		var ksOK, stackOK bool
		if am != nil {
			if bs, ok := am["by_service"].(map[string]any); ok {
				for name, v := range bs {
					m, _ := v.(map[string]any)
					r, _ := fnum(m, "rss_kib")
					switch name {
					case "keystone":
						ksOnly, ksOK = r, true
						stack += r
						stackOK = true
					case "mariadb", "memcached":
						stack += r
					}
				}
			}
		}
		fmt.Printf("| RSS MiB, %s: kumo (all services) vs Keystone's 9 uWSGI processes | %.0f (PSS %.0f) | %s | %s |\n",
			label, kr/1024, kp/1024, mib(ksOnly, ksOK), ratio(kr, ksOnly, kok, ksOK))
		fmt.Printf("| RSS MiB, %s: kumo vs Keystone + MariaDB + memcached | %.0f | %s | %s |\n",
			label, kr/1024, mib(stack, stackOK), ratio(kr, stack, kok, stackOK))
	}
	if m := memory(k, "idle-vmrss"); m != nil {
		v, _ := fnum(m, "rss_kib")
		fmt.Printf("| VmRSS MiB of the kumo process after %v s idle (/proc/PID/status) | %.1f | - | - |\n", m["idle_s"], v/1024)
	}
	kRestart, kok := coldstart(k, "kumo")
	aCold, aok := coldstart(a, "keystone")
	if kok {
		fmt.Printf("| cold start ms (restart on existing data, spawn to first answer on /v3) | %.0f | %s | %s |\n",
			kRestart, msCell(aCold, aok), ratio(kRestart, aCold, kok, aok))
	}
	if v, ok := coldstart(k, "kumo-first-start"); ok {
		fmt.Printf("| first start ms (empty data dir: migrations, keys, bootstrap) | %.0f | - | - |\n", v)
	}
	fmt.Println()
	return 0
}

func mib(kib float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f", kib/1024)
}

func msCell(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}
