package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// kumoBin is the kumo binary under test, built once by TestMain.
var kumoBin string

// openstackCLI is Debian's openstack client. It is called by its full path:
// a pyenv python3 found first on PATH cannot import Debian's modules.
const openstackCLI = "/usr/bin/openstack"

// standardPorts are the OpenStack ports kumo serves (plus --port-offset).
// A test offset must leave all of them free, not only identity's, so the
// tests keep working as services are added.
var standardPorts = []int{5000, 6200, 6201, 6202, 8004, 8080, 8774, 8776, 8778, 9292, 9696}

const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
	cliTimeout   = 2 * time.Minute
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer func() {
		if cliHomeDir != "" {
			os.RemoveAll(cliHomeDir)
		}
	}()
	if bin := os.Getenv("KUMO_E2E_BIN"); bin != "" {
		kumoBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "kumo-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	kumoBin = filepath.Join(dir, "kumo")
	if err := buildKumo(kumoBin); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build kumo:", err)
		return 1
	}
	return m.Run()
}

// buildKumo builds ./cmd/kumo of the module this test belongs to into out.
func buildKumo(out string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	args := []string{"build", "-o", out, "-ldflags", "-X main.version=" + e2eVersion}
	if os.Getenv("KUMO_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/kumo")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// e2eVersion is stamped into the binary under test so `kumo version` can be
// checked exactly.
const e2eVersion = "v0.0.0-e2e"

// repoRoot is the module root: go test runs this package in test/e2e.
func repoRoot() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("no go.mod two levels above the test directory: %w", err)
	}
	return root, nil
}

// goTool is the go command on PATH, else Go's default install location.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// requireCLI skips the test when Debian's openstack client is missing,
// unless KUMO_E2E_REQUIRE_CLI=1, where a missing client is a failure (CI
// installs it, so there a skip would hide that nothing was tested).
func requireCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(openstackCLI); err != nil {
		msg := openstackCLI + " is missing: install Debian's python3-openstackclient (apt-get install python3-openstackclient) to run the CLI end-to-end tests"
		if os.Getenv("KUMO_E2E_REQUIRE_CLI") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

var (
	offsetMu   sync.Mutex
	usedOffset = map[int]bool{}
)

// freeOffset returns a --port-offset whose standard ports are all free on
// 127.0.0.1. Offsets come from 11000..21999 (ports below Linux's ephemeral
// range), picked at random so parallel runs rarely collide.
func freeOffset(t *testing.T) int {
	t.Helper()
	offsetMu.Lock()
	defer offsetMu.Unlock()
	for try := 0; try < 200; try++ {
		n, err := rand.Int(rand.Reader, big.NewInt(11000))
		if err != nil {
			t.Fatal(err)
		}
		off := 11000 + int(n.Int64())
		if usedOffset[off] || !portsFree(off) {
			continue
		}
		usedOffset[off] = true
		return off
	}
	t.Fatal("no free port offset found in 200 tries")
	return 0
}

func portsFree(offset int) bool {
	for _, p := range standardPorts {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+offset)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

func randomPassword(t *testing.T) string {
	t.Helper()
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "pw-" + base64.RawURLEncoding.EncodeToString(b)
}

// cleanEnv is the test process's environment without anything that would
// change what kumo or the openstack client do: OS_* credentials, KUMO_*
// settings, and Python variables that could point Debian's python3 at
// pyenv's modules.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OS_"), strings.HasPrefix(k, "KUMO_"),
			k == "PYTHONPATH", k == "PYTHONHOME", k == "PYTHONSTARTUP", k == "VIRTUAL_ENV",
			k == "HTTP_PROXY", k == "HTTPS_PROXY", k == "http_proxy", k == "https_proxy",
			k == "PATH", k == "HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
}

// lockedBuffer collects a subprocess's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// kumoProc is one `kumo up` subprocess.
type kumoProc struct {
	t       *testing.T
	dir     string
	offset  int
	cmd     *exec.Cmd
	output  *lockedBuffer // stdout and stderr, interleaved
	ready   chan string   // the "kumo ready:" line
	exited  chan struct{}
	waitErr error
}

// startKumo starts `kumo up --data-dir dir --port-offset offset extra...`
// and waits for its "kumo ready:" line. The process is stopped at the end
// of the test if the test has not stopped it.
func startKumo(t *testing.T, dir string, offset int, extra ...string) *kumoProc {
	t.Helper()
	k := launchKumo(t, dir, offset, extra...)
	select {
	case line := <-k.ready:
		t.Logf("started kumo (pid %d): %s", k.cmd.Process.Pid, line)
	case <-k.exited:
		t.Fatalf("kumo up exited before it was ready (%v); output:\n%s", k.waitErr, k.output)
	case <-time.After(readyTimeout):
		t.Fatalf("kumo up printed no \"kumo ready:\" line within %s; output:\n%s", readyTimeout, k.output)
	}
	return k
}

// launchKumo starts `kumo up` without waiting for it to be ready.
func launchKumo(t *testing.T, dir string, offset int, extra ...string) *kumoProc {
	t.Helper()
	args := append([]string{"up", "--data-dir", dir, "--port-offset", strconv.Itoa(offset), "--log-level", "warn"}, extra...)
	k := launchProc(t, "kumo ready:", cleanEnv(), args...)
	k.dir, k.offset = dir, offset
	return k
}

// stop sends SIGTERM and waits for a clean exit (status 0).
func (k *kumoProc) stop() {
	k.t.Helper()
	if err := k.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		k.t.Fatalf("SIGTERM kumo: %v", err)
	}
	start := time.Now()
	select {
	case <-k.exited:
	case <-time.After(stopTimeout):
		k.cmd.Process.Kill()
		<-k.exited
		k.t.Fatalf("kumo did not exit within %s of SIGTERM; output:\n%s", stopTimeout, k.output)
	}
	if k.waitErr != nil {
		k.t.Fatalf("kumo exited with %v after SIGTERM (want status 0); output:\n%s", k.waitErr, k.output)
	}
	k.t.Logf("kumo stopped %.0f ms after SIGTERM", float64(time.Since(start).Microseconds())/1000)
}

