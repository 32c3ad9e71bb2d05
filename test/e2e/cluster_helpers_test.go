package e2e

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kumo/internal/objectstore/ring"
)

// A test object-store cluster: three `kumo serve --roles objectstore-node`
// processes on 127.0.0.11-13 (all loopback on Linux), node 1 in region 1
// and nodes 2 and 3 in region 2, two devices each, rings built with `kumo
// admin ring`, and a `kumo up` with object_store.node false as the proxy.
var (
	clusterIPs     = []string{"127.0.0.11", "127.0.0.12", "127.0.0.13"}
	clusterRegions = []int{1, 2, 2}
	clusterDevs    = []string{"d1", "d2"}
)

const clusterPartPower = 6

type clusterOpts struct {
	// env sets the nodes' KUMO_OBJECT_STORE_* intervals.
	env []string
	// beforeNodes runs once the directories are known, before any node
	// starts (to mount a file system on a device).
	beforeNodes func(c *swiftCluster)
}

type swiftCluster struct {
	t        *testing.T
	dir      string
	swiftDir string
	offset   int
	hp       ring.HashPath
	objRing  *ring.Ring
	env      []string
	nodes    []*kumoProc
	proxy    *kumoProc
	// storage is the account's storage URL, token a token for it.
	storage, token, account string
	client                  *http.Client
}

// requireSwiftCLI returns the swift client's path; missing, it fails the
// test where the tools are required (CI) and skips it otherwise.
func requireSwiftCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("swift")
	if err != nil {
		msg := "swift (python3-swiftclient) is missing: apt-get install python3-swiftclient"
		if os.Getenv("KUMO_E2E_REQUIRE_CLI") == "1" || os.Getenv("KUMO_REQUIRE_TOOLS") == "1" || os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// clusterOffset is a port offset free for the proxy's standard ports on
// 127.0.0.1 and for the storage ports on every node address.
func clusterOffset(t *testing.T) int {
	t.Helper()
	for try := 0; try < 20; try++ {
		off := freeOffset(t)
		free := true
		for _, ip := range clusterIPs {
			for p := 6200; p <= 6202 && free; p++ {
				l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p+off)))
				if err != nil {
					free = false
					break
				}
				l.Close()
			}
		}
		if free {
			return off
		}
	}
	t.Fatal("no port offset free on the cluster's addresses in 20 tries")
	return 0
}

