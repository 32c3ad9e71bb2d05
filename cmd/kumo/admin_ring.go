package main

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"kumo/internal/objectstore/ring"
)

// ringCmd is swift-ring-builder's work on a builder file: the verbs and the
// device syntax are Swift's, so an operator's notes carry over.
func ringCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ring",
		Short: "Build and show object-store rings (as swift-ring-builder)",
		Long: `Build and show object-store rings on a builder file, as swift-ring-builder does:

  kumo admin ring object.builder create 10 3 1     # part power, replicas, min_part_hours
  kumo admin ring object.builder add r1z1-127.0.0.1:6200/sdb1 100
  kumo admin ring object.builder rebalance         # also writes object.ring beside it
  kumo admin ring object.builder                   # show devices, balance and dispersion
  kumo admin ring object.builder set_weight 3 50
  kumo admin ring object.builder remove 3

Rebalancing moves as few partitions as it can, and never more than one replica
of a partition within min_part_hours.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, verb, rest := args[0], "show", []string(nil)
			if len(args) > 1 {
				verb, rest = args[1], args[2:]
			}
			out, err := runRing(path, verb, rest)
			if out != "" {
				fmt.Fprint(cmd.OutOrStdout(), out)
			}
			return err
		},
	}
	return cmd
}

func runRing(path, verb string, args []string) (string, error) {
	need := func(n int, usage string) error {
		if len(args) != n {
			return fmt.Errorf("usage: kumo admin ring %s %s %s", path, verb, usage)
		}
		return nil
	}
	if verb == "create" {
		if err := need(3, "<part_power> <replicas> <min_part_hours>"); err != nil {
			return "", err
		}
		n, err := ints(args)
		if err != nil {
			return "", err
		}
		b, err := ring.NewBuilder(n[0], n[1], n[2])
		if err != nil {
			return "", err
		}
		return "", b.Save(path)
	}
	b, err := ring.LoadBuilder(path)
	if err != nil {
		return "", err
	}
	switch verb {
	case "show":
		return b.Describe(path), nil
	case "add":
		if err := need(2, "r<region>z<zone>-<ip>:<port>/<device> <weight>"); err != nil {
			return "", err
		}
		d, err := parseDevice(args[0], args[1])
		if err != nil {
			return "", err
		}
		id, err := b.AddDevice(d)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Device d%d %s with %s weight got id %d\n", id, args[0], args[1], id), b.Save(path)
	case "set_weight":
		if err := need(2, "<device id> <weight>"); err != nil {
			return "", err
		}
		id, err := strconv.Atoi(args[0])
		if err != nil {
			return "", fmt.Errorf("device id %q is not a number", args[0])
		}
		w, err := strconv.ParseFloat(args[1], 64)
		if err != nil {
			return "", fmt.Errorf("weight %q is not a number", args[1])
		}
		if err := b.SetWeight(id, w); err != nil {
			return "", err
		}
		return "", b.Save(path)
	case "remove":
		if err := need(1, "<device id>"); err != nil {
			return "", err
		}
		id, err := strconv.Atoi(args[0])
		if err != nil {
			return "", fmt.Errorf("device id %q is not a number", args[0])
		}
		if err := b.RemoveDevice(id); err != nil {
			return "", err
		}
		return fmt.Sprintf("Device %d marked for removal; rebalance to move its partitions\n", id), b.Save(path)
	case "rebalance":
		if err := need(0, ""); err != nil {
			return "", err
		}
		res, err := b.Rebalance()
		if err != nil {
			return "", err
		}
		if err := b.Save(path); err != nil {
			return "", err
		}
		// The ring file does not depend on the hash path; it is given
		// when a node or proxy loads the ring.
		r, err := b.Ring(ring.HashPath{Suffix: "-"})
		if err != nil {
			return "", err
		}
		ringPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".ring"
		if err := r.Save(ringPath); err != nil {
			return "", err
		}
		return fmt.Sprintf("Reassigned %d partition-replicas. Balance is now %.2f. Dispersion is now %.2f\nWrote %s\n",
			res.Changed, res.Balance, res.Dispersion, ringPath), nil
	}
	return "", fmt.Errorf("unknown verb %q: want create, add, set_weight, remove, rebalance or nothing (show)", verb)
}

func ints(ss []string) ([]int, error) {
	out := make([]int, len(ss))
	for i, s := range ss {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		out[i] = n
	}
	return out, nil
}

// deviceSyntax is swift-ring-builder's r<region>z<zone>-<ip>:<port>/<device>
// (IPv6 addresses in brackets).
var deviceSyntax = regexp.MustCompile(`^r(\d+)z(\d+)-(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+):(\d+)/([^/_\s]+)(?:_(.*))?$`)

func parseDevice(spec, weight string) (ring.Device, error) {
	m := deviceSyntax.FindStringSubmatch(spec)
	if m == nil {
		return ring.Device{}, fmt.Errorf("device %q: want r<region>z<zone>-<ip>:<port>/<device>", spec)
	}
	w, err := strconv.ParseFloat(weight, 64)
	if err != nil {
		return ring.Device{}, fmt.Errorf("weight %q is not a number", weight)
	}
	region, _ := strconv.Atoi(m[1])
	zone, _ := strconv.Atoi(m[2])
	port, _ := strconv.Atoi(m[4])
	ip := strings.Trim(m[3], "[]")
	if net.ParseIP(ip) == nil && strings.Contains(m[3], "[") {
		return ring.Device{}, fmt.Errorf("device %q: %q is not an IPv6 address", spec, ip)
	}
	return ring.Device{Region: region, Zone: zone, IP: ip, Port: port, Name: m[5], Weight: w, Meta: m[6]}, nil
}
