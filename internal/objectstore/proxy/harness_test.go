package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kumo/internal/identity"
	"kumo/internal/objectstore/node"
	"kumo/internal/objectstore/ring"
	"kumo/internal/platform/db"
)

var testHash = ring.HashPath{Prefix: "kumo-proxy-test", Suffix: "kumo-proxy-suffix"}

// testNode is one storage node's listeners and its running servers.
type testNode struct {
	ip    string
	root  string
	ports [3]int // object, container, account
	n     *node.Node
	ls    [3]net.Listener
}

// cluster is 3 storage nodes (2 devices each, on 127.0.0.1-3 so the ring
// sees three failure domains), rings with 3 replicas, identity and the
// proxy, all over real HTTP. Tokens: admin (admin project), alice (member
// of A), bob (member of B), rita (reader of A), carol (member of A), reseller
// (ResellerAdmin in B).
type cluster struct {
	t                       testing.TB
	nodes                   []*testNode
	rings                   [3]*ring.Ring
	replRings               [3]*ring.Ring // rings the nodes replicate with, or none
	proxy                   *Server
	url                     string
	idurl                   string
	admin, alice, bob, rita string
	carol, reseller         string
	projA, projB            string
	aliceID, bobID, carolID string
	acctA, acctB            string
	id                      *identity.Service
}

// clusterOpts changes the harness for one test.
type clusterOpts struct {
	// objectHandler, when set, replaces node 0's object server.
	objectHandler http.Handler
	// wrapObject, when set, wraps every node's object server listener (a
	// test tool that cuts connections, as a node killed mid-request does).
	wrapObject  func(net.Listener) net.Listener
	nodeTimeout time.Duration
	// replicate runs the nodes' replicators (every 100 ms). Off by
	// default: a pass racing a container PUT makes it a 202, as in Swift.
	replicate bool
	// inProcess hands the proxy every node's handlers (Config.Local), as
	// kumo up does with its one node: no request goes over a socket.
	// KUMO_TEST_INPROCESS=1 turns it on for every cluster whose object
	// servers are not replaced or wrapped (make unit runs this package
	// both ways).
	inProcess bool
}

