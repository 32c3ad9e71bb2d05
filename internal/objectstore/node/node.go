// Package node starts one Swift storage node: the object, container and
// account servers over the device directories under one root, each on its
// own listener (Swift's 6200/6201/6202), plus the background passes that
// keep listings current (container updater, object updater, expirer) and,
// given the rings, the object, container and account replicators. The
// listeners should be on the addresses the rings name, which is how a node
// recognizes its own devices.
//
// Tests start several nodes in one process; `kumo serve --roles
// objectstore-node` starts one per host (or per loopback address). A
// proxy reaches them over HTTP, except in `kumo up`, where proxy and node
// share the process and the proxy's requests go to Handlers in process
// (package inproc); a node's container updates to its own container
// server skip the socket the same way.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"kumo/internal/objectstore/containerserver"
	"kumo/internal/objectstore/objserver"
	"kumo/internal/objectstore/ring"
	"kumo/internal/platform/inproc"
)

// Config describes one storage node.
type Config struct {
	// Root holds one directory per device (Swift's /srv/node).
	Root string
	// Devices are created under Root when missing.
	Devices  []string
	HashPath ring.HashPath
	// The three servers' listeners; a nil listener leaves that server off.
	Object, Container, Account net.Listener
	// AccountRing lets the container updater find account replicas; nil
	// means the X-Account-* hosts the proxy sent with the container PUT.
	AccountRing *ring.Ring
	// ContainerRing and ObjectRing, with AccountRing, turn on the
	// replicators (each pass every Interval); without them the node only
	// serves.
	ContainerRing, ObjectRing *ring.Ring
	// Interval is how often the updaters and the expirer sweep. Default 30s.
	Interval time.Duration
	// ReplicationInterval is the pause between replicator passes (default
	// Interval); AuditInterval between object auditor passes (default 30
	// minutes; each pass reads at most AuditBytesPerSecond, default 10 MB/s
	// as Swift's bytes_per_second; negative: unlimited).
	ReplicationInterval, AuditInterval time.Duration
	AuditBytesPerSecond                int64
	// FallocateReserve keeps this many bytes of each device free: a PUT
	// that would cross it gets 507 (Swift's fallocate_reserve).
	FallocateReserve int64
	// Local lists this node's "ip:port" addresses as the rings name them;
	// empty means the listeners' addresses (which differ when a listener
	// is on a wildcard address).
	Local []string
	// UpdateTimeout bounds the object server's wait for container updates.
	UpdateTimeout time.Duration
	Log           *slog.Logger
}

// Node is a running storage node.
type Node struct {
	Objects    *objserver.Store
	Containers *containerserver.Store

	servers  []*http.Server
	handlers map[string]http.Handler // by "ip:port"
	closed   atomic.Bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Start creates the devices, opens the stores and serves them.
func Start(cfg Config) (*Node, error) {
	if cfg.Root == "" {
		return nil, errors.New("node: no root directory")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.ReplicationInterval <= 0 {
		cfg.ReplicationInterval = cfg.Interval
	}
	if cfg.AuditInterval <= 0 {
		cfg.AuditInterval = 30 * time.Minute
	}
	if cfg.AuditBytesPerSecond == 0 {
		cfg.AuditBytesPerSecond = 10_000_000
	}
	for _, d := range cfg.Devices {
		if err := os.MkdirAll(filepath.Join(cfg.Root, d), 0o755); err != nil {
			return nil, fmt.Errorf("node: create device %s: %w", d, err)
		}
	}
	cs := containerserver.NewStore(cfg.Root, containerserver.HashPath(cfg.HashPath), 0)
	var loc containerserver.AccountLocator
	if cfg.AccountRing != nil {
		loc = containerserver.RingAccounts{Ring: cfg.AccountRing}
	}
	// What this node's servers send to its own servers (container and
	// account updates) goes in process.
	n := &Node{Containers: cs, handlers: map[string]http.Handler{}}
	local := &inproc.Transport{Hosts: n.handlers, Next: http.DefaultTransport, Log: cfg.Log}
	updater := containerserver.NewUpdater(cs, loc, &http.Client{Transport: local, Timeout: 10 * time.Second}, cfg.Log)
	n.addHandler(cfg, cfg.Container, containerserver.NewContainerServer(cs, updater, cfg.Log))
	n.addHandler(cfg, cfg.Account, containerserver.NewAccountServer(cs, cfg.Log))
	client := &http.Client{Transport: local}
	obj, err := objserver.NewStore(objserver.Config{Root: cfg.Root, HashPath: objserver.HashPath(cfg.HashPath),
		UpdateTimeout: cfg.UpdateTimeout, FallocateReserve: cfg.FallocateReserve, Log: cfg.Log, Client: client})
	if err != nil {
		cs.Close()
		return nil, fmt.Errorf("node: object store: %w", err)
	}
	n.Objects = obj
	n.addHandler(cfg, cfg.Object, objserver.NewServer(obj))
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.serve(cfg.Object, cfg.Log)
	n.serve(cfg.Container, cfg.Log)
	n.serve(cfg.Account, cfg.Log)
	n.wg.Add(3)
	go func() {
		defer n.wg.Done()
		updater.Run(ctx, cfg.Interval)
	}()
	go func() {
		defer n.wg.Done()
		n.sweepObjects(ctx, cfg.Interval, cfg.Log)
	}()
	go func() {
		defer n.wg.Done()
		n.audit(ctx, cfg)
	}()
	if cfg.AccountRing != nil && cfg.ContainerRing != nil && cfg.ObjectRing != nil {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.replicate(ctx, cfg)
		}()
	}
	return n, nil
}

// replicate runs the object, container and account replicators, as
// Swift's *-replicator daemons, so handoffs go home and replicas converge.
func (n *Node) replicate(ctx context.Context, cfg Config) {
	local := localAddrs(cfg.Object, cfg.Container, cfg.Account)
	if len(cfg.Local) > 0 {
		local = map[string]bool{}
		for _, a := range cfg.Local {
			local[a] = true
		}
	}
	isLocal := func(ip string, port int) bool { return local[net.JoinHostPort(ip, strconv.Itoa(port))] }
	objs := objserver.NewReplicator(n.Objects, objserver.RingPeers{Ring: cfg.ObjectRing, IsLocal: isLocal})
	peers := containerserver.RingPeers{Accounts: cfg.AccountRing, Containers: cfg.ContainerRing, IsLocal: isLocal}
	conts := containerserver.NewReplicator(n.Containers, containerserver.KindContainer, peers, nil, cfg.Log)
	accts := containerserver.NewReplicator(n.Containers, containerserver.KindAccount, peers, nil, cfg.Log)
	t := time.NewTicker(cfg.ReplicationInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := objs.RunOnce(ctx); err != nil && ctx.Err() == nil {
			cfg.Log.Warn("object replicator pass", "err", err)
		}
		for _, r := range []*containerserver.Replicator{conts, accts} {
			if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
				cfg.Log.Warn("database replicator pass", "err", err)
			}
		}
	}
}

