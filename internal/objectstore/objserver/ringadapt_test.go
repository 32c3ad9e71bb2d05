package objserver

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"kumo/internal/objectstore/ring"
)

func TestRingPeersAndHashAgreeWithRing(t *testing.T) {
	b, err := ring.NewBuilder(4, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, port := range []int{6201, 6202, 6203, 6204} {
		if _, err := b.AddDevice(ring.Device{Region: 1, Zone: i + 1, IP: "127.0.0.1", Port: port, Name: "sdb1", Weight: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	r, err := b.Ring(ring.HashPath(testHashPath))
	if err != nil {
		t.Fatal(err)
	}
	// The node files an object under the hash the ring places it by.
	h := testHashPath.ObjectHash("AUTH_a", "c", "o")
	raw, _ := hex.DecodeString(h)
	if want := int(binary.BigEndian.Uint32(raw[:4]) >> (32 - 4)); r.PartitionFor("AUTH_a", "c", "o") != want {
		t.Fatalf("ring partition %d, node hash says %d", r.PartitionFor("AUTH_a", "c", "o"), want)
	}
	for part := 0; part < r.Partitions(); part++ {
		nodes := r.Nodes(part)
		self := nodes[0]
		isLocal := func(ip string, port int) bool { return ip == self.IP && port == self.Port }
		peers, primary := RingPeers{Ring: r, IsLocal: isLocal}.Peers("sdb1", part)
		if !primary || len(peers) != 2 {
			t.Fatalf("part %d: primary=%v peers=%v", part, primary, peers)
		}
		for _, p := range peers {
			if p.URL == "http://127.0.0.1:"+itoaInt(self.Port) {
				t.Fatalf("part %d: self among peers", part)
			}
		}
		// A node holding none of the replicas holds a handoff.
		peers, primary = RingPeers{Ring: r, IsLocal: func(string, int) bool { return false }}.Peers("sdb1", part)
		if primary || len(peers) != 3 {
			t.Fatalf("part %d as handoff: primary=%v peers=%v", part, primary, peers)
		}
	}
}

func itoaInt(n int) string { return strconvI(int64(n)) }

// Without IsLocal the adapter cannot tell this node's devices from others:
// it must not call any partition a handoff, or the replicator would delete
// primary partitions once their peers are in sync.
func TestRingPeersWithoutIsLocalNeverClaimsHandoff(t *testing.T) {
	b, err := ring.NewBuilder(2, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []int{6201, 6202} {
		if _, err := b.AddDevice(ring.Device{Region: 1, Zone: 1, IP: "127.0.0.1", Port: port, Name: "sdb1", Weight: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	r, err := b.Ring(ring.HashPath(testHashPath))
	if err != nil {
		t.Fatal(err)
	}
	for part := 0; part < r.Partitions(); part++ {
		if _, primary := (RingPeers{Ring: r}).Peers("sdb1", part); !primary {
			t.Fatalf("part %d: nil IsLocal reported a handoff", part)
		}
	}
}
