package e2e

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestObjectStoreCluster runs the object store as Swift is deployed: three
// storage node processes in two regions and a proxy, on rings built with
// kumo admin ring. The swift client uploads, lists and downloads through
// the proxy, and every object is stored once on each of three nodes, in
// both regions (the ring's "as unique as possible" placement). A node
// stops cleanly on SIGTERM; a node the rings do not name, and an unknown
// role, are refused.
func TestObjectStoreCluster(t *testing.T) {
	c := startCluster(t, clusterOpts{})
	swift := requireSwiftCLI(t)
	work := t.TempDir()
	// The token and storage URL from swift auth (startCluster) spare each
	// call a Keystone round and the import of keystoneauth.
	rc := map[string]string{"OS_AUTH_TOKEN": c.token, "OS_STORAGE_URL": c.storage}
	sw := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(swift, args...)
		cmd.Dir = work
		cmd.Env = append(cleanEnv(), "HOME="+cliHome(t))
		for k, v := range rc {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("swift %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("swift %s: %.1f s", args[0], time.Since(start).Seconds())
		return string(out)
	}
	names := []string{"a.bin", "b.bin", "dir/c.bin", "d.bin", "e.bin", "f.bin"}
	bodies := map[string][]byte{}
	for i, n := range names {
		bodies[n] = randomBytes(t, 1000+i*7919)
		os.MkdirAll(filepath.Dir(filepath.Join(work, n)), 0o700)
		os.WriteFile(filepath.Join(work, n), bodies[n], 0o600)
	}
	sw(append([]string{"upload", "photos"}, names...)...)
	if l := sw("list", "photos"); l != "a.bin\nb.bin\nd.bin\ndir/c.bin\ne.bin\nf.bin\n" {
		t.Fatalf("listing:\n%s", l)
	}
	sw("download", "photos", "-D", filepath.Join(work, "got"))
	for _, n := range names {
		if b, _ := os.ReadFile(filepath.Join(work, "got", n)); !bytes.Equal(b, bodies[n]) {
			t.Fatalf("download of %s differs", n)
		}
	}
	for _, n := range names {
		reps := c.replicas("photos", n)
		nodes, regions := map[int]bool{}, map[int]bool{}
		for _, r := range reps {
			if !holds(r.path, bodies[n]) {
				t.Fatalf("%s: replica %s does not hold the object", n, r)
			}
			nodes[r.node] = true
			regions[clusterRegions[r.node]] = true
		}
		if len(reps) != 3 || len(nodes) != 3 || len(regions) != 2 || !c.onAllPrimaries("photos", n, bodies[n]) {
			t.Fatalf("%s: replicas %v on %d nodes, %d regions; primaries %v", n, reps, len(nodes), len(regions), c.primaries("photos", n))
		}
		t.Logf("%s: replicas %v", n, reps)
	}

	// A node the rings do not name refuses to start; so does a bad role.
	out, err := runKumo(t, time.Minute, "serve", "--roles", "objectstore-node", "--swift-dir", c.swiftDir,
		"--data-dir", filepath.Join(c.dir, "stranger"), "--bind-ip", "127.0.0.14", "--port-offset", fmt.Sprint(c.offset))
	if err == nil || !strings.Contains(out, "name no device") {
		t.Fatalf("node unknown to the rings: %v\n%s", err, out)
	}
	out, err = runKumo(t, time.Minute, "serve", "--roles", "objectstore-node,compute", "--swift-dir", c.swiftDir)
	if err == nil || !strings.Contains(out, `unknown role "compute"`) || !strings.Contains(out, "objectstore-node") {
		t.Fatalf("unknown role: %v\n%s", err, out)
	}
	// A proxy without a cluster to front says so.
	conf := filepath.Join(c.dir, "nowhere.yaml")
	os.WriteFile(conf, fmt.Appendf(nil, "object_store:\n  node: false\n  swift_dir: %s\n", filepath.Join(c.dir, "nowhere")), 0o600)
	out, err = runKumo(t, 2*time.Minute, "up", "--config", conf, "--data-dir", filepath.Join(c.dir, "lonely"),
		"--port-offset", fmt.Sprint(freeOffset(t)), "--admin-password", randomPassword(t))
	if err == nil || !strings.Contains(out, "hashpath.json") || !strings.Contains(out, "object_store.node is false") {
		t.Fatalf("kumo up with node false and no swift dir: %v\n%s", err, out)
	}
	c.nodes[2].stop()
	c.proxy.stop()
}

// TestObjectStoreFaultKillNode kills a storage node with SIGKILL while
// uploads and downloads are in flight. With two of three nodes up every
// upload reaches a quorum and is acknowledged with 201 (one in flight to
// the killed node included), every acknowledged object stays readable byte
// for byte, and no GET ever returns a short or wrong body (a download from
// the killed node resumes on another replica, as Swift's proxy does; also
// while the node is down). After the node restarts the replicators bring
// every acknowledged object back onto all three of its primaries.
func TestObjectStoreFaultKillNode(t *testing.T) {
	c := startCluster(t, clusterOpts{env: []string{"KUMO_OBJECT_STORE_REPLICATION_INTERVAL=1s",
		"KUMO_OBJECT_STORE_UPDATER_INTERVAL=1s"}})
	c.createContainer("load")
	const total, workers, killAfter = 60, 6, 15
	var (
		mu     sync.Mutex
		acked  = map[string][]byte{}
		order  []string
		failed atomic.Int32
		gets   atomic.Int32
	)
	var killOnce sync.Once
	kill := func(acks int) {
		killOnce.Do(func() {
			c.kill9(2)
			t.Logf("kill -9 node 3 after %d acknowledged uploads", acks)
		})
	}
	next := make(chan int, total)
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := fmt.Sprintf("obj-%03d", i)
				body := randomBytes(t, 16<<10+i*97)
				code, msg, err := c.do("PUT", "/load/"+name, body, "Content-Type", "application/octet-stream")
				if err != nil || code != 201 {
					// Two nodes of three make Swift's quorum: nothing is
					// refused, also at the kill.
					failed.Add(1)
					t.Errorf("PUT %s: %d %v %q with two nodes of three up", name, code, err, msg)
					continue
				}
				mu.Lock()
				acked[name] = body
				order = append(order, name)
				n := len(order)
				mu.Unlock()
				if n == killAfter {
					kill(n)
				}
			}
		}()
	}
	// Readers verify every acknowledged object while uploads and the kill
	// happen, and go on while the node is down.
	stopReads := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for j := 0; j < 2000; j++ {
				select {
				case <-stopReads:
					return
				default:
				}
				mu.Lock()
				if len(order) == 0 {
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					continue
				}
				name := order[(j*7+r)%len(order)]
				want := acked[name]
				mu.Unlock()
				code, b, err := c.do("GET", "/load/"+name, nil)
				gets.Add(1)
				switch {
				case code == 200 && err == nil && bytes.Equal(b, want):
				case code == 200:
					t.Errorf("GET %s: 200 with a wrong or short body (%d of %d bytes, md5 %x, %v)", name, len(b), len(want), md5.Sum(b), err)
				default:
					t.Errorf("GET %s of an acknowledged object: %d %v", name, code, err)
				}
			}
		}()
	}
	wg.Wait()
	kill(-1)                // unless done: too few acknowledgements reached the mark
	time.Sleep(time.Second) // reads with the node down
	close(stopReads)
	readers.Wait()
	t.Logf("%d acknowledged, %d not, %d GETs verified during the run", len(acked), failed.Load(), gets.Load())
	if t.Failed() {
		t.Logf("proxy output:\n%s", c.proxy.output)
		for i := 0; i < 2; i++ {
			t.Logf("node %d output:\n%s", i+1, c.nodes[i].output)
		}
	}
	if len(acked) < total/2 {
		t.Fatalf("only %d of %d uploads acknowledged with one node of three down", len(acked), total)
	}
	for name, body := range acked {
		if got := c.mustDo(200, "GET", "/load/"+name, nil); !bytes.Equal(got, body) {
			t.Fatalf("%s differs with node 3 down", name)
		}
	}
	c.nodes[2] = c.startNode(2)
	took := waitFor(t, 60*time.Second, "every acknowledged object on all three primaries", func() bool {
		for name, body := range acked {
			if !c.onAllPrimaries("load", name, body) {
				return false
			}
		}
		return true
	})
	t.Logf("replicators restored all %d objects' replicas %.1f s after the restart", len(acked), took.Seconds())
	for name, body := range acked {
		if got := c.mustDo(200, "GET", "/load/"+name, nil); !bytes.Equal(got, body) {
			t.Fatalf("%s differs after the restart", name)
		}
	}
}

