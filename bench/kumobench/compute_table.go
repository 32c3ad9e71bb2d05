package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// tablePart prints the compute lines of run in file in as a Markdown table.
func (b *computeBench) tablePart(in, run string) int {
	f, err := os.Open(in)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	t, err := computeTable(f, run)
	if err != nil {
		return fail(err)
	}
	fmt.Print(t)
	return 0
}

// computeTable renders the compute.* and go.* lines of run.
func computeTable(r io.Reader, run string) (string, error) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "## compute (%s)\n\n", run)
	sb.WriteString("| workload | c | result | p50 ms | p99 ms | server CPU ms/op | goal | met | load avg |\n|---|---:|---:|---:|---:|---:|---|---|---|\n")
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	rows := 0
	for sc.Scan() {
		var m record
		if json.Unmarshal(sc.Bytes(), &m) != nil || fstr(m, "run") != run {
			continue
		}
		w := fstr(m, "workload")
		if !strings.HasPrefix(w, "compute.") && !strings.HasPrefix(w, "go.") {
			continue
		}
		num := func(k, format string) string {
			if v, ok := fnum(m, k); ok {
				return fmt.Sprintf(format, v)
			}
			return ""
		}
		result := num("placements/s", "%.0f placements/s")
		if v := num("per_s", "%.1f/s"); v != "" {
			result = v
		} else if v := num("median_ms", "median %.0f ms"); v != "" {
			result = v
		} else if result == "" {
			result = num("ops_per_s", "%.1f req/s")
		}
		if v := num("instances", "%.0f instances"); v != "" {
			result += ", " + v
		}
		if v := num("hosts", "%.0f hosts"); v != "" {
			result += ", " + v
		}
		if v, ok := fnum(m, "overcommitted_hosts"); ok {
			result += fmt.Sprintf(", %.0f over capacity", v)
		}
		if v, ok := fnum(m, "qemu_left"); ok {
			result += fmt.Sprintf(", %.0f QEMU left", v)
		}
		met := ""
		if v, ok := m["goal_met"].(bool); ok {
			met = map[bool]string{true: "yes", false: "**no**"}[v]
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, num("concurrency", "%.0f"), result, num("p50_ms", "%.1f"), num("p99_ms", "%.1f"),
			num("server_cpu_ms_per_op", "%.2f"), fstr(m, "goal"), met, fstr(m, "loadavg"))
		rows++
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if rows == 0 {
		return "", fmt.Errorf("no compute line of run %q", run)
	}
	return sb.String(), nil
}
