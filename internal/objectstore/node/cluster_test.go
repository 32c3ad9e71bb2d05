package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kumo/internal/objectstore/ring"
)

// buildRing writes <kind>.ring into dir as kumo admin ring does, with one
// device per address.
func buildRing(t *testing.T, dir, kind string, devs []ring.Device) {
	t.Helper()
	b, err := ring.NewBuilder(4, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if _, err := b.AddDevice(d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Rebalance(); err != nil {
		t.Fatal(err)
	}
	r, err := b.Ring(ring.HashPath{Suffix: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Save(filepath.Join(dir, kind+".ring")); err != nil {
		t.Fatal(err)
	}
}

// A swift dir without hashpath.json or a ring is refused with a message
// naming what is missing; a complete one loads, and each node finds
// exactly its own devices, by address and per-ring port.
func TestLoadSwiftDirAndLocalDevices(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadSwiftDir(dir); err == nil || !strings.Contains(err.Error(), "hashpath.json") {
		t.Fatalf("no hashpath.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hashpath.json")); err == nil {
		t.Fatal("LoadSwiftDir made up a hash path")
	}
	os.WriteFile(filepath.Join(dir, "hashpath.json"), []byte(`{"Prefix":"p","Suffix":"s"}`), 0o600)
	if _, _, err := LoadSwiftDir(dir); err == nil || !strings.Contains(err.Error(), "no account ring") {
		t.Fatalf("no rings: %v", err)
	}
	for i, kind := range []string{"object", "container", "account"} {
		buildRing(t, dir, kind, []ring.Device{
			{Region: 1, Zone: 1, IP: "127.0.0.11", Port: 6200 + i, Name: "sda", Weight: 1},
			{Region: 1, Zone: 1, IP: "127.0.0.11", Port: 6200 + i, Name: "sdb", Weight: 1},
			{Region: 2, Zone: 1, IP: "127.0.0.12", Port: 6200 + i, Name: "sda", Weight: 1},
		})
	}
	hp, rs, err := LoadSwiftDir(dir)
	if err != nil || hp.Prefix != "p" || rs.Object == nil || rs.Container == nil || rs.Account == nil {
		t.Fatalf("load: %+v %v", hp, err)
	}
	ports := Ports{Object: 6200, Container: 6201, Account: 6202}
	devs, addrs, err := LocalDevices(rs, []string{"127.0.0.11"}, ports)
	if err != nil || strings.Join(devs, ",") != "sda,sdb" || len(addrs) != 3 {
		t.Fatalf("node 1: %v %v %v", devs, addrs, err)
	}
	if devs, _, err := LocalDevices(rs, []string{"127.0.0.12"}, ports); err != nil || strings.Join(devs, ",") != "sda" {
		t.Fatalf("node 2: %v %v", devs, err)
	}
	// Right address, wrong ports; or an address the rings do not name.
	for _, c := range []struct {
		ip string
		p  Ports
	}{{"127.0.0.11", Ports{7200, 7201, 7202}}, {"127.0.0.13", ports}} {
		if _, _, err := LocalDevices(rs, []string{c.ip}, c.p); err == nil || !strings.Contains(err.Error(), "name no device") {
			t.Fatalf("%s %v: %v", c.ip, c.p, err)
		}
	}
	if ips, err := HostIPs("0.0.0.0"); err != nil || len(ips) == 0 {
		t.Fatalf("wildcard: %v %v", ips, err)
	}
	if _, err := HostIPs("node1"); err == nil {
		t.Fatal("a host name accepted as bind ip")
	}
}