// TestObjectStoreFaultBitRot flips bytes in stored replicas. A GET
// through the proxy always returns the right bytes (the object server
// checks a small object before serving it, and quarantines it if it does
// not match); with no reads, the auditor finds and quarantines the other;
// and the replicators restore both replicas from their peers.
func TestObjectStoreFaultBitRot(t *testing.T) {
	c := startCluster(t, clusterOpts{env: []string{"KUMO_OBJECT_STORE_REPLICATION_INTERVAL=1s",
		"KUMO_OBJECT_STORE_AUDIT_INTERVAL=2s", "KUMO_OBJECT_STORE_UPDATER_INTERVAL=1s"}})
	c.createContainer("rot")
	read, idle := randomBytes(t, 8192), randomBytes(t, 12345)
	c.mustDo(201, "PUT", "/rot/read", read)
	c.mustDo(201, "PUT", "/rot/idle", idle)
	flip := func(name string, body []byte) replica {
		t.Helper()
		reps := c.replicas("rot", name)
		if len(reps) != 3 {
			t.Fatalf("%s: %d replicas", name, len(reps))
		}
		// The ring's first primary: the one a proxy reads first.
		first := c.primaries("rot", name)[0]
		var r replica
		for _, x := range reps {
			if x.String() == first.String() {
				r = x
			}
		}
		if r.path == "" {
			t.Fatalf("%s: no replica on its first primary %s: %v", name, first, reps)
		}
		f, err := os.OpenFile(r.path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte{body[100] ^ 0xff, body[101] ^ 0xff}, 100)
		f.Close()
		return r
	}
	quarantined := func(r replica, name string) bool {
		_, hash, _ := c.objectDir("rot", name)
		_, err := os.Stat(filepath.Join(c.devDir(r.node, r.dev), "quarantined", "objects", hash))
		return err == nil
	}
	// Reads meet the corrupt replica (until it is quarantined) and must
	// never pass its bytes on.
	r := flip("read", read)
	for i := 0; i < 10; i++ {
		if got := c.mustDo(200, "GET", "/rot/read", nil); !bytes.Equal(got, read) {
			t.Fatalf("GET %d of the object with a corrupt replica returned wrong bytes", i)
		}
	}
	waitFor(t, 20*time.Second, "corrupt replica of read quarantined", func() bool { return quarantined(r, "read") })
	took := waitFor(t, 30*time.Second, "read's replica restored", func() bool { return c.onAllPrimaries("rot", "read", read) })
	t.Logf("read: quarantined and restored %.1f s later", took.Seconds())

	r = flip("idle", idle)
	took = waitFor(t, 20*time.Second, "the auditor quarantines idle's corrupt replica", func() bool { return quarantined(r, "idle") })
	t.Logf("auditor quarantined %s's replica on %s in %.1f s", "idle", r, took.Seconds())
	waitFor(t, 30*time.Second, "idle's replica restored", func() bool { return c.onAllPrimaries("rot", "idle", idle) })
	if got := c.mustDo(200, "GET", "/rot/idle", nil); !bytes.Equal(got, idle) {
		t.Fatal("idle differs after the restore")
	}
}

