package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"kumo/internal/objectstore/node"
	"kumo/internal/platform/config"
)

// knownRoles are what kumo serve --roles accepts.
var knownRoles = []string{"objectstore-node"}

// nodeFlags are kumo serve's options for the objectstore-node role.
type nodeFlags struct {
	roles, swiftDir, devices, bindIP, logLevel string
	portOffset, objectPort, containerPort      int
	accountPort                                int
}

func serveCmd() *cobra.Command {
	var cf commonFlags
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run some of kumo's roles, e.g. one object-store storage node",
		Long: `Run the given roles in the foreground. Today's one role is objectstore-node: a
Swift storage node (object, container and account servers on --bind-ip at
ports 6200, 6201 and 6202 plus --port-offset, with their replicators, updaters,
auditor and expirer), for an object store of several nodes behind the proxy of
a "kumo up" whose config says object_store.node: false.

The swift dir (--swift-dir, default DATA/objectstore) holds what the proxy and
every node share, as Swift's /etc/swift: hashpath.json and the account,
container and object rings (<kind>.ring.gz or the <kind>.ring that
"kumo admin ring <kind>.builder rebalance" writes). The node serves the
devices the rings name at its address and ports, as directories under
--devices (default DATA/objectstore/devices), and refuses to start when the
rings name none. When it serves, it prints "kumo objectstore-node ready: ...";
SIGTERM stops it cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			roles, err := parseRoles(f.roles)
			if err != nil {
				return err
			}
			cfg, err := cf.load(cmd)
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			if fl.Changed("port-offset") {
				cfg.PortOffset = f.portOffset
			}
			if fl.Changed("log-level") {
				cfg.LogLevel = f.logLevel
			}
			if fl.Changed("swift-dir") {
				cfg.ObjectStore.SwiftDir = f.swiftDir
			}
			if fl.Changed("devices") {
				cfg.ObjectStore.DevicesRoot = f.devices
			}
			ports := node.Ports{Object: config.ObjectServerPort + cfg.PortOffset,
				Container: config.ContainerServerPort + cfg.PortOffset, Account: config.AccountServerPort + cfg.PortOffset}
			for _, p := range []struct {
				flag string
				v    int
				dst  *int
			}{{"object-port", f.objectPort, &ports.Object}, {"container-port", f.containerPort, &ports.Container},
				{"account-port", f.accountPort, &ports.Account}} {
				if fl.Changed(p.flag) {
					*p.dst = p.v
				}
			}
			log := newLogger(cfg.LogLevel)
			slog.SetDefault(log)
			tuneRuntime()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if slices.Contains(roles, "objectstore-node") {
				return runStorageNode(ctx, cfg, f.bindIP, ports, log)
			}
			return nil
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.roles, "roles", "", "comma-separated roles to run: "+strings.Join(knownRoles, ", "))
	fl.StringVar(&f.swiftDir, "swift-dir", "", "directory with hashpath.json and the rings (default DATA/objectstore; config object_store.swift_dir)")
	fl.StringVar(&f.devices, "devices", "", "directory of the node's device directories (default DATA/objectstore/devices; config object_store.devices_root)")
	fl.StringVar(&f.bindIP, "bind-ip", "127.0.0.1", "address the storage servers listen on; the rings name the node by it")
	fl.IntVar(&f.portOffset, "port-offset", 0, "added to the standard ports 6200 (object), 6201 (container), 6202 (account) (env KUMO_PORT_OFFSET)")
	fl.IntVar(&f.objectPort, "object-port", 0, "object server port (default 6200 + offset)")
	fl.IntVar(&f.containerPort, "container-port", 0, "container server port (default 6201 + offset)")
	fl.IntVar(&f.accountPort, "account-port", 0, "account server port (default 6202 + offset)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error (env KUMO_LOG_LEVEL)")
	return cmd
}

// parseRoles checks a --roles list against knownRoles.
func parseRoles(s string) ([]string, error) {
	var roles []string
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !slices.Contains(knownRoles, r) {
			return nil, fmt.Errorf("--roles: unknown role %q: known roles are %s", r, strings.Join(knownRoles, ", "))
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("--roles: name at least one role: known roles are %s", strings.Join(knownRoles, ", "))
	}
	return roles, nil
}

// runStorageNode serves the devices the rings give this node until ctx ends.
func runStorageNode(ctx context.Context, cfg config.Config, bindIP string, ports node.Ports, log *slog.Logger) error {
	hp, rs, err := node.LoadSwiftDir(cfg.SwiftDirPath())
	if err != nil {
		return err
	}
	ips, err := node.HostIPs(bindIP)
	if err != nil {
		return err
	}
	devices, local, err := node.LocalDevices(rs, ips, ports)
	if err != nil {
		return err
	}
	var ls [3]net.Listener
	for i, p := range []int{ports.Object, ports.Container, ports.Account} {
		if ls[i], err = net.Listen("tcp", net.JoinHostPort(bindIP, strconv.Itoa(p))); err != nil {
			for _, l := range ls[:i] {
				l.Close()
			}
			return fmt.Errorf("objectstore-node: %w", err)
		}
	}
	if err := os.MkdirAll(cfg.DevicesRootPath(), 0o755); err != nil {
		return err
	}
	ob := cfg.ObjectStore
	n, err := node.Start(node.Config{Root: cfg.DevicesRootPath(), Devices: devices, HashPath: hp,
		Object: ls[0], Container: ls[1], Account: ls[2], AccountRing: rs.Account, ContainerRing: rs.Container, ObjectRing: rs.Object,
		Interval: ob.UpdaterInterval.Duration, ReplicationInterval: ob.ReplicationInterval.Duration,
		AuditInterval: ob.AuditInterval.Duration, FallocateReserve: ob.FallocateReserve, Local: local, Log: log})
	if err != nil {
		for _, l := range ls {
			l.Close()
		}
		return err
	}
	log.Info("objectstore-node started", "devices", devices, "root", cfg.DevicesRootPath(), "swift_dir", cfg.SwiftDirPath())
	fmt.Printf("kumo objectstore-node ready: object %s, container %s, account %s, devices %s under %s\n",
		ls[0].Addr(), ls[1].Addr(), ls[2].Addr(), strings.Join(devices, ","), cfg.DevicesRootPath())
	<-ctx.Done()
	log.Info("objectstore-node stopping")
	return n.Close()
}
