package objserver

import (
	"net"
	"strconv"

	"kumo/internal/objectstore/ring"
)

// RingPeers is a PeerFinder over the object ring. IsLocal tells this
// node's own addresses, so that its device is not its own peer; without it
// every partition counts as primary, so none is ever dropped as a handoff.
type RingPeers struct {
	Ring    *ring.Ring
	IsLocal func(ip string, port int) bool
}

var _ PeerFinder = RingPeers{}

// Peers returns the partition's other primaries, at their replication
// address when the ring gives one (as Swift's replicators use), and whether
// device on this node is one of the primaries.
func (p RingPeers) Peers(device string, part int) ([]Node, bool) {
	if p.Ring == nil || part < 0 || part >= p.Ring.Partitions() {
		return nil, false
	}
	var out []Node
	// Without IsLocal nothing can be proven a handoff, and a false handoff
	// would have its partitions deleted once the peers are in sync.
	primary := p.IsLocal == nil
	for _, d := range p.Ring.Nodes(part) {
		if d.Name == device && p.IsLocal != nil && (p.IsLocal(d.IP, d.Port) || p.IsLocal(d.ReplicationIP, d.ReplicationPort)) {
			primary = true
			continue
		}
		ip, port := d.IP, d.Port
		if d.ReplicationIP != "" && d.ReplicationPort != 0 {
			ip, port = d.ReplicationIP, d.ReplicationPort
		}
		out = append(out, Node{URL: "http://" + net.JoinHostPort(ip, strconv.Itoa(port)), Device: d.Name})
	}
	return out, primary
}
