package ring

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Describe renders the builder the way `swift-ring-builder <file>` does,
// for `kumo admin ring`: a summary line, min_part_hours, overload, and the
// device table with each device's partitions and balance.
func (b *Builder) Describe(name string) string {
	var s strings.Builder
	regions, zones := map[int]bool{}, map[[2]int]bool{}
	devs := b.Devices()
	for _, d := range devs {
		regions[d.Region] = true
		zones[[2]int{d.Region, d.Zone}] = true
	}
	fmt.Fprintf(&s, "%s, build version %d\n", name, b.version)
	fmt.Fprintf(&s, "%d partitions, %.6f replicas, %d regions, %d zones, %d devices, 2-byte IDs, %.02f balance",
		b.parts(), float64(b.replicas), len(regions), len(zones), len(devs), b.Balance())
	if b.rebalanced {
		fmt.Fprintf(&s, ", %.02f dispersion", b.dispersion)
	}
	s.WriteByte('\n')
	fmt.Fprintf(&s, "The minimum number of hours before a partition can be reassigned is %d (%s remaining)\n",
		b.minPartHours, pyDuration(time.Duration(b.MinPartSecondsLeft())*time.Second))
	fmt.Fprintf(&s, "The overload factor is %0.2f%% (%.6f)\n", b.overload*100, b.overload)

	ipW, portW, repIPW, repPortW, weightW := 10, 4, 14, 4, 6
	for _, d := range devs {
		ipW = max(ipW, len(bracketIPv6(d.IP)))
		repIPW = max(repIPW, len(bracketIPv6(d.ReplicationIP)))
		portW = max(portW, len(fmt.Sprint(d.Port)))
		repPortW = max(repPortW, len(fmt.Sprint(d.ReplicationPort)))
		weightW = max(weightW, len(fmt.Sprintf("%6.02f", d.Weight)))
	}
	fmt.Fprintf(&s, "Devices:%5s %6s %4s %*s:%-*s %*s:%-*s %5s %*s %10s %7s %5s %s\n",
		"id", "region", "zone", ipW, "ip address", portW, "port", repIPW, "replication ip", repPortW, "port",
		"name", weightW, "weight", "partitions", "balance", "flags", "meta")
	slices.SortStableFunc(devs, func(a, c DeviceStats) int {
		return cmp.Or(cmp.Compare(a.Region, c.Region), cmp.Compare(a.Zone, c.Zone),
			cmp.Compare(a.IP, c.IP), cmp.Compare(a.Name, c.Name))
	})
	for _, d := range devs {
		flags := ""
		if d.Removing {
			flags = "DEL"
		}
		fmt.Fprintf(&s, "%13d %6d %4d %*s:%-*d %*s:%-*d %5s %*.02f %10d %7.02f %5s %s\n",
			d.ID, d.Region, d.Zone, ipW, bracketIPv6(d.IP), portW, d.Port,
			repIPW, bracketIPv6(d.ReplicationIP), repPortW, d.ReplicationPort,
			d.Name, weightW, d.Weight, d.Parts, d.Balance, flags, d.Meta)
	}
	return s.String()
}

func bracketIPv6(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]"
	}
	return ip
}

// pyDuration prints like Python's timedelta, which swift-ring-builder
// uses: "1:02:03", or "2 days, 1:02:03".
func pyDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	days, secs := secs/86400, secs%86400
	hms := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	switch days {
	case 0:
		return hms
	case 1:
		return "1 day, " + hms
	}
	return fmt.Sprintf("%d days, %s", days, hms)
}
