package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// namedPID is one "name pid" line of a pids file (loadgen's format).
type namedPID struct {
	name string
	pid  int
}

func loadPids(path string) ([]namedPID, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []namedPID
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s: bad pid %q", path, fields[1])
		}
		out = append(out, namedPID{fields[0], pid})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no \"name pid\" lines", path)
	}
	return out, sc.Err()
}

// clockTicks is USER_HZ, 100 on every Linux kumo runs on.
const clockTicks = 100

// procStat returns the parent pid and the user+system CPU seconds of pid.
func procStat(pid int) (ppid int, cpu float64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return ppid, (ut + st) / clockTicks, true
}

// cpuTimes returns the CPU seconds used so far by each named process and
// its live descendants.
func cpuTimes(procs []namedPID) map[string]float64 {
	if len(procs) == 0 {
		return nil
	}
	children := map[int][]int{}
	cpu := map[int]float64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, c, ok := procStat(pid); ok {
			children[ppid] = append(children[ppid], pid)
			cpu[pid] = c
		}
	}
	out := map[string]float64{}
	for _, p := range procs {
		seen := map[int]bool{}
		stack := []int{p.pid}
		for len(stack) > 0 && len(seen) < 10000 {
			pid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			out[p.name] += cpu[pid]
			stack = append(stack, children[pid]...)
		}
	}
	return out
}
