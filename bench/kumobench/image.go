package main

import (
	"bytes"
	"context"
	"crypto/md5"
	crand "crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The image workload (issue 3, "Must show" 4):
//
//  1. the ceiling: a SIZE random file in a temp dir, `cat file > /dev/null`
//     timed (best of -repeat; the page cache is left as it is);
//  2. PUT /v2/images/{id}/file of that file and GET .../file (body read to
//     the end and discarded), best of -repeat each, as MB/s and as a share
//     of the cat ceiling; with the single-core MD5 and SHA-512 rates of this
//     machine, which the server computes while it streams an upload;
//  3. -images metadata-only images (POST /v2/images at -create-concurrency),
//     then GET /v2/images?limit=25 (-list-requests at -list-concurrency,
//     p50/p99) and a walk of every page with limit=1000 and the next links.
//
// MB is 10^6 bytes.

type imageLine struct {
	stepLine
	ObjectSize   int64     `json:"object_size,omitempty"`
	MBps         float64   `json:"mb_per_s,omitempty"`
	RunsMBps     []float64 `json:"runs_mb_per_s,omitempty"`
	CeilingMBps  float64   `json:"ceiling_mb_per_s,omitempty"`
	PctOfCeiling float64   `json:"pct_of_ceiling,omitempty"`
	BodySentS    float64   `json:"body_sent_s,omitempty"`
	ClientCPUs   *float64  `json:"client_cpu_s,omitempty"`
	Images       int       `json:"images,omitempty"`
	Pages        int       `json:"pages,omitempty"`
	RunsS        []float64 `json:"runs_s,omitempty"`
}

type imageBench struct {
	hc       *http.Client
	base     string // image endpoint, no /v2
	token    string
	timeout  time.Duration
	procs    []namedPID
	run, tgt string
	out      *os.File
	lines    []imageLine
	created  []string // the list part's images (-cleanup deletes them)
}

func imageCmd(args []string) int {
	fs := flag.NewFlagSet("image", flag.ExitOnError)
	sizeMiB := fs.Int("size-mib", 1024, "size of the image file in MiB")
	repeat := fs.Int("repeat", 3, "runs of cat, upload and download (the best counts)")
	dir := fs.String("dir", "", "parent of the temp dir for the image file (default: $TMPDIR)")
	nImages := fs.Int("images", 10000, "metadata-only images to create for the list measures (0: skip the list part)")
	createConc := fs.Int("create-concurrency", 8, "concurrency of the image creation")
	listReqs := fs.Int64("list-requests", 2000, "first-page list requests")
	listConc := fs.Int("list-concurrency", 8, "concurrency of the first-page list requests")
	walks := fs.Int("walks", 3, "full paged walks (limit=1000); the best counts")
	skipData := fs.Bool("skip-data", false, "skip the cat / upload / download part")
	timeout := fs.Duration("timeout", 5*time.Minute, "per-request timeout")
	maxRuntime := fs.Duration("max-runtime", 20*time.Minute, "hard cap on the whole run")
	pids := fs.String("pids", "", "file of \"name pid\" lines: server CPU time of these process trees per step")
	target := fs.String("target", "", "label written into every JSON line")
	run := fs.String("run", "", "run id written into every JSON line")
	out := fs.String("out", "", "also append JSON lines to this file")
	table := fs.String("table", "", "also write the summary table to this file")
	endpoint := fs.String("endpoint", "", "image endpoint (loopback) instead of the catalog's, e.g. a glance-api beside the Keystone of OS_AUTH_URL")
	cleanup := fs.Bool("cleanup", false, "delete the list images at the end (for a server whose data outlives the run)")
	fs.Parse(args)
	if *sizeMiB < 1 || *repeat < 1 || *createConc < 1 || *listConc < 1 || *listReqs < 1 || *walks < 1 || *nImages < 0 {
		return fail(errors.New("sizes, counts and concurrencies must be positive"))
	}

	c, err := credsFromEnv()
	if err != nil {
		return fail(err)
	}
	b := &imageBench{timeout: *timeout, run: *run, tgt: *target}
	if *pids != "" {
		if b.procs, err = loadPids(*pids); err != nil {
			return fail(err)
		}
	}
	if *out != "" {
		if b.out, err = os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return fail(err)
		}
		defer b.out.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxRuntime)
	defer cancel()
	maxc := max(*createConc, *listConc)
	b.hc = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // targets are local
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        2 * maxc,
		MaxIdleConnsPerHost: 2 * maxc,
		DisableCompression:  true,
	}}
	ictx, icancel := context.WithTimeout(ctx, 30*time.Second)
	typ := "image"
	if *endpoint != "" {
		typ = "" // token only
	}
	b.token, b.base, err = tokenAndEndpoint(ictx, b.hc, c, typ)
	icancel()
	if err != nil {
		return fail(err)
	}
	if *endpoint != "" {
		if b.base, err = loopbackURL(*endpoint); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(os.Stderr, "kumobench image: image endpoint %s\n", b.base)

	var rows [][]string
	status := 0
	load0 := loadavg()
	if !*skipData {
		r, err := b.dataPart(ctx, *dir, int64(*sizeMiB)<<20, *repeat)
		rows = append(rows, r...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kumobench image:", err)
			status = 1
		}
	}
	if *nImages > 0 && ctx.Err() == nil {
		r, err := b.listPart(ctx, *nImages, *createConc, *listReqs, *listConc, *walks)
		rows = append(rows, r...)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kumobench image:", err)
			status = 1
		}
		if *cleanup {
			// Bounded by its own deadline: leftovers only slow a later run.
			cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
			if err := b.deleteAll(cctx, *createConc); err != nil {
				fmt.Fprintln(os.Stderr, "kumobench image: cleanup:", err)
				status = 1
			}
			ccancel()
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "kumobench image: stopped by -max-runtime %s\n", *maxRuntime)
		status = 3
	}
	var sb strings.Builder
	label := *target
	if label == "" {
		label = "kumo"
	}
	fmt.Fprintf(&sb, "## %s image service (%s, %s); MB = 10^6 bytes; loadavg at start %s, at end %s\n\n", label, *run, b.base, load0, loadavg())
	sb.WriteString("| measure | result | runs | vs cat | goal |\n|---|---:|---|---:|---|\n")
	for _, r := range rows {
		sb.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	fmt.Println()
	fmt.Print(sb.String())
	if *table != "" {
		if err := os.WriteFile(*table, []byte(sb.String()), 0o644); err != nil {
			return fail(err)
		}
	}
	return status
}