// openrc returns the variables DIR/openrc exports.
func (k *kumoProc) openrc() map[string]string {
	k.t.Helper()
	b, err := os.ReadFile(filepath.Join(k.dir, "openrc"))
	if err != nil {
		k.t.Fatalf("read openrc: %v", err)
	}
	vars, err := parseOpenrc(string(b))
	if err != nil {
		k.t.Fatalf("parse %s/openrc: %v", k.dir, err)
	}
	for _, want := range []string{"OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME"} {
		if vars[want] == "" {
			k.t.Fatalf("%s/openrc sets no %s:\n%s", k.dir, want, b)
		}
	}
	return vars
}

// parseOpenrc reads "export K=V" lines as a POSIX shell would for the
// quoting an openrc uses: single quotes, double quotes and backslashes.
func parseOpenrc(s string) (map[string]string, error) {
	vars := map[string]string{}
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: no '=' in %q", n+1, line)
		}
		val, err := shellUnquote(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		vars[strings.TrimSpace(k)] = val
	}
	return vars, nil
}

func shellUnquote(v string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case '\'':
			j := strings.IndexByte(v[i+1:], '\'')
			if j < 0 {
				return "", fmt.Errorf("unterminated ' in %q", v)
			}
			out.WriteString(v[i+1 : i+1+j])
			i += j + 2
		case '"':
			j := i + 1
			for ; j < len(v) && v[j] != '"'; j++ {
				if v[j] == '\\' && j+1 < len(v) {
					j++
				}
				out.WriteByte(v[j])
			}
			if j >= len(v) {
				return "", fmt.Errorf("unterminated \" in %q", v)
			}
			i = j + 1
		case '\\':
			if i+1 < len(v) {
				out.WriteByte(v[i+1])
			}
			i += 2
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String(), nil
}

// cliResult is the outcome of one openstack command.
type cliResult struct {
	stdout, stderr string
	err            error
}

// openstack runs Debian's openstack CLI with vars (an openrc's exports or
// OS_CLOUD settings) added to a clean environment.
func openstack(t *testing.T, vars map[string]string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, openstackCLI, args...)
	cmd.Env = append(cleanEnv(), "HOME="+cliHome(t))
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", cliTimeout, err)
	}
	t.Logf("openstack %s (as %s): %.1f s, %v", strings.Join(args, " "), who(vars), time.Since(start).Seconds(), errOrOK(err))
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// mustOpenstack is openstack that fails the test when the command fails.
func mustOpenstack(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	r := openstack(t, vars, args...)
	if r.err != nil {
		t.Fatalf("openstack %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

var (
	cliHomeOnce sync.Once
	cliHomeDir  string
)

// cliHome is an empty HOME for the client, so no ~/.config/openstack of
// the machine's user changes what the tests see.
func cliHome(t *testing.T) string {
	cliHomeOnce.Do(func() {
		d, err := os.MkdirTemp("", "kumo-e2e-home-")
		if err != nil {
			t.Fatal(err)
		}
		cliHomeDir = d
	})
	return cliHomeDir
}

func who(vars map[string]string) string {
	if c := vars["OS_CLOUD"]; c != "" {
		return "cloud " + c
	}
	return vars["OS_USERNAME"]
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// with returns a copy of vars with the given key/value pairs set.
func with(vars map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(vars)+len(kv)/2)
	for k, v := range vars {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
