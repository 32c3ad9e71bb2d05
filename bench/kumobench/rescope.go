package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// creds are the OS_* variables of an openrc.
type creds struct {
	authURL, user, password, userDomain, project, projectDomain string
}

func credsFromEnv() (creds, error) {
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	c := creds{
		authURL: strings.TrimRight(os.Getenv("OS_AUTH_URL"), "/"), user: os.Getenv("OS_USERNAME"),
		password: os.Getenv("OS_PASSWORD"), userDomain: get("OS_USER_DOMAIN_NAME", "Default"),
		project: os.Getenv("OS_PROJECT_NAME"), projectDomain: get("OS_PROJECT_DOMAIN_NAME", "Default"),
	}
	if c.authURL == "" || c.user == "" || c.password == "" || c.project == "" {
		return c, errors.New("OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME must be set")
	}
	if !strings.HasSuffix(c.authURL, "/v3") {
		c.authURL += "/v3"
	}
	return c, nil
}

func (c creds) scope() map[string]any {
	return map[string]any{"project": map[string]any{"name": c.project, "domain": map[string]string{"name": c.projectDomain}}}
}

func (c creds) passwordBody() []byte {
	b, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": c.user, "domain": map[string]string{"name": c.userDomain}, "password": c.password}}},
		"scope": c.scope(),
	}})
	return b
}

// tokenBody is a "token" method request: the same project scope, proven by
// an existing token instead of a password (no password hashing).
func (c creds) tokenBody(token string) []byte {
	b, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"token"}, "token": map[string]string{"id": token}},
		"scope":    c.scope(),
	}})
	return b
}

// issue posts body to /auth/tokens and returns the new token.
func issue(ctx context.Context, hc *http.Client, authURL string, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// Read the whole answer (token and catalog): a client does.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	tok := resp.Header.Get("X-Subject-Token")
	if tok == "" {
		return "", errors.New("no X-Subject-Token in the answer")
	}
	return tok, nil
}

// stepLine is one measured step, in loadgen's JSON line format so that
// `loadgen table` reads it too.
type stepLine struct {
	TS               string             `json:"ts"`
	Run              string             `json:"run,omitempty"`
	Target           string             `json:"target,omitempty"`
	Workload         string             `json:"workload"`
	Concurrency      int                `json:"concurrency"`
	DurationS        float64            `json:"duration_s"`
	Ops              int64              `json:"ops"`
	Errors           int64              `json:"errors"`
	OpsPerS          float64            `json:"ops_per_s"`
	P50ms            float64            `json:"p50_ms"`
	P90ms            float64            `json:"p90_ms"`
	P99ms            float64            `json:"p99_ms"`
	MaxMs            float64            `json:"max_ms"`
	MeanMs           float64            `json:"mean_ms"`
	ErrSample        string             `json:"error_sample,omitempty"`
	Note             string             `json:"note,omitempty"`
	ServerCPUs       *float64           `json:"server_cpu_s,omitempty"`
	ServerCPUByProc  map[string]float64 `json:"server_cpu_s_by_service,omitempty"`
	ServerCPUmsPerOp *float64           `json:"server_cpu_ms_per_op,omitempty"`
}