// startCluster builds the rings, starts the nodes and the proxy, and gets a
// token and storage URL for the admin account with the swift client.
func startCluster(t *testing.T, o clusterOpts) *swiftCluster {
	t.Helper()
	swift := requireSwiftCLI(t)
	start := time.Now()
	c := &swiftCluster{t: t, dir: t.TempDir(), offset: clusterOffset(t), env: o.env,
		client: &http.Client{Timeout: 30 * time.Second}}
	c.swiftDir = filepath.Join(c.dir, "swift")
	if err := os.MkdirAll(c.swiftDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var salt [16]byte
	rand.Read(salt[:])
	c.hp = ring.HashPath{Prefix: hex.EncodeToString(salt[:8]), Suffix: hex.EncodeToString(salt[8:])}
	b, _ := json.Marshal(c.hp)
	if err := os.WriteFile(filepath.Join(c.swiftDir, "hashpath.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, kind := range []string{"object", "container", "account"} {
		builder := filepath.Join(c.swiftDir, kind+".builder")
		c.ring(builder, "create", strconv.Itoa(clusterPartPower), "3", "1")
		for n, ip := range clusterIPs {
			for _, d := range clusterDevs {
				c.ring(builder, "add", fmt.Sprintf("r%dz%d-%s:%d/%s", clusterRegions[n], n+1, ip, 6200+i+c.offset, d), "100")
			}
		}
		c.ring(builder, "rebalance")
	}
	var err error
	if c.objRing, err = ring.LoadRing(filepath.Join(c.swiftDir, "object.ring"), c.hp); err != nil {
		t.Fatal(err)
	}
	if o.beforeNodes != nil {
		o.beforeNodes(c)
	}
	c.nodes = make([]*kumoProc, len(clusterIPs))
	for i := range clusterIPs {
		c.nodes[i] = c.startNode(i)
	}
	conf := filepath.Join(c.dir, "proxy.yaml")
	os.WriteFile(conf, fmt.Appendf(nil, "object_store:\n  node: false\n  swift_dir: %s\n", c.swiftDir), 0o600)
	c.proxy = startKumo(t, filepath.Join(c.dir, "proxy"), c.offset, "--config", conf, "--admin-password", randomPassword(t))
	cmd := exec.Command(swift, "auth")
	cmd.Env = append(cleanEnv(), "HOME="+cliHome(t))
	for k, v := range c.proxy.openrc() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("swift auth: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "export OS_STORAGE_URL="); ok {
			c.storage = strings.Trim(v, `'"`)
		}
		if v, ok := strings.CutPrefix(line, "export OS_AUTH_TOKEN="); ok {
			c.token = strings.Trim(v, `'"`)
		}
	}
	if c.storage == "" || c.token == "" {
		t.Fatalf("swift auth printed no storage URL or token:\n%s", out)
	}
	c.account = c.storage[strings.LastIndex(c.storage, "/")+1:]
	t.Logf("cluster of %d nodes and a proxy up in %.1f s (offset %d)", len(c.nodes), time.Since(start).Seconds(), c.offset)
	return c
}

func (c *swiftCluster) ring(args ...string) {
	c.t.Helper()
	out, err := runKumo(c.t, time.Minute, append([]string{"admin", "ring"}, args...)...)
	if err != nil {
		c.t.Fatalf("kumo admin ring %v: %v\n%s", args, err, out)
	}
}

func (c *swiftCluster) nodeData(i int) string {
	return filepath.Join(c.dir, fmt.Sprintf("node%d", i+1))
}

// devDir is node i's device directory.
func (c *swiftCluster) devDir(i int, dev string) string {
	return filepath.Join(c.nodeData(i), "objectstore", "devices", dev)
}

// startNode starts node i and waits for its ready line.
func (c *swiftCluster) startNode(i int) *kumoProc {
	c.t.Helper()
	k := launchProc(c.t, "kumo objectstore-node ready:", append(cleanEnv(), c.env...), "serve", "--roles", "objectstore-node",
		"--data-dir", c.nodeData(i), "--swift-dir", c.swiftDir, "--bind-ip", clusterIPs[i],
		"--port-offset", strconv.Itoa(c.offset), "--log-level", "warn")
	select {
	case line := <-k.ready:
		c.t.Logf("node %d (pid %d): %s", i+1, k.cmd.Process.Pid, line)
	case <-k.exited:
		c.t.Fatalf("node %d exited before it was ready (%v):\n%s", i+1, k.waitErr, k.output)
	case <-time.After(readyTimeout):
		c.t.Fatalf("node %d not ready within %s:\n%s", i+1, readyTimeout, k.output)
	}
	return k
}

// kill9 kills node i with SIGKILL and waits for it to be gone.
func (c *swiftCluster) kill9(i int) {
	c.t.Helper()
	k := c.nodes[i]
	if err := k.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatalf("kill -9 node %d: %v", i+1, err)
	}
	<-k.exited
}

// launchProc starts kumo with args and env, watching stdout for a line
// starting with readyPrefix. The process is stopped (SIGTERM, then
// SIGKILL) at the end of the test if it still runs.
func launchProc(t *testing.T, readyPrefix string, env []string, args ...string) *kumoProc {
	t.Helper()
	k := &kumoProc{t: t, output: &lockedBuffer{}, ready: make(chan string, 1), exited: make(chan struct{})}
	k.cmd = exec.Command(kumoBin, args...)
	k.cmd.Env = env
	k.cmd.Stderr = k.output
	stdout, err := k.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", kumoBin, err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(k.output, line)
			if strings.HasPrefix(line, readyPrefix) {
				select {
				case k.ready <- line:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		k.waitErr = k.cmd.Wait()
		close(k.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-k.exited:
			return
		default:
		}
		k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-k.exited:
		case <-time.After(stopTimeout):
			k.cmd.Process.Kill()
			<-k.exited
		}
	})
	return k
}