// audit runs the object auditor, as Swift's object-auditor daemon: corrupt
// replicas are quarantined and the replicator then restores them.
func (n *Node) audit(ctx context.Context, cfg Config) {
	a := objserver.NewAuditor(n.Objects)
	a.BytesPerSecond = cfg.AuditBytesPerSecond
	t := time.NewTicker(cfg.AuditInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := a.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			cfg.Log.Warn("object auditor pass", "err", err)
		}
		if st.Quarantined > 0 {
			cfg.Log.Warn("object auditor quarantined objects", "count", st.Quarantined)
		}
	}
}

// addHandler makes h the server on listener l (if any), under every name
// the rings may give it: the listener's address and, with cfg.Local, the
// local names on its port.
func (n *Node) addHandler(cfg Config, l net.Listener, inner http.Handler) {
	if l == nil {
		return
	}
	// Once the node is closed its handlers fail every request, as its
	// closed listeners refuse connections.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.closed.Load() {
			panic(http.ErrAbortHandler)
		}
		inner.ServeHTTP(w, r)
	})
	addr := l.Addr().String()
	n.handlers[addr] = h
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	for _, a := range cfg.Local {
		if _, p, err := net.SplitHostPort(a); err == nil && p == port {
			n.handlers[a] = h
		}
	}
}

// Handlers are this node's servers by the "ip:port" names the rings give
// them, for an inproc.Transport: a proxy in the same process reaches them
// without a socket.
func (n *Node) Handlers() map[string]http.Handler { return n.handlers }

func localAddrs(ls ...net.Listener) map[string]bool {
	m := map[string]bool{}
	for _, l := range ls {
		if l != nil {
			m[l.Addr().String()] = true
		}
	}
	return m
}

func (n *Node) serve(l net.Listener, log *slog.Logger) {
	if l == nil {
		return
	}
	srv := &http.Server{Handler: n.handlers[l.Addr().String()], ReadHeaderTimeout: 30 * time.Second}
	n.servers = append(n.servers, srv)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("storage server stopped", "addr", l.Addr().String(), "err", err)
		}
	}()
}

// sweepObjects retries async pending container updates and expires objects,
// as Swift's object-updater and object-expirer daemons.
func (n *Node) sweepObjects(ctx context.Context, every time.Duration, log *slog.Logger) {
	up, exp := objserver.NewUpdater(n.Objects), objserver.NewExpirer(n.Objects)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := up.RunOnce(ctx); err != nil && ctx.Err() == nil {
			log.Warn("object updater pass", "err", err)
		}
		if _, err := exp.RunOnce(ctx); err != nil && ctx.Err() == nil {
			log.Warn("object expirer pass", "err", err)
		}
	}
}

// Close stops the servers and the background passes and waits for them.
func (n *Node) Close() error {
	n.closed.Store(true)
	var errs []error
	for _, s := range n.servers {
		errs = append(errs, s.Close())
	}
	n.cancel()
	n.wg.Wait()
	n.Objects.WaitUpdates()
	n.Objects.Close()
	n.Containers.Close()
	return errors.Join(errs...)
}
