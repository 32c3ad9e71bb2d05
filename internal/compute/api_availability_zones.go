package compute

import (
	"context"
	"net/http"
	"sort"
	"time"
)

// Availability zones (nova/api/openstack/compute/availability_zone.py).
func init() {
	register(
		route{method: "GET", path: "/os-availability-zone", rule: "os_compute_api:os-availability-zone:list", handle: listZones(false)},
		route{method: "GET", path: "/os-availability-zone/detail", rule: "os_compute_api:os-availability-zone:detail", handle: listZones(true)},
	)
}

// HostService is one service on one host, as Nova's services table:
// nova-compute on each compute host, and the control services.
type HostService struct {
	Host      string
	Binary    string // "nova-compute", "nova-scheduler", "nova-conductor"...
	Zone      string // "" means the default: "nova" for nova-compute, "internal" for the others
	Disabled  bool
	Up        bool // heartbeat recent (Nova's servicegroup service_is_up)
	UpdatedAt *time.Time
}

// HostLister lists the services of the cloud; the compute service
// registry implements it.
type HostLister interface {
	Services(ctx context.Context) ([]HostService, error)
}

const (
	defaultZone  = "nova"     // Nova's default_availability_zone
	internalZone = "internal" // Nova's internal_service_availability_zone
)

func (hs HostService) zone() string {
	switch {
	case hs.Zone != "":
		return hs.Zone
	case hs.Binary == "nova-compute":
		return defaultZone
	}
	return internalZone
}

// services returns the known services; with no lister, kumo is an
// all-in-one whose one compute host is this one.
func (s *Service) services(ctx context.Context) ([]HostService, bool, error) {
	if s.cfg.Hosts == nil {
		return nil, false, nil
	}
	svcs, err := s.cfg.Hosts.Services(ctx)
	if err != nil {
		return nil, true, err
	}
	// A compute host in an aggregate with an availability zone is in that
	// zone (Nova's get_host_availability_zone).
	zones, err := s.aggregates().hostZones(ctx)
	if err != nil {
		return nil, true, err
	}
	for i, hs := range svcs {
		if z, ok := zones[hs.Host]; ok && hs.Binary == "nova-compute" {
			svcs[i].Zone = z
		}
	}
	return svcs, true, nil
}

// zones splits zones as Nova's get_availability_zones: a zone with an
// enabled service is available; one with only disabled ones is not.
func zones(svcs []HostService) (available, unavailable []string) {
	on, off := map[string]bool{}, map[string]bool{}
	for _, hs := range svcs {
		if hs.Disabled {
			off[hs.zone()] = true
		} else {
			on[hs.zone()] = true
		}
	}
	for z := range on {
		available = append(available, z)
	}
	for z := range off {
		if !on[z] {
			unavailable = append(unavailable, z)
		}
	}
	sort.Strings(available)
	sort.Strings(unavailable)
	return available, unavailable
}

func listZones(detail bool) func(c *call) error {
	return func(c *call) error {
		svcs, known, err := c.s.services(c.ctx)
		if err != nil {
			return err
		}
		if !known {
			// No service registry wired: the default zone, no hosts.
			return c.json(http.StatusOK, map[string]any{"availabilityZoneInfo": []map[string]any{
				{"zoneName": defaultZone, "zoneState": map[string]bool{"available": true}, "hosts": nil}}})
		}
		available, unavailable := zones(svcs)
		out := []map[string]any{}
		for _, z := range available {
			if !detail && z == internalZone {
				continue
			}
			var hosts any
			if detail {
				hosts = zoneHosts(svcs, z)
			}
			out = append(out, map[string]any{"zoneName": z, "zoneState": map[string]bool{"available": true}, "hosts": hosts})
		}
		for _, z := range unavailable {
			if !detail && z == internalZone {
				continue
			}
			out = append(out, map[string]any{"zoneName": z, "zoneState": map[string]bool{"available": false}, "hosts": nil})
		}
		return c.json(http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	}
}

// zoneHosts is the detail view's hosts of one zone: enabled services
// (API services excluded, as Nova) by host and binary.
func zoneHosts(svcs []HostService, zone string) map[string]map[string]any {
	hosts := map[string]map[string]any{}
	for _, hs := range svcs {
		if hs.Disabled || hs.zone() != zone || hs.Binary == "nova-osapi_compute" || hs.Binary == "nova-metadata" {
			continue
		}
		if hosts[hs.Host] == nil {
			hosts[hs.Host] = map[string]any{}
		}
		var updated any
		if hs.UpdatedAt != nil {
			updated = novaTime(*hs.UpdatedAt)
		}
		hosts[hs.Host][hs.Binary] = map[string]any{"available": hs.Up, "active": !hs.Disabled, "updated_at": updated}
	}
	return hosts
}
