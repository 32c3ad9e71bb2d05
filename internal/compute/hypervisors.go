package compute

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"kumo/internal/compute/virt"
)

// Hypervisor is one compute node as os-hypervisors shows it: what the
// driver reports about the host, and what placement says is used on it.
type Hypervisor struct {
	virt.HostInfo // HostInfo.Hostname is the hypervisor_hostname
	// Host is the compute service's host name (the services table's).
	Host string
	// UUID is the node's placement resource provider (Nova's compute node
	// uuid, the id from 2.53).
	UUID   string
	HostIP string
	// Usage from placement and the instances on the host.
	VCPUsUsed, MemoryMBUsed, LocalGBUsed, RunningVMs int
	CurrentWorkload                                  int // instances with a task in progress
	// DiskAvailableLeast is the free disk after overcommit; nil is null.
	DiskAvailableLeast *int
	// Uptime is the host's `uptime` line; "" when unknown (the uptime
	// route answers 501 then, as Nova for a driver without it).
	Uptime string
}

// HypervisorSource lists the compute nodes; the coordinator builds it from
// each host's driver (HostInfo) and placement's usages.
type HypervisorSource interface {
	Hypervisors(ctx context.Context) ([]Hypervisor, error)
}

// hypervisorNode is a Hypervisor with its API integer id.
type hypervisorNode struct {
	Hypervisor
	ID int64
}

// hypervisors returns the known nodes by integer id, assigning ids to new
// ones. With no source configured there are none.
func (s *Service) hypervisors(ctx context.Context) ([]*hypervisorNode, error) {
	src := s.registry().Hypervisors
	if src == nil {
		return nil, nil
	}
	list, err := src.Hypervisors(ctx)
	if err != nil {
		return nil, fmt.Errorf("compute: hypervisors: %w", err)
	}
	out := make([]*hypervisorNode, 0, len(list))
	for _, h := range list {
		id, err := s.nodeID(ctx, h)
		if err != nil {
			return nil, err
		}
		out = append(out, &hypervisorNode{Hypervisor: h, ID: id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// nodeID is the node's integer id, created the first time it is seen.
func (s *Service) nodeID(ctx context.Context, h Hypervisor) (int64, error) {
	var id int64
	err := s.db.R.QueryRowContext(ctx, `SELECT id FROM compute_nodes WHERE uuid = ?`, h.UUID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if err != sql.ErrNoRows {
		return 0, err
	}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO compute_nodes (uuid, host, hypervisor_hostname) VALUES (?, ?, ?) ON CONFLICT (uuid) DO NOTHING`,
		h.UUID, h.Host, h.Hostname)
	if err != nil {
		return 0, err
	}
	err = s.db.W.QueryRowContext(ctx, `SELECT id FROM compute_nodes WHERE uuid = ?`, h.UUID).Scan(&id)
	return id, err
}

// hostServer is an instance on a host, for with_servers.
type hostServer struct{ Name, UUID string }

// serversOnHost lists the instances (not deleted) on a compute host.
func (s *Service) serversOnHost(ctx context.Context, host string) ([]hostServer, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT display_name, uuid FROM instances WHERE host = ? AND deleted = 0 ORDER BY id`, host)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hostServer
	for rows.Next() {
		var hs hostServer
		if err := rows.Scan(&hs.Name, &hs.UUID); err != nil {
			return nil, err
		}
		out = append(out, hs)
	}
	return out, rows.Err()
}

// LocalUptime is this machine's uptime line as the `uptime` command prints
// it (what Nova's libvirt driver returns), from /proc; for a
// HypervisorSource on the local host.
func LocalUptime(now time.Time) (string, error) {
	raw, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "", err
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return "", fmt.Errorf("compute: /proc/uptime: empty")
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", fmt.Errorf("compute: /proc/uptime: %w", err)
	}
	load, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "", err
	}
	lf := strings.Fields(string(load))
	if len(lf) < 3 {
		return "", fmt.Errorf("compute: /proc/loadavg: short")
	}
	return formatUptime(now, time.Duration(secs)*time.Second, lf[0], lf[1], lf[2]), nil
}

// formatUptime renders procps' uptime line, e.g.
// " 08:32:11 up 93 days, 18:25,  0 users,  load average: 0.20, 0.12, 0.14".
func formatUptime(now time.Time, up time.Duration, l1, l5, l15 string) string {
	mins := int(up / time.Minute)
	days, hours, m := mins/1440, (mins%1440)/60, mins%60
	var b strings.Builder
	fmt.Fprintf(&b, " %s up ", now.Format("15:04:05"))
	switch {
	case days == 1:
		b.WriteString("1 day, ")
	case days > 1:
		fmt.Fprintf(&b, "%d days, ", days)
	}
	if hours > 0 {
		fmt.Fprintf(&b, "%2d:%02d, ", hours, m)
	} else {
		fmt.Fprintf(&b, "%d min, ", m)
	}
	fmt.Fprintf(&b, " 0 users,  load average: %s, %s, %s", l1, l5, l15)
	return b.String()
}