// tokenAndEndpoint gets a project-scoped password token and the public URL
// of the first catalog service of type typ; that URL must be on loopback.
// With typ "", only the token.
func tokenAndEndpoint(ctx context.Context, hc *http.Client, c creds, typ string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.authURL+"/auth/tokens", bytes.NewReader(c.passwordBody()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("token: status %d: %.200s", resp.StatusCode, raw)
	}
	var body struct {
		Token struct {
			Catalog []struct {
				Type      string `json:"type"`
				Endpoints []struct {
					Interface string `json:"interface"`
					URL       string `json:"url"`
				} `json:"endpoints"`
			} `json:"catalog"`
		} `json:"token"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return "", "", fmt.Errorf("token answer: %w", err)
	}
	tok := resp.Header.Get("X-Subject-Token")
	if typ == "" {
		return tok, "", nil
	}
	for _, s := range body.Token.Catalog {
		if s.Type != typ {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Interface != "public" {
				continue
			}
			base, err := loopbackURL(e.URL)
			if err != nil {
				return "", "", fmt.Errorf("%s endpoint: %w", typ, err)
			}
			return tok, base, nil
		}
	}
	return "", "", fmt.Errorf("no public %q endpoint in the catalog", typ)
}

// loopbackURL checks that an image endpoint is on loopback (the benchmark
// loads it) and returns it without a trailing /v2.
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%s is not on loopback: refusing to load it", raw)
	}
	return strings.TrimSuffix(strings.TrimRight(raw, "/"), "/v2"), nil
}

// do sends a JSON (or empty) request and returns status and body.
func (b *imageBench) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Auth-Token", b.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, raw, err
}

func (b *imageBench) createImage(ctx context.Context, name string) (string, error) {
	st, raw, err := b.do(ctx, http.MethodPost, "/v2/images", map[string]any{"name": name, "disk_format": "raw", "container_format": "bare"})
	if err != nil {
		return "", err
	}
	if st != http.StatusCreated {
		return "", fmt.Errorf("POST /v2/images: status %d: %.200s", st, raw)
	}
	var im struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &im); err != nil || im.ID == "" {
		return "", fmt.Errorf("POST /v2/images: no id in %.200s", raw)
	}
	return im.ID, nil
}

func (b *imageBench) deleteImage(ctx context.Context, id string) error {
	st, raw, err := b.do(ctx, http.MethodDelete, "/v2/images/"+id, nil)
	if err == nil && st != http.StatusNoContent {
		err = fmt.Errorf("DELETE image %s: status %d: %.200s", id, st, raw)
	}
	return err
}

// emit stamps, prints and stores one JSON line.
func (b *imageBench) emit(l imageLine) {
	l.TS, l.Run, l.Target = time.Now().UTC().Format(time.RFC3339), b.run, b.tgt
	if l.Concurrency == 0 {
		l.Concurrency = 1
	}
	raw, _ := json.Marshal(l)
	fmt.Println(string(raw))
	if b.out != nil {
		b.out.Write(append(raw, '\n'))
	}
	b.lines = append(b.lines, l)
}

// cpuMark is the CPU time of the server trees and of this process.
type cpuMark struct {
	server map[string]float64
	self   float64
}

func (b *imageBench) cpu() cpuMark {
	_, self, _ := procStat(os.Getpid())
	return cpuMark{cpuTimes(b.procs), self}
}

// since fills the CPU fields of l with the use since m.
func (b *imageBench) since(m cpuMark, l *imageLine) {
	now := b.cpu()
	self := round(now.self-m.self, 2)
	l.ClientCPUs = &self
	if b.procs == nil {
		return
	}
	total := 0.0
	l.ServerCPUByProc = map[string]float64{}
	for name, v := range now.server {
		d := round(v-m.server[name], 3)
		l.ServerCPUByProc[name] = d
		total += d
	}
	total = round(total, 3)
	l.ServerCPUs = &total
	if l.Ops > 0 {
		per := round(total*1000/float64(l.Ops), 3)
		l.ServerCPUmsPerOp = &per
	}
}

func sizeLabel(size int64) string {
	if size%(1<<30) == 0 {
		return fmt.Sprintf("%dGiB", size>>30)
	}
	return fmt.Sprintf("%dMiB", size>>20)
}

func mbps(size int64, d time.Duration) float64 { return round(float64(size)/d.Seconds()/1e6, 1) }

// throughput is the line of one best-of-n throughput measure.
func throughput(workload string, size int64, runs []time.Duration, ceiling float64) imageLine {
	sorted := append([]time.Duration(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	best := sorted[0]
	l := imageLine{stepLine: stepLine{Workload: workload, Concurrency: 1, DurationS: round(best.Seconds(), 3),
		Ops: int64(len(runs)), OpsPerS: round(1/best.Seconds(), 3),
		P50ms: round(float64(percentile(sorted, 0.5))/1e6, 1), P90ms: round(float64(percentile(sorted, 0.9))/1e6, 1),
		P99ms: round(float64(percentile(sorted, 0.99))/1e6, 1), MaxMs: round(float64(sorted[len(sorted)-1])/1e6, 1)},
		ObjectSize: size, MBps: mbps(size, best)}
	var sum time.Duration
	for _, d := range runs {
		sum += d
		if size > 0 {
			l.RunsMBps = append(l.RunsMBps, mbps(size, d))
		}
		l.RunsS = append(l.RunsS, round(d.Seconds(), 3))
	}
	l.MeanMs = round(float64(sum/time.Duration(len(runs)))/1e6, 1)
	if ceiling > 0 {
		l.CeilingMBps = ceiling
		l.PctOfCeiling = round(100*l.MBps/ceiling, 1)
	}
	return l
}

func joinF(v []float64, f string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf(f, x)
	}
	return strings.Join(s, ", ")
}

func (b *imageBench) dataPart(ctx context.Context, parent string, size int64, repeat int) (rows [][]string, err error) {
	label := sizeLabel(size)
	tmp, err := os.MkdirTemp(parent, "kumobench-image.")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "image.raw")
	t0 := time.Now()
	md5sum, shasum, err := writeRandom(path, size)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "kumobench image: wrote %d random bytes to %s in %.1f s\n", size, path, time.Since(t0).Seconds())

	// The ceiling: cat, best of repeat.
	var catRuns []time.Duration
	for range repeat {
		d, err := timeCat(ctx, path)
		if err != nil {
			return rows, err
		}
		catRuns = append(catRuns, d)
	}
	cat := throughput("image.cat_"+label, size, catRuns, 0)
	cat.Note = "cat FILE > /dev/null, file in the page cache (nothing dropped)"
	b.emit(cat)
	ceiling := cat.MBps
	rows = append(rows, []string{"`cat` " + label + " > /dev/null (ceiling)", fmt.Sprintf("%.0f MB/s", cat.MBps), joinF(cat.RunsMBps, "%.0f"), "100%", ""})

	// What the server's upload path hashes: one core each, on this machine.
	for _, h := range []struct {
		name string
		new  func() hash.Hash
	}{{"md5", md5.New}, {"sha512", sha512.New}} {
		d, err := timeHash(path, h.new())
		if err != nil {
			return rows, err
		}
		l := throughput("image.local_"+h.name+"_"+label, size, []time.Duration{d}, ceiling)
		l.Note = "this machine's single-core " + h.name + " rate (Go crypto), reading the file from the page cache"
		b.emit(l)
		rows = append(rows, []string{"local " + h.name + " of the file, 1 core (reference)", fmt.Sprintf("%.0f MB/s", l.MBps), "", fmt.Sprintf("%.0f%%", l.PctOfCeiling), ""})
	}

	// Uploads: a new image each time; the last one is kept for downloads.
	var upRuns, sent []time.Duration
	keep := ""
	mark := b.cpu()
	for i := range repeat {
		id, err := b.createImage(ctx, fmt.Sprintf("kumobench-upload-%d", i))
		if err != nil {
			return rows, err
		}
		d, s, err := b.upload(ctx, id, path, size)
		if err != nil {
			_ = b.deleteImage(ctx, id)
			return rows, err
		}
		upRuns, sent = append(upRuns, d), append(sent, s)
		if err := b.checkImage(ctx, id, size, md5sum, shasum); err != nil {
			_ = b.deleteImage(ctx, id)
			return rows, err
		}
		if keep != "" {
			if err := b.deleteImage(ctx, keep); err != nil {
				return rows, err
			}
		}
		keep = id
	}
	defer func() { _ = b.deleteImage(context.WithoutCancel(ctx), keep) }()
	up := throughput("image.upload_"+label, size, upRuns, ceiling)
	b.since(mark, &up)
	bestI := 0
	for i, d := range upRuns {
		if d < upRuns[bestI] {
			bestI = i
		}
	}
	up.BodySentS = round(sent[bestI].Seconds(), 3)
	up.Note = "POST /v2/images (raw, bare) then PUT .../file (Content-Length, the open file as the body): until the 204; the server hashes MD5 and SHA-512, fsyncs, inspects, renames; CPU figures are for all runs"
	b.emit(up)
	goal := func(pct float64) string {
		if pct >= 80 {
			return "≥ 80%: met"
		}
		return "≥ 80%: **not met**"
	}
	rows = append(rows, []string{fmt.Sprintf("upload PUT .../file (body sent after %.2f s of %.2f s)", up.BodySentS, up.DurationS),
		fmt.Sprintf("%.0f MB/s", up.MBps), joinF(up.RunsMBps, "%.0f"), fmt.Sprintf("%.1f%%", up.PctOfCeiling), goal(up.PctOfCeiling)})

	var downRuns []time.Duration
	mark = b.cpu()
	for range repeat {
		d, err := b.download(ctx, keep, size)
		if err != nil {
			return rows, err
		}
		downRuns = append(downRuns, d)
	}
	down := throughput("image.download_"+label, size, downRuns, ceiling)
	b.since(mark, &down)
	down.Note = "GET .../file, body read to the end (1 MiB reads) and discarded; CPU figures are for all runs"
	b.emit(down)
	rows = append(rows, []string{"download GET .../file", fmt.Sprintf("%.0f MB/s", down.MBps), joinF(down.RunsMBps, "%.0f"),
		fmt.Sprintf("%.1f%%", down.PctOfCeiling), goal(down.PctOfCeiling)})

	// References: the same client against a bare net/http server in this
	// process on loopback (no auth, no database, no hashing, no fsync).
	ref, err := b.reference(ctx, tmp, path, size, repeat, ceiling)
	rows = append(rows, ref...)
	return rows, err
}

// reference measures the client's PUT and GET of the file against a bare
// Go net/http server on 127.0.0.1 in this process: PUT copies the body to
// a file (no hash, no fsync), GET copies the file to the answer in 1 MiB
// writes (as kumo does).
// It is what HTTP over loopback costs on this machine, client included.
func (b *imageBench) reference(ctx context.Context, dir, path string, size int64, repeat int, ceiling float64) ([][]string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sink := filepath.Join(dir, "reference-upload")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			f, err := os.Create(sink)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			_, err = io.CopyBuffer(struct{ io.Writer }{f}, r.Body, make([]byte, 1<<20))
			f.Close()
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			f, err := os.Open(path)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			w.Header().Set("Content-Length", fmt.Sprint(size))
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{f}, make([]byte, 1<<20))
		}
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	rb := *b
	rb.base, rb.procs, rb.out = "http://"+ln.Addr().String(), nil, b.out
	var up, down []time.Duration
	for range repeat {
		d, _, err := rb.upload(ctx, "ref", path, size)
		if err != nil {
			return nil, fmt.Errorf("reference %w", err)
		}
		up = append(up, d)
		_ = os.Remove(sink)
	}
	for range repeat {
		d, err := rb.download(ctx, "ref", size)
		if err != nil {
			return nil, fmt.Errorf("reference %w", err)
		}
		down = append(down, d)
	}
	label := sizeLabel(size)
	var rows [][]string
	for _, x := range []struct {
		name, what string
		runs       []time.Duration
	}{{"upload", "PUT, body copied to a file, no hash, no fsync", up}, {"download", "GET, file copied to the answer in 1 MiB writes", down}} {
		l := throughput("image.reference_"+x.name+"_"+label, size, x.runs, ceiling)
		l.Note = "bare Go net/http server in kumobench on 127.0.0.1, same client: " + x.what
		b.emit(l)
		rows = append(rows, []string{"reference: bare Go net/http " + x.name + " on loopback (" + x.what + ")",
			fmt.Sprintf("%.0f MB/s", l.MBps), joinF(l.RunsMBps, "%.0f"), fmt.Sprintf("%.1f%%", l.PctOfCeiling), ""})
	}
	return rows, nil
}

// writeRandom writes size random bytes (ChaCha8 seeded from crypto/rand)
// and returns their MD5 and SHA-512.
func writeRandom(path string, size int64) (string, string, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return "", "", err
	}
	src := rand.NewChaCha8(seed)
	f, err := os.Create(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	md, sh := md5.New(), sha512.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		p := buf[:min(int64(len(buf)), left)]
		src.Read(p)
		if _, err := f.Write(p); err != nil {
			return "", "", err
		}
		md.Write(p)
		sh.Write(p)
		left -= int64(len(p))
	}
	if err := f.Close(); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(md.Sum(nil)), hex.EncodeToString(sh.Sum(nil)), nil
}

func timeCat(ctx context.Context, path string) (time.Duration, error) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "cat", path)
	cmd.Stdout, cmd.Stderr = null, os.Stderr
	t := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("cat %s: %w", path, err)
	}
	return time.Since(t), nil
}

func timeHash(path string, h hash.Hash) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	t := time.Now()
	if _, err := io.CopyBuffer(struct{ io.Writer }{h}, struct{ io.Reader }{f}, buf); err != nil {
		return 0, err
	}
	return time.Since(t), nil
}

// upload PUTs the file as the image's data; it returns the time until the
// answer and until the request body was written.
func (b *imageBench) upload(ctx context.Context, id, path string, size int64) (time.Duration, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var wrote atomic.Int64
	start := time.Now()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		wrote.Store(int64(time.Since(start)))
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, b.base+"/v2/images/"+id+"/file", f)
	if err != nil {
		return 0, 0, err
	}
	req.ContentLength = size
	req.Header.Set("X-Auth-Token", b.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("upload: %w", err)
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusNoContent {
		return 0, 0, fmt.Errorf("upload: status %d: %.200s", resp.StatusCode, raw)
	}
	return d, time.Duration(wrote.Load()), nil
}

// checkImage verifies what the server recorded of the upload.
func (b *imageBench) checkImage(ctx context.Context, id string, size int64, md5sum, shasum string) error {
	st, raw, err := b.do(ctx, http.MethodGet, "/v2/images/"+id, nil)
	if err != nil {
		return err
	}
	var im struct {
		Status   string `json:"status"`
		Size     int64  `json:"size"`
		Checksum string `json:"checksum"`
		Hash     string `json:"os_hash_value"`
	}
	if st != http.StatusOK || json.Unmarshal(raw, &im) != nil {
		return fmt.Errorf("GET image %s: status %d: %.200s", id, st, raw)
	}
	if im.Status != "active" || im.Size != size || im.Checksum != md5sum || im.Hash != shasum {
		return fmt.Errorf("image %s after upload: status %s size %d checksum %s: want active, %d, %s (and the SHA-512)", id, im.Status, im.Size, im.Checksum, size, md5sum)
	}
	return nil
}

func (b *imageBench) download(ctx context.Context, id string, size int64) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/v2/images/"+id+"/file", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Auth-Token", b.token)
	start := time.Now()
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return 0, fmt.Errorf("download: status %d: %.200s", resp.StatusCode, raw)
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		m, err := resp.Body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("download after %d bytes: %w", n, err)
		}
	}
	d := time.Since(start)
	if n != size {
		return 0, fmt.Errorf("download: %d bytes, want %d", n, size)
	}
	return d, nil
}

func (b *imageBench) listPart(ctx context.Context, n, createConc int, listReqs int64, listConc, walks int) (rows [][]string, err error) {
	// Creation: n metadata-only images, concurrency createConc.
	var next atomic.Int64
	var bad atomic.Int64
	var mu sync.Mutex
	var sample string
	var lat []time.Duration
	mark := b.cpu()
	t0 := time.Now()
	var wg sync.WaitGroup
	for range createConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil && bad.Load() < 100 {
				i := next.Add(1)
				if i > int64(n) {
					break
				}
				s := time.Now()
				id, err := b.createImage(ctx, fmt.Sprintf("kumobench-list-%05d", i))
				if err != nil {
					bad.Add(1)
					mu.Lock()
					if sample == "" {
						sample = err.Error()
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(s))
				mu.Lock()
				b.created = append(b.created, id)
				mu.Unlock()
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	cr := stepResult{ops: int64(len(lat)), errors: bad.Load(), lat: lat, elapsed: time.Since(t0), errSample: sample}
	cl := imageLine{stepLine: cr.line(fmt.Sprintf("image.create_%d", n), createConc), Images: int(cr.ops)}
	b.since(mark, &cl)
	cl.Note = "POST /v2/images (name, raw, bare; no data)"
	b.emit(cl)
	rows = append(rows, []string{fmt.Sprintf("create %d images, metadata only (c=%d)", n, createConc),
		fmt.Sprintf("%.1f s (%.0f/s, p99 %.1f ms)", cl.DurationS, cl.OpsPerS, cl.P99ms), fmt.Sprintf("%d errors", cl.Errors), "", ""})
	if cr.ops < int64(n) {
		return rows, fmt.Errorf("created %d of %d images (%s)", cr.ops, n, sample)
	}

	// First page, limit=25.
	first := func(ctx context.Context) error {
		st, raw, err := b.do(ctx, http.MethodGet, "/v2/images?limit=25", nil)
		if err != nil {
			return err
		}
		if st != http.StatusOK || !bytes.Contains(raw, []byte(`"next"`)) {
			return fmt.Errorf("list: status %d: %.200s", st, raw)
		}
		return nil
	}
	runStep(ctx, listConc, time.Minute, 100, first) // warm-up
	mark = b.cpu()
	r := runStep(ctx, listConc, 10*time.Minute, listReqs, first)
	fl := imageLine{stepLine: r.line(fmt.Sprintf("image.list_first_page_%d", n), listConc), Images: n}
	b.since(mark, &fl)
	fl.Note = fmt.Sprintf("GET /v2/images?limit=25 with %d images, %d requests after 100 unrecorded", n, listReqs)
	b.emit(fl)
	verdict := "p99 < 20 ms: met"
	if fl.P99ms >= 20 || fl.Errors > 0 {
		verdict = "p99 < 20 ms: **not met**"
	}
	rows = append(rows, []string{fmt.Sprintf("list first page, limit=25, %d images (c=%d, %d req)", n, listConc, fl.Ops),
		fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", fl.P50ms, fl.P99ms), fmt.Sprintf("%.0f req/s, %d errors", fl.OpsPerS, fl.Errors), "", verdict})
	if r.ops == 0 {
		return rows, fmt.Errorf("first-page list: %s", r.errSample)
	}

	// Full walk, limit=1000, following the next links.
	var walkRuns, pageLat []time.Duration
	var pages, seen int
	mark = b.cpu()
	for range walks {
		p, s, lats, d, err := b.walk(ctx, 1000)
		if err != nil {
			return rows, err
		}
		if s < n {
			return rows, fmt.Errorf("walk saw %d images, want at least %d", s, n)
		}
		pages, seen = p, s
		walkRuns = append(walkRuns, d)
		pageLat = append(pageLat, lats...)
	}
	sort.Slice(pageLat, func(i, j int) bool { return pageLat[i] < pageLat[j] })
	wl := throughput(fmt.Sprintf("image.list_walk_%d", n), 0, walkRuns, 0)
	wl.OpsPerS = round(float64(len(pageLat))/sumD(walkRuns).Seconds(), 2)
	wl.P50ms, wl.P90ms, wl.P99ms = round(float64(percentile(pageLat, 0.5))/1e6, 2), round(float64(percentile(pageLat, 0.9))/1e6, 2), round(float64(percentile(pageLat, 0.99))/1e6, 2)
	wl.MaxMs = round(float64(pageLat[len(pageLat)-1])/1e6, 2)
	wl.Ops = int64(len(pageLat))
	wl.Images, wl.Pages = seen, pages
	b.since(mark, &wl)
	wl.Note = "every page of GET /v2/images?limit=1000, following next (marker=...); duration_s is the best walk, latencies are per page over all walks"
	b.emit(wl)
	rows = append(rows, []string{fmt.Sprintf("paged walk, limit=1000 (%d pages, %d images)", pages, seen),
		fmt.Sprintf("%.3f s (page p50 %.1f ms)", wl.DurationS, wl.P50ms), joinF(wl.RunsS, "%.3f s"), "", ""})
	return rows, nil
}

func loadavg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func sumD(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}

// walk lists every image with pages of limit, following the next links.
func (b *imageBench) walk(ctx context.Context, limit int) (pages, images int, lat []time.Duration, total time.Duration, err error) {
	path := fmt.Sprintf("/v2/images?limit=%d", limit)
	t0 := time.Now()
	for pages < 10000 {
		s := time.Now()
		st, raw, err := b.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return pages, images, lat, 0, err
		}
		var page struct {
			Images []json.RawMessage `json:"images"`
			Next   string            `json:"next"`
		}
		if st != http.StatusOK || json.Unmarshal(raw, &page) != nil {
			return pages, images, lat, 0, fmt.Errorf("walk page %d: status %d: %.200s", pages+1, st, raw)
		}
		lat = append(lat, time.Since(s))
		pages++
		images += len(page.Images)
		if page.Next == "" || len(page.Images) == 0 {
			return pages, images, lat, time.Since(t0), nil
		}
		path = page.Next
		if !strings.HasPrefix(path, "/") {
			return pages, images, lat, 0, fmt.Errorf("walk: unexpected next link %q", path)
		}
	}
	return pages, images, lat, 0, errors.New("walk: more than 10000 pages")
}

// deleteAll deletes the list part's images at concurrency conc.
func (b *imageBench) deleteAll(ctx context.Context, conc int) error {
	ids := make(chan string)
	var bad atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if err := b.deleteImage(ctx, id); err != nil {
					bad.Add(1)
					first.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	t0 := time.Now()
	for _, id := range b.created {
		if ctx.Err() != nil || bad.Load() >= 100 {
			break
		}
		ids <- id
	}
	close(ids)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "kumobench image: deleted the %d list images in %.1f s (%d errors)\n", len(b.created), time.Since(t0).Seconds(), bad.Load())
	if p := first.Load(); p != nil {
		return fmt.Errorf("%d of %d deletes failed, first: %w", bad.Load(), len(b.created), *p)
	}
	return ctx.Err()
}
