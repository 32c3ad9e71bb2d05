package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"
)

// fillPart races concurrent creates for the last slots: a flavor sized so
// that perHost instances fill a free host's RAM, and 10% more single
// creates than all hosts can take, from conc clients at once. None may be
// placed beyond a host's capacity: at most the computed capacity may be
// ACTIVE (the rest ERROR, no valid host) and no host may be over.
func (b *computeBench) fillPart(ctx context.Context, perHost, conc int, r ratios) error {
	if err := b.raiseLimits(ctx, map[string]int64{"servers": -1, "class:VCPU": -1, "class:MEMORY_MB": -1, "class:DISK_GB": -1}); err != nil {
		return err
	}
	image, err := b.smallImage(ctx)
	if err != nil {
		return err
	}
	hv, err := b.hypervisors(ctx)
	if err != nil {
		return err
	}
	if len(hv) == 0 {
		return fmt.Errorf("no hypervisor")
	}
	ramMB := int(float64(hv[0].MemMB-r.reservedMemMB) * r.ram / float64(perHost))
	var fl struct {
		Flavor struct {
			ID string `json:"id"`
		} `json:"flavor"`
	}
	name := fmt.Sprintf("kumobench-fill-%d", time.Now().UnixNano())
	if err := b.want(ctx, http.StatusOK, "POST", b.nova+"/flavors",
		map[string]any{"flavor": map[string]any{"name": name, "ram": ramMB, "vcpus": 1, "disk": 1}}, &fl); err != nil {
		return err
	}
	capacity := 0
	for _, h := range hv {
		capacity += hostRoom(h, r, ramMB, 1, 1)
	}
	before, err := b.countStatus(ctx, "")
	if err != nil {
		return err
	}
	n := capacity + max(capacity/10, 1)
	mark := b.cpu()
	t0 := time.Now()
	lat, err := b.createMany(ctx, "bench-fill", n, conc, image, fl.Flavor.ID)
	if err != nil {
		return err
	}
	seen, err := b.waitNone(ctx, "status=BUILD", 50*time.Millisecond, 10*time.Minute)
	if err != nil {
		return err
	}
	cpuEnd := b.cpu()
	rows, _, _, err := b.listAll(ctx, "/servers/detail?flavor="+fl.Flavor.ID, 1000)
	if err != nil {
		return err
	}
	counts, _, fault := statusCounts(rows)
	after, err := b.hypervisors(ctx)
	if err != nil {
		return err
	}
	over, msgs := overcommitted(after, r)
	placed := 0
	for _, h := range after {
		placed += h.RunningVMs
	}
	l := computeLine{stepLine: stepResult{ops: int64(n), lat: lat, elapsed: seen.Sub(t0)}.line("compute.fill_capacity", conc),
		Instances: n, Hosts: len(after), Overcommit: &over}
	l.PerS = round(float64(n)/seen.Sub(t0).Seconds(), 1)
	l.Note = fmt.Sprintf("flavor of %d MB (%d per free host): capacity %d, %d requested; ACTIVE %d, ERROR %d (fault %q), other %d; %d servers before; hosts' running_vms sum %d",
		ramMB, perHost, capacity, n, counts["ACTIVE"], counts["ERROR"], fault, len(rows)-counts["ACTIVE"]-counts["ERROR"], before, placed)
	if len(msgs) > 0 {
		l.ErrSample = msgs[0]
	}
	ok := over == 0 && counts["ACTIVE"] <= capacity && counts["ACTIVE"]+counts["ERROR"] == n && placed == before+counts["ACTIVE"]
	verdict(&l, ok, "no host over capacity, ACTIVE <= capacity, the rest ERROR")
	b.cpuDelta(mark, cpuEnd, &l, int64(n))
	b.emit(l)
	if !ok {
		return fmt.Errorf("fill: %s; over capacity: %v", l.Note, msgs)
	}
	return nil
}

// hostRoom is how many more instances of (ram MB, vcpus, disk GB) fit on h
// within placement's capacity, (total - reserved) x ratio.
func hostRoom(h hypervisor, r ratios, ram, vcpus, disk int) int {
	room := math.MaxInt
	fit := func(capacity float64, used, each int) {
		room = min(room, max(0, int((capacity-float64(used))/float64(each))))
	}
	fit(float64(h.MemMB-r.reservedMemMB)*r.ram, h.MemMBUsed, ram)
	fit(float64(h.VCPUs)*r.cpu, h.VCPUsUsed, vcpus)
	fit(float64(h.DiskGB)*r.disk, h.DiskUsed, disk)
	return room
}
