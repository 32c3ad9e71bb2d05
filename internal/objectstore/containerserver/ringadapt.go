package containerserver

import (
	"fmt"
	"net"
	"strconv"

	"kumo/internal/objectstore/ring"
)

// RingAccounts is an AccountLocator over the account ring.
type RingAccounts struct{ Ring *ring.Ring }

var _ AccountLocator = RingAccounts{}

// AccountNodes returns the account's partition and primary devices.
func (r RingAccounts) AccountNodes(account string) (int, []Node, error) {
	if r.Ring == nil {
		return 0, nil, fmt.Errorf("no account ring")
	}
	part := r.Ring.PartitionFor(account, "", "")
	var nodes []Node
	for _, d := range r.Ring.Nodes(part) {
		nodes = append(nodes, Node{Addr: net.JoinHostPort(d.IP, strconv.Itoa(d.Port)), Device: d.Name})
	}
	return part, nodes, nil
}

// RingPeers is a PartitionPeers over the account and container rings.
// IsLocal tells this node's own address, so a device is not its own peer.
type RingPeers struct {
	Accounts, Containers *ring.Ring
	IsLocal              func(ip string, port int) bool
}

var _ PartitionPeers = RingPeers{}

// Peers returns the partition's other primaries, at their replication
// address when the ring gives one (as Swift's replicators use).
func (p RingPeers) Peers(kind Kind, device string, part int) ([]Node, error) {
	r := p.Containers
	if kind == KindAccount {
		r = p.Accounts
	}
	if r == nil {
		return nil, fmt.Errorf("no %s ring", kind)
	}
	var out []Node
	for _, d := range r.Nodes(part) {
		if d.Name == device && p.IsLocal != nil && (p.IsLocal(d.IP, d.Port) || p.IsLocal(d.ReplicationIP, d.ReplicationPort)) {
			continue
		}
		ip, port := d.IP, d.Port
		if d.ReplicationIP != "" && d.ReplicationPort != 0 {
			ip, port = d.ReplicationIP, d.ReplicationPort
		}
		out = append(out, Node{Addr: net.JoinHostPort(ip, strconv.Itoa(port)), Device: d.Name})
	}
	return out, nil
}
