package cloud

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"kumo/internal/objectstore/node"
	"kumo/internal/objectstore/proxy"
	"kumo/internal/platform/config"
)

// startObjectStore starts the all-in-one object store: one storage node
// whose devices are directories under DATA/objectstore/devices, its
// servers on loopback only (the proxy, in this process, reaches them
// without the socket; the listeners serve replication), rings built at
// the first start (then reloaded: `kumo admin ring` can show them), and the
// Swift proxy, served on the object-store port. With object_store.node
// false only the proxy runs, on the rings and hash path in swift_dir, in
// front of nodes started by kumo serve --roles objectstore-node.
func (c *Cloud) startObjectStore() error {
	cfg := c.cfg
	if !cfg.ObjectStore.Node {
		_, rs, err := node.LoadSwiftDir(cfg.SwiftDirPath())
		if err != nil {
			return fmt.Errorf("%w (object_store.node is false: kumo up runs only the proxy, on the rings of an existing cluster)", err)
		}
		c.swift, err = proxy.New(proxy.Config{AccountRing: rs.Account, ContainerRing: rs.Container, ObjectRing: rs.Object,
			Validator: c.tokens, IdentityURL: c.IdentityURL, Log: c.log})
		return err
	}
	root := cfg.SwiftDirPath()
	hp, err := node.LoadHashPath(filepath.Join(root, "hashpath.json"))
	if err != nil {
		return err
	}
	var devices []string
	for i := 1; i <= cfg.ObjectStore.Devices; i++ {
		devices = append(devices, "d"+strconv.Itoa(i))
	}
	ports := []int{config.ObjectServerPort + cfg.PortOffset, config.ContainerServerPort + cfg.PortOffset,
		config.AccountServerPort + cfg.PortOffset}
	acct, cont, obj, err := node.EnsureRings(filepath.Join(root, "rings"), node.Layout{IP: "127.0.0.1",
		ObjectPort: ports[0], ContainerPort: ports[1], AccountPort: ports[2], Devices: devices,
		Replicas: cfg.ObjectStore.Replicas}, hp)
	if err != nil {
		return err
	}
	var ls [3]net.Listener
	for i, p := range ports {
		if ls[i], err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err != nil {
			for _, l := range ls[:i] {
				l.Close()
			}
			return fmt.Errorf("object storage node: cannot listen on 127.0.0.1:%d: %w", p, err)
		}
	}
	ob := cfg.ObjectStore
	c.storage, err = node.Start(node.Config{Root: cfg.DevicesRootPath(), Devices: devices, HashPath: hp,
		Object: ls[0], Container: ls[1], Account: ls[2], AccountRing: acct, ContainerRing: cont, ObjectRing: obj,
		Interval: ob.UpdaterInterval.Duration, ReplicationInterval: ob.ReplicationInterval.Duration,
		AuditInterval: ob.AuditInterval.Duration, FallocateReserve: ob.FallocateReserve, Log: c.log})
	if err != nil {
		for _, l := range ls {
			l.Close()
		}
		return err
	}
	c.swift, err = proxy.New(proxy.Config{AccountRing: acct, ContainerRing: cont, ObjectRing: obj,
		Validator: c.tokens, IdentityURL: c.IdentityURL, Log: c.log, Local: c.storage.Handlers()})
	return err
}

func (c *Cloud) closeObjectStore() {
	if c.swift != nil {
		c.swift.Close()
		c.swift = nil
	}
	if c.storage != nil {
		_ = c.storage.Close()
		c.storage = nil
	}
}