func rescopeCmd(args []string) int {
	fs := flag.NewFlagSet("rescope", flag.ExitOnError)
	conc := fs.String("concurrency", "1,8,32", "concurrency levels")
	dur := fs.Duration("duration", 10*time.Second, "time cap of each step")
	warmup := fs.Duration("warmup", time.Second, "unrecorded warm-up before each step (0: none)")
	maxOps := fs.Int64("max-ops", 200000, "cap on operations per step")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout")
	maxRuntime := fs.Duration("max-runtime", 5*time.Minute, "hard cap on the whole run")
	pids := fs.String("pids", "", "file of \"name pid\" lines: server CPU time of these process trees per step")
	target := fs.String("target", "", "label written into every JSON line")
	run := fs.String("run", "", "run id written into every JSON line")
	out := fs.String("out", "", "also append JSON lines to this file")
	fs.Parse(args)

	levels, err := parseInts(*conc)
	if err != nil {
		return fail(err)
	}
	c, err := credsFromEnv()
	if err != nil {
		return fail(err)
	}
	var procs []namedPID
	if *pids != "" {
		if procs, err = loadPids(*pids); err != nil {
			return fail(err)
		}
	}
	var outFile *os.File
	if *out != "" {
		if outFile, err = os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return fail(err)
		}
		defer outFile.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxRuntime)
	defer cancel()
	maxc := 1
	for _, l := range levels {
		maxc = max(maxc, l)
	}
	hc := &http.Client{Transport: &http.Transport{
		Proxy:               nil, // targets are local
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        2 * maxc,
		MaxIdleConnsPerHost: 2 * maxc,
		DisableCompression:  true,
	}}
	ictx, icancel := context.WithTimeout(ctx, *timeout)
	base, err := issue(ictx, hc, c.authURL, c.passwordBody())
	icancel()
	if err != nil {
		return fail(fmt.Errorf("password token from %s: %w", c.authURL, err))
	}
	body := c.tokenBody(base)
	op := func(ctx context.Context) error {
		rctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		_, err := issue(rctx, hc, c.authURL, body)
		return err
	}
	status := 0
	for _, n := range levels {
		if ctx.Err() != nil {
			status = 3
			break
		}
		if *warmup > 0 {
			runStep(ctx, n, *warmup, *maxOps, op)
		}
		cpu0 := cpuTimes(procs)
		r := runStep(ctx, n, *dur, *maxOps, op)
		line := r.line("keystone.token_rescope", n)
		line.Run, line.Target = *run, *target
		line.Note = "POST /v3/auth/tokens, method token, same project scope, response with catalog"
		if procs != nil {
			cpu1 := cpuTimes(procs)
			total := 0.0
			line.ServerCPUByProc = map[string]float64{}
			for name, v := range cpu1 {
				d := round(v-cpu0[name], 3)
				line.ServerCPUByProc[name] = d
				total += d
			}
			total = round(total, 3)
			line.ServerCPUs = &total
			if r.ops > 0 {
				per := round(total*1000/float64(r.ops), 3)
				line.ServerCPUmsPerOp = &per
			}
		}
		b, _ := json.Marshal(line)
		fmt.Println(string(b))
		if outFile != nil {
			outFile.Write(append(b, '\n'))
		}
		if r.ops == 0 {
			status = 1
		}
	}
	return status
}

type stepResult struct {
	ops, errors int64
	lat         []time.Duration
	elapsed     time.Duration
	errSample   string
}

// runStep runs op from n goroutines until d has passed or maxOps operations
// have started; operations already running when the cap hits may finish.
func runStep(ctx context.Context, n int, d time.Duration, maxOps int64, op func(context.Context) error) stepResult {
	var started, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var sample string
	deadline := time.Now().Add(d)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= maxOps {
				s := time.Now()
				err := op(ctx)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if sample == "" {
						sample = err.Error()
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(s))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return stepResult{ops: int64(len(lat)), errors: errs.Load(), lat: lat, elapsed: time.Since(t0), errSample: sample}
}

func (r stepResult) line(workload string, n int) stepLine {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	var sum time.Duration
	for _, l := range r.lat {
		sum += l
	}
	ms := func(d time.Duration) float64 { return round(float64(d)/1e6, 2) }
	l := stepLine{
		TS: time.Now().UTC().Format(time.RFC3339), Workload: workload, Concurrency: n,
		DurationS: round(r.elapsed.Seconds(), 3), Ops: r.ops, Errors: r.errors, ErrSample: r.errSample,
		OpsPerS: round(float64(r.ops)/r.elapsed.Seconds(), 2),
		P50ms:   ms(percentile(r.lat, 0.50)), P90ms: ms(percentile(r.lat, 0.90)), P99ms: ms(percentile(r.lat, 0.99)),
	}
	if len(r.lat) > 0 {
		l.MaxMs = ms(r.lat[len(r.lat)-1])
		l.MeanMs = ms(sum / time.Duration(len(r.lat)))
	}
	return l
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("bad concurrency %q (1..1024)", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no concurrency level")
	}
	return out, nil
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "kumobench:", err)
	return 2
}
