package node

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"kumo/internal/objectstore/ring"
)

// Rings are a cluster's three rings, shared by the proxy and every node.
type Rings struct {
	Account, Container, Object *ring.Ring
}

// LoadSwiftDir reads what a cluster shares from dir, as Swift's /etc/swift:
// hashpath.json (the path salt, which must already exist: a node or proxy
// that made up its own would place every object elsewhere) and the
// account, container and object rings. A ring is <kind>.ring.gz or
// <kind>.ring (what `kumo admin ring <kind>.builder rebalance` writes), in
// dir or in dir/rings (where the all-in-one keeps them).
func LoadSwiftDir(dir string) (ring.HashPath, Rings, error) {
	var rs Rings
	hpFile := filepath.Join(dir, "hashpath.json")
	if _, err := os.Stat(hpFile); err != nil {
		return ring.HashPath{}, rs, fmt.Errorf("object store: no %s (the cluster's hash path prefix and suffix, "+
			`{"Prefix":"...","Suffix":"..."}, the same file on the proxy and every node): %w`, hpFile, err)
	}
	hp, err := LoadHashPath(hpFile)
	if err != nil {
		return hp, rs, err
	}
	for _, k := range []struct {
		name string
		dst  **ring.Ring
	}{{"account", &rs.Account}, {"container", &rs.Container}, {"object", &rs.Object}} {
		path, err := findRing(dir, k.name)
		if err != nil {
			return hp, rs, err
		}
		if *k.dst, err = ring.LoadRing(path, hp); err != nil {
			return hp, rs, err
		}
	}
	return hp, rs, nil
}

func findRing(dir, kind string) (string, error) {
	var tried []string
	for _, d := range []string{dir, filepath.Join(dir, "rings")} {
		for _, name := range []string{kind + ".ring.gz", kind + ".ring"} {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
			tried = append(tried, p)
		}
	}
	return "", fmt.Errorf("object store: no %s ring: none of %v exists (build it with kumo admin ring %s.builder ... rebalance)",
		kind, tried, filepath.Join(dir, kind))
}

// Ports are a node's object, container and account server ports.
type Ports struct{ Object, Container, Account int }

// LocalDevices finds this node's devices in the rings as Swift's servers
// do: those whose ip:port is one of ips with the ring's server port. It
// returns the device names (sorted, each once) and the "ip:port" addresses
// they name, and fails when the rings give this node nothing to store.
func LocalDevices(rs Rings, ips []string, p Ports) (devices, addrs []string, err error) {
	seen, seenAddr := map[string]bool{}, map[string]bool{}
	for _, k := range []struct {
		r    *ring.Ring
		port int
	}{{rs.Object, p.Object}, {rs.Container, p.Container}, {rs.Account, p.Account}} {
		for _, d := range k.r.Devices() {
			if d.Port != k.port || !sameIP(d.IP, ips) {
				continue
			}
			if !seen[d.Name] {
				seen[d.Name] = true
				devices = append(devices, d.Name)
			}
			a := net.JoinHostPort(d.IP, strconv.Itoa(d.Port))
			if !seenAddr[a] {
				seenAddr[a] = true
				addrs = append(addrs, a)
			}
		}
	}
	if len(devices) == 0 {
		return nil, nil, fmt.Errorf("object store: the rings name no device on %v at ports object %d, container %d, account %d: "+
			"add this node's devices with kumo admin ring, or start it with the --bind-ip and ports the rings use",
			ips, p.Object, p.Container, p.Account)
	}
	slices.Sort(devices)
	return devices, addrs, nil
}

func sameIP(ip string, ips []string) bool {
	a := net.ParseIP(ip)
	for _, s := range ips {
		if b := net.ParseIP(s); (a != nil && b != nil && a.Equal(b)) || s == ip {
			return true
		}
	}
	return false
}

// HostIPs is what a node bound to bindIP answers on: bindIP itself, or for
// a wildcard address every address of this host (Swift's whoami_ips).
func HostIPs(bindIP string) ([]string, error) {
	ip := net.ParseIP(bindIP)
	if ip == nil {
		return nil, fmt.Errorf("object store: bind ip %q is not an IP address", bindIP)
	}
	if !ip.IsUnspecified() {
		return []string{bindIP}, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out, nil
}