// do sends one request to the proxy with the cluster's token.
func (c *swiftCluster) do(method, path string, body []byte, hdr ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.storage+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Auth-Token", c.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.ContentLength >= 0 && int64(len(b)) != resp.ContentLength {
		err = fmt.Errorf("body of %d bytes, Content-Length %d", len(b), resp.ContentLength)
	}
	return resp.StatusCode, b, err
}

func (c *swiftCluster) mustDo(want int, method, path string, body []byte, hdr ...string) []byte {
	c.t.Helper()
	code, b, err := c.do(method, path, body, hdr...)
	if err != nil || code != want {
		c.t.Fatalf("%s %s: %d %v (want %d)\n%s", method, path, code, err, want, b)
	}
	return b
}

// replica is one stored copy of an object: node index, device, data file.
type replica struct {
	node int
	dev  string
	path string
}

func (r replica) String() string { return fmt.Sprintf("node%d/%s", r.node+1, r.dev) }

// objectDir is an object's hash directory relative to a device, where
// every node files it (objects/<part>/<hash>: Swift's layout without the
// suffix level).
func (c *swiftCluster) objectDir(container, object string) (part int, hash, rel string) {
	sum := md5.Sum([]byte(c.hp.Prefix + "/" + c.account + "/" + container + "/" + object + c.hp.Suffix))
	hash = hex.EncodeToString(sum[:])
	part = c.objRing.PartitionFor(c.account, container, object)
	return part, hash, filepath.Join("objects", strconv.Itoa(part), hash)
}

// replicas looks on every node's devices for the object's .data files.
func (c *swiftCluster) replicas(container, object string) []replica {
	_, _, rel := c.objectDir(container, object)
	var out []replica
	for i := range clusterIPs {
		for _, d := range clusterDevs {
			ents, _ := os.ReadDir(filepath.Join(c.devDir(i, d), rel))
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".data") {
					out = append(out, replica{node: i, dev: d, path: filepath.Join(c.devDir(i, d), rel, e.Name())})
				}
			}
		}
	}
	return out
}

// primaries are the ring's primary devices of the object as replicas
// (without a path).
func (c *swiftCluster) primaries(container, object string) []replica {
	part, _, _ := c.objectDir(container, object)
	var out []replica
	for _, d := range c.objRing.Nodes(part) {
		for i, ip := range clusterIPs {
			if d.IP == ip {
				out = append(out, replica{node: i, dev: d.Name})
			}
		}
	}
	return out
}

// holds reports whether a data file starts with body (the metadata footer
// follows it).
func holds(path string, body []byte) bool {
	b, err := os.ReadFile(path)
	return err == nil && len(b) >= len(body) && bytes.Equal(b[:len(body)], body)
}

// onAllPrimaries reports whether every primary of the object holds body.
func (c *swiftCluster) onAllPrimaries(container, object string, body []byte) bool {
	have := map[string]string{}
	for _, r := range c.replicas(container, object) {
		have[r.String()] = r.path
	}
	for _, p := range c.primaries(container, object) {
		if path, ok := have[p.String()]; !ok || !holds(path, body) {
			return false
		}
	}
	return true
}

// waitFor polls cond every 200 ms until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, limit)
	return 0
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// createContainer PUTs a container: 201, or 202 when a retried backend
// request found it made already (both are Swift's success).
func (c *swiftCluster) createContainer(name string) {
	c.t.Helper()
	code, b, err := c.do("PUT", "/"+name, nil)
	if err != nil || code != 201 && code != 202 {
		c.t.Fatalf("PUT container %s: %d %v\n%s", name, code, err, b)
	}
}
