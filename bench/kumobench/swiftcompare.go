package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// swiftcompare puts a kumo object-store run and a Debian Swift run of
// loadgen's swift workloads side by side, with the ratios issue 4 sets as
// goals: 4 KiB ops/s >= 10x Swift, 64 MiB MB/s >= 2x, the full listing of
// 10,000 objects >= 5x faster. CPU is server CPU ms per operation, with
// the ratio Swift/kumo (above 1: kumo spends less).
//
// main.go has no case for it (bench/kumobench/main.go is not this file's
// owner's to edit), so init dispatches it before main runs.
func swiftCompareCmd(args []string, w io.Writer) int {
	fs := flag.NewFlagSet("swiftcompare", flag.ExitOnError)
	kumoFile := fs.String("kumo", "", "JSON lines file of the kumo run")
	kumoRun := fs.String("kumo-run", "", "run id of the kumo run (default: the file's last run)")
	swiftFile := fs.String("swift", "", "JSON lines file of the Swift run")
	swiftRun := fs.String("swift-run", "", "run id of the Swift run, or ids joined by commas (default: the file's last run)")
	fs.Parse(args)
	if *kumoFile == "" || *swiftFile == "" {
		return fail(errors.New("-kumo and -swift are required"))
	}
	k, kr, err := pickRun(*kumoFile, *kumoRun)
	if err != nil {
		return fail(err)
	}
	s, sr, err := pickRun(*swiftFile, *swiftRun)
	if err != nil {
		return fail(err)
	}
	fmt.Fprint(w, swiftCompareTable(k, s, kr, sr))
	return 0
}

// pickRun returns the lines of run in path; run may list several ids
// ("a,b"), whose lines are joined in that order (a later step replaces an
// earlier one: e.g. a listing measured again on its own).
func pickRun(path, run string) ([]record, string, error) {
	runs, last, err := readRuns(path)
	if err != nil {
		return nil, "", err
	}
	if run == "" {
		run = last
	}
	var recs []record
	for _, id := range strings.Split(run, ",") {
		r, ok := runs[id]
		if !ok {
			return nil, "", fmt.Errorf("%s: no run %q", path, id)
		}
		recs = append(recs, r...)
	}
	return recs, run, nil
}

// swiftGoal is issue 4's target ratio for a workload, and what it is of.
func swiftGoal(workload string) (float64, string) {
	switch {
	case strings.HasSuffix(workload, "_4KiB"):
		return 10, "ops/s"
	case strings.HasSuffix(workload, "_64MiB"):
		return 2, "MB/s"
	case strings.HasPrefix(workload, "swift.list_full"):
		return 5, "listings/s"
	}
	return 0, ""
}

func swiftCompareTable(kumo, swift []record, kumoRun, swiftRun string) string {
	var b strings.Builder
	ks, ss := steps(kumo), steps(swift)
	fmt.Fprintf(&b, "kumo run %s, Swift run %s (ratio: kumo/Swift for throughput, Swift/kumo for CPU)\n\n", kumoRun, swiftRun)
	for _, recs := range [][]record{kumo, swift} {
		for _, m := range recs {
			if fstr(m, "workload") == "machine" && fstr(m, "loadavg") != "" {
				fmt.Fprintf(&b, "- %s %s: load average %s\n", fstr(m, "run"), fstr(m, "label"), fstr(m, "loadavg"))
			}
		}
	}
	b.WriteString("\n| workload | conc | kumo | Swift | kumo/Swift | goal | kumo p99 ms | Swift p99 ms | kumo CPU ms/op | Swift CPU ms/op | CPU Swift/kumo |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n")
	var met, missed []string
	for _, key := range orderedKeys(ks) {
		if !strings.HasPrefix(key.workload, "swift.") {
			continue
		}
		km, sm := ks[key], ss[key]
		if sm == nil {
			continue
		}
		field, unit := "ops_per_s", "ops/s"
		if strings.HasSuffix(key.workload, "_64MiB") {
			field, unit = "mb_per_s", "MB/s"
		}
		kv, kok := fnum(km, field)
		sv, sok := fnum(sm, field)
		goal, _ := swiftGoal(key.workload)
		r := ratio(kv, sv, kok, sok)
		verdict := "-"
		if failed := stepFailed(km, sm); failed != "" {
			verdict = failed
		} else if goal > 0 && kok && sok && sv > 0 {
			name := fmt.Sprintf("%s c=%d: %sx (goal %gx)", key.workload, key.conc, r, goal)
			if kv/sv >= goal {
				verdict = fmt.Sprintf(">= %gx: met", goal)
				met = append(met, name)
			} else {
				verdict = fmt.Sprintf(">= %gx: not met", goal)
				missed = append(missed, name)
			}
		}
		kp, _, _ := cell(km, "p99_ms", "%.1f")
		sp, _, _ := cell(sm, "p99_ms", "%.1f")
		kc, kcv, kcok := cell(km, "server_cpu_ms_per_op", "%.2f")
		sc, scv, scok := cell(sm, "server_cpu_ms_per_op", "%.2f")
		fmt.Fprintf(&b, "| %s | %d | %.1f %s | %.1f %s | %s | %s | %s | %s | %s | %s | %s |\n",
			key.workload, key.conc, kv, unit, sv, unit, r, verdict, kp, sp, kc, sc, ratio(scv, kcv, scok, kcok))
	}
	fmt.Fprintf(&b, "\ngoals met: %d, not met: %d\n", len(met), len(missed))
	for _, m := range missed {
		fmt.Fprintf(&b, "- not met: %s\n", m)
	}
	return b.String()
}

// stepFailed names the side whose step has no successful operation (e.g.
// a listing whose container could not be filled in time), or "".
func stepFailed(kumo, swift record) string {
	for _, side := range []struct {
		name string
		m    record
	}{{"kumo", kumo}, {"Swift", swift}} {
		if ops, _ := fnum(side.m, "ops"); ops == 0 {
			errs, _ := fnum(side.m, "errors")
			return fmt.Sprintf("%s step failed (%.0f errors)", side.name, errs)
		}
	}
	return ""
}

// orderedKeys lists the 4 KiB steps by concurrency (PUT, GET, HEAD,
// DELETE at each, as the anchors' table), then the 64 MiB ones, then the
// rest.
func orderedKeys(m map[wlKey]record) []wlKey {
	keys := make([]wlKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	op := map[string]int{"swift.put_4KiB": 0, "swift.get_4KiB": 1, "swift.head_4KiB": 2, "swift.delete_4KiB": 3,
		"swift.put_64MiB": 0, "swift.get_64MiB": 1}
	rank := func(k wlKey) string {
		group := 2
		switch {
		case strings.HasSuffix(k.workload, "_4KiB"):
			group = 0
		case strings.HasSuffix(k.workload, "_64MiB"):
			group = 1
		}
		return fmt.Sprintf("%d%06d%d%s", group, k.conc, op[k.workload], k.workload)
	}
	sort.Slice(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	return keys
}