// TestObjectStoreFaultFullDevice fills one primary device (a small tmpfs
// mounted on it): its object server answers 507, the proxy writes that
// replica to a handoff device, the PUT succeeds and the object is whole.
func TestObjectStoreFaultFullDevice(t *testing.T) {
	const node = 1 // 127.0.0.12
	dev := clusterDevs[0]
	c := startCluster(t, clusterOpts{beforeNodes: func(c *swiftCluster) {
		dir := c.devDir(node, dev)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
			msg := fmt.Sprintf("cannot mount a tmpfs on a device (root needed): %v %s", err, out)
			if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		// Registered before the nodes start, so it runs after they stop.
		t.Cleanup(func() {
			if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v %s", dir, err, out)
				exec.Command("umount", "-l", dir).Run()
			}
		})
	}})
	c.createContainer("full")
	// Fill the device to the last block.
	f, err := os.Create(filepath.Join(c.devDir(node, dev), "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for i := 0; i < 1000; i++ {
		if _, err = f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	if err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("filling the device: %v", err)
	}
	// An object whose primaries include the full device.
	var name string
	for i := 0; i < 10000 && name == ""; i++ {
		n := fmt.Sprintf("big-%d", i)
		for _, p := range c.primaries("full", n) {
			if p.node == node && p.dev == dev {
				name = n
			}
		}
	}
	if name == "" {
		t.Fatal("no object name maps to the full device")
	}
	body := randomBytes(t, 64<<10)
	part, _, _ := c.objectDir("full", name)
	// The object server itself says 507 Insufficient Storage.
	direct := fmt.Sprintf("http://%s:%d/%s/%d/%s/full/%s", clusterIPs[node], 6200+c.offset, dev, part, c.account, name)
	req, _ := http.NewRequest("PUT", direct, bytes.NewReader(body))
	req.Header.Set("X-Timestamp", fmt.Sprintf("%d.00000", time.Now().Unix()-10))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 507 {
		t.Fatalf("object server PUT on a full device: %d, want 507", resp.StatusCode)
	}
	c.mustDo(201, "PUT", "/full/"+name, body, "Content-Type", "application/octet-stream")
	reps := c.replicas("full", name)
	prim := map[string]bool{}
	for _, p := range c.primaries("full", name) {
		prim[p.String()] = true
	}
	var handoffs []replica
	for _, r := range reps {
		if r.node == node && r.dev == dev {
			t.Fatalf("a replica landed on the full device: %v", reps)
		}
		if !holds(r.path, body) {
			t.Fatalf("replica %s does not hold the object", r)
		}
		if !prim[r.String()] {
			handoffs = append(handoffs, r)
		}
	}
	if len(reps) != 3 || len(handoffs) != 1 {
		t.Fatalf("replicas %v (primaries %v): want 3 with one on a handoff", reps, c.primaries("full", name))
	}
	t.Logf("full device %s on node %d: replica written to handoff %s", dev, node+1, handoffs[0])
	if got := c.mustDo(200, "GET", "/full/"+name, nil); !bytes.Equal(got, body) {
		t.Fatal("GET after the PUT differs")
	}
}