func newCluster(t testing.TB, opts ...clusterOpts) *cluster {
	t.Helper()
	c := &cluster{t: t}
	var o clusterOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.nodeTimeout == 0 {
		o.nodeTimeout = 5 * time.Second
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	devs := []string{"d1", "d2"}
	builders := [3]*ring.Builder{}
	for i := range builders {
		b, err := ring.NewBuilder(6, 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		b.SetSeed(1)
		builders[i] = b
	}
	for i := 0; i < 3; i++ {
		tn := &testNode{ip: fmt.Sprintf("127.0.0.%d", i+1), root: t.TempDir()}
		for k := 0; k < 3; k++ {
			l, err := net.Listen("tcp", tn.ip+":0")
			if err != nil {
				t.Fatal(err)
			}
			tn.ls[k] = l
			tn.ports[k] = l.Addr().(*net.TCPAddr).Port
			for _, d := range devs {
				if _, err := builders[k].AddDevice(ring.Device{Region: 1, Zone: i + 1, IP: tn.ip, Port: tn.ports[k], Name: d, Weight: 100}); err != nil {
					t.Fatal(err)
				}
			}
		}
		c.nodes = append(c.nodes, tn)
	}
	for k, b := range builders {
		if _, err := b.Rebalance(); err != nil {
			t.Fatal(err)
		}
		r, err := b.Ring(testHash)
		if err != nil {
			t.Fatal(err)
		}
		c.rings[k] = r
	}
	if o.replicate {
		c.replRings = c.rings
	}
	for i, tn := range c.nodes {
		if i == 0 && o.objectHandler != nil {
			srv := &http.Server{Handler: o.objectHandler}
			go func(l net.Listener) { _ = srv.Serve(l) }(tn.ls[0])
			t.Cleanup(func() { srv.Close() })
			tn.ls[0] = nil
		}
		if o.wrapObject != nil && tn.ls[0] != nil {
			tn.ls[0] = o.wrapObject(tn.ls[0])
		}
		c.startNode(tn, log)
	}

	dir := t.TempDir()
	d, err := db.OpenSQLite(filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	idsvc, err := identity.New(ctx, identity.Config{DataDir: dir, BcryptCost: 4}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	c.id = idsvc
	idsrv := httptest.NewServer(idsvc.Handler())
	t.Cleanup(idsrv.Close)
	c.idurl = idsrv.URL + "/v3"
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.url = "http://" + pl.Addr().String()
	if err := idsvc.Bootstrap(ctx, identity.BootstrapOptions{AdminPassword: "pw", Endpoints: []identity.CatalogEntry{
		{Type: "identity", Name: "keystone", PublicURL: c.idurl, InternalURL: c.idurl, AdminURL: c.idurl},
		{Type: "object-store", Name: "swift", PublicURL: c.url + "/v1/AUTH_%(project_id)s",
			InternalURL: c.url + "/v1/AUTH_%(project_id)s", AdminURL: c.url},
	}}); err != nil {
		t.Fatal(err)
	}
	var local map[string]http.Handler
	if o.inProcess || (os.Getenv("KUMO_TEST_INPROCESS") == "1" && o.wrapObject == nil && o.objectHandler == nil) {
		local = map[string]http.Handler{}
		for _, tn := range c.nodes {
			maps.Copy(local, tn.n.Handlers())
		}
	}
	c.proxy, err = New(Config{AccountRing: c.rings[2], ContainerRing: c.rings[1], ObjectRing: c.rings[0],
		Validator: idsvc, IdentityURL: c.idurl, Log: log, NodeTimeout: o.nodeTimeout, Local: local})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: c.proxy}
	go func() { _ = srv.Serve(pl) }()
	t.Cleanup(func() { srv.Close(); c.proxy.Close() })

	c.admin, _ = c.token("admin", "pw", "admin")
	c.projA = c.idMust(201, "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "A", "domain_id": "default"}}, "project", "id")
	c.projB = c.idMust(201, "POST", "/v3/projects", map[string]any{"project": map[string]any{"name": "B", "domain_id": "default"}}, "project", "id")
	c.idMust(201, "POST", "/v3/roles", map[string]any{"role": map[string]any{"name": "ResellerAdmin"}}, "role", "id")
	c.aliceID = c.user("alice", c.projA, "member")
	c.bobID = c.user("bob", c.projB, "member")
	c.user("rita", c.projA, "reader")
	c.carolID = c.user("carol", c.projA, "member")
	c.user("reseller", c.projB, "ResellerAdmin")
	c.alice, _ = c.token("alice", "pw", "A")
	c.bob, _ = c.token("bob", "pw", "B")
	c.rita, _ = c.token("rita", "pw", "A")
	c.carol, _ = c.token("carol", "pw", "A")
	c.reseller, _ = c.token("reseller", "pw", "B")
	c.acctA, c.acctB = "/v1/AUTH_"+c.projA, "/v1/AUTH_"+c.projB
	return c
}

func (c *cluster) startNode(tn *testNode, log *slog.Logger) {
	c.t.Helper()
	n, err := node.Start(node.Config{Root: tn.root, Devices: []string{"d1", "d2"}, HashPath: testHash,
		Object: tn.ls[0], Container: tn.ls[1], Account: tn.ls[2], AccountRing: c.rings[2], ContainerRing: c.replRings[1], ObjectRing: c.replRings[0],
		Interval: 100 * time.Millisecond, UpdateTimeout: 2 * time.Second, Log: log})
	if err != nil {
		c.t.Fatal(err)
	}
	tn.n = n
	c.t.Cleanup(func() {
		if tn.n != nil {
			_ = tn.n.Close()
		}
	})
}

// stopNode takes a storage node down (its ports refuse connections).
func (c *cluster) stopNode(i int) {
	tn := c.nodes[i]
	_ = tn.n.Close()
	tn.n = nil
}

// restartNode brings a stopped node back on the same addresses and data.
func (c *cluster) restartNode(i int) {
	c.t.Helper()
	tn := c.nodes[i]
	for k, p := range tn.ports {
		l, err := net.Listen("tcp", net.JoinHostPort(tn.ip, strconv.Itoa(p)))
		if err != nil {
			c.t.Fatal(err)
		}
		tn.ls[k] = l
	}
	c.startNode(tn, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func (c *cluster) idMust(want int, method, path string, body any, keys ...string) string {
	c.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, strings.TrimSuffix(c.idurl, "/v3")+path, bytes.NewReader(raw))
	req.Header.Set("X-Auth-Token", c.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		c.t.Fatalf("identity %s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return str(out, keys...)
}

func (c *cluster) user(name, project, role string) string {
	c.t.Helper()
	uid := c.idMust(201, "POST", "/v3/users", map[string]any{"user": map[string]any{"name": name, "password": "pw", "domain_id": "default"}}, "user", "id")
	r, err := c.id.Store().GetRoleByName(context.Background(), "", role)
	if err != nil {
		c.t.Fatal(err)
	}
	c.idMust(204, "PUT", "/v3/projects/"+project+"/users/"+uid+"/roles/"+r.ID, nil)
	return uid
}

func (c *cluster) token(user, password, project string) (string, map[string]any) {
	c.t.Helper()
	auth := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"id": "default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"id": "default"}}}}}
	raw, _ := json.Marshal(auth)
	resp, err := http.Post(c.idurl+"/auth/tokens", "application/json", bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 201 {
		c.t.Fatalf("token for %s: %d %v", user, resp.StatusCode, out)
	}
	return resp.Header.Get("X-Subject-Token"), out
}

func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		obj, _ := cur.(map[string]any)
		cur = obj[k]
	}
	s, _ := cur.(string)
	return s
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request to the proxy. body nil sends no body; hdr is
// name, value pairs.
func (c *cluster) do(method, path, token string, body []byte, hdr ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		r.Header.Set("X-Auth-Token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header}
	out.body, _ = io.ReadAll(res.Body)
	checkCommonHeaders(c.t, method, path, out)
	return out
}

// must is do that fails unless the status is want.
func (c *cluster) must(want int, method, path, token string, body []byte, hdr ...string) resp {
	c.t.Helper()
	r := c.do(method, path, token, body, hdr...)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// eventually polls f (bounded: 10 s) until it returns "".
func eventually(t testing.TB, f func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dataFiles counts an object's .data replicas across every node's devices.
func (c *cluster) dataFiles(account, container, object string) (n int, where []string) {
	for _, tn := range c.nodes {
		_ = filepath.WalkDir(tn.root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".data") {
				h := filepath.Base(filepath.Dir(p))
				if h == hashOf(account, container, object) {
					n++
					where = append(where, p)
				}
			}
			return nil
		})
	}
	return n, where
}

func hashOf(a, c, o string) string {
	return objHash.ObjectHash(a, c, o)
}

func atoiH(h http.Header, k string) int {
	n, _ := strconv.Atoi(h.Get(k))
	return n
}
