package containerserver

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"kumo/internal/objectstore/ring"
)

// TestRingAdapters: databases are placed by the same hash the ring uses,
// and the adapters turn ring devices into peers and account targets.
func TestRingAdapters(t *testing.T) {
	const power = 6
	b, err := ring.NewBuilder(power, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if _, err := b.AddDevice(ring.Device{Region: 1, Zone: i + 1, IP: ip, Port: 6201, Name: "sd" + string(rune('a'+i)), Weight: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	r, err := b.Ring(ring.HashPath{Prefix: testHash.Prefix, Suffix: testHash.Suffix})
	if err != nil {
		t.Fatal(err)
	}
	for _, ac := range [][2]string{{"AUTH_a", ""}, {"AUTH_a", "photos"}, {"AUTH_ü", "日本"}} {
		sum, _ := hex.DecodeString(testHash.Hash(ac[0], ac[1]))
		if got, want := int(binary.BigEndian.Uint32(sum)>>(32-power)), r.PartitionFor(ac[0], ac[1], ""); got != want {
			t.Errorf("%v: partition from our hash %d, ring says %d", ac, got, want)
		}
	}
	part, nodes, err := RingAccounts{Ring: r}.AccountNodes("AUTH_a")
	if err != nil || part != r.PartitionFor("AUTH_a", "", "") || len(nodes) != 3 {
		t.Fatalf("AccountNodes: %d %v %v", part, nodes, err)
	}
	self := nodes[0]
	peers, err := RingPeers{Containers: r, IsLocal: func(ip string, port int) bool {
		return ip+":"+itoa(port) == self.Addr
	}}.Peers(KindContainer, self.Device, part)
	if err != nil || len(peers) != 2 {
		t.Fatalf("Peers: %v %v", peers, err)
	}
	for _, p := range peers {
		if p == self {
			t.Fatalf("a device is its own peer: %v", peers)
		}
	}
}
