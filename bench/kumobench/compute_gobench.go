package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// goBenchPart turns the result lines of `go test -bench` (file in, "-" for
// stdin) into JSON lines: workload "go.<Benchmark name>", ns/op and every
// custom metric (placements/s...) under its unit.
func (b *computeBench) goBenchPart(in string) int {
	var r io.Reader = os.Stdin
	if in != "" && in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		r = f
	}
	lines, err := parseGoBench(r)
	if err != nil {
		return fail(err)
	}
	if len(lines) == 0 {
		return fail(fmt.Errorf("%s: no benchmark result line", in))
	}
	for _, l := range lines {
		b.emitRaw(l)
	}
	return 0
}

// parseGoBench reads "BenchmarkX-2  N  123 ns/op  456 unit ..." lines.
func parseGoBench(r io.Reader) ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		iters, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		m := map[string]any{"workload": "go." + name, "iterations": iters}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("bad value %q in %q", f[i], sc.Text())
			}
			m[f[i+1]] = v
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
