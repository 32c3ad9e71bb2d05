package ring

import (
	"fmt"
	"math"
	"net"
	"strings"
)

// Device is one disk of one storage node, the unit a partition replica is
// placed on. Region, Zone, IP and ID form its failure-domain tiers.
type Device struct {
	ID              int     `json:"id"`
	Region          int     `json:"region"`
	Zone            int     `json:"zone"`
	IP              string  `json:"ip"`
	Port            int     `json:"port"`
	ReplicationIP   string  `json:"replication_ip"`
	ReplicationPort int     `json:"replication_port"`
	Name            string  `json:"device"`
	Weight          float64 `json:"weight"`
	Meta            string  `json:"meta"`
}

// maxDevID keeps IDs below noneDev so a uint16 slot can hold "unassigned".
const (
	noneDev  = math.MaxUint16
	maxDevID = noneDev - 1
)

// validate rejects what swift-ring-builder's add command rejects.
func (d *Device) validate() error {
	if d.Region < 0 || d.Zone < 0 {
		return fmt.Errorf("device %q: region and zone must be non-negative", d.Name)
	}
	if net.ParseIP(d.IP) == nil && !validHostname(d.IP) {
		return fmt.Errorf("device %q: invalid ip %q", d.Name, d.IP)
	}
	if d.Port < 1 || d.Port > 65535 {
		return fmt.Errorf("device %q: invalid port %d", d.Name, d.Port)
	}
	if d.ReplicationIP == "" {
		d.ReplicationIP = d.IP
	}
	if d.ReplicationPort == 0 {
		d.ReplicationPort = d.Port
	}
	if net.ParseIP(d.ReplicationIP) == nil && !validHostname(d.ReplicationIP) {
		return fmt.Errorf("device %q: invalid replication ip %q", d.Name, d.ReplicationIP)
	}
	if d.ReplicationPort < 1 || d.ReplicationPort > 65535 {
		return fmt.Errorf("device %q: invalid replication port %d", d.Name, d.ReplicationPort)
	}
	if d.Name == "" || strings.ContainsAny(d.Name, "/ \t\n") {
		return fmt.Errorf("invalid device name %q", d.Name)
	}
	if err := validWeight(d.Weight); err != nil {
		return fmt.Errorf("device %q: %w", d.Name, err)
	}
	return nil
}

func validWeight(w float64) error {
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return fmt.Errorf("invalid weight %v", w)
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
