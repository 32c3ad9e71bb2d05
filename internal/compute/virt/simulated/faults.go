package simulated

import (
	"context"
	"fmt"
	"time"
)

// Op names a driver operation, for injected failures and delays.
type Op string

const (
	OpHostInfo      Op = "host info"
	OpSpawn         Op = "spawn"
	OpDestroy       Op = "destroy"
	OpPowerOff      Op = "power off"
	OpPowerOn       Op = "power on"
	OpReboot        Op = "reboot"
	OpPause         Op = "pause"
	OpUnpause       Op = "unpause"
	OpSuspend       Op = "suspend"
	OpResume        Op = "resume"
	OpResize        Op = "resize"
	OpRevertResize  Op = "revert resize"
	OpRebuild       Op = "rebuild"
	OpRescue        Op = "rescue"
	OpUnrescue      Op = "unrescue"
	OpSnapshot      Op = "snapshot"
	OpPowerState    Op = "power state"
	OpConsoleOutput Op = "console output"
	OpInstances     Op = "instances"
)

type injected struct {
	op    Op
	uuid  string // "" matches any instance
	times int    // < 0: always
	err   error
}

// Fail makes the next `times` calls of op (for uuid, or any instance when
// uuid is empty) fail with an error wrapping err (a generic injected error
// when err is nil); times < 0 fails every call until Clear, and times 0
// injects nothing.
func (d *Driver) Fail(op Op, uuid string, times int, err error) {
	if times == 0 {
		return // enter counts down from a positive count; 0 would never expire
	}
	if err == nil {
		err = errInjected
	}
	d.mu.Lock()
	d.faults = append(d.faults, &injected{op: op, uuid: uuid, times: times, err: err})
	d.mu.Unlock()
}

// Delay makes every call of op wait for dur first (0 removes the delay).
func (d *Driver) Delay(op Op, dur time.Duration) {
	d.mu.Lock()
	d.delays[op] = dur
	d.mu.Unlock()
}

// Clear removes every injected failure and delay.
func (d *Driver) Clear() {
	d.mu.Lock()
	d.faults = nil
	d.delays = map[Op]time.Duration{}
	d.mu.Unlock()
}

// enter applies op's delay (bounded by ctx) and any injected failure.
func (d *Driver) enter(ctx context.Context, op Op, uuid string) error {
	d.mu.Lock()
	delay := d.delays[op]
	d.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, f := range d.faults {
		if f.op != op || (f.uuid != "" && f.uuid != uuid) {
			continue
		}
		if f.times > 0 {
			f.times--
			if f.times == 0 {
				d.faults = append(d.faults[:i], d.faults[i+1:]...)
			}
		}
		return fmt.Errorf("simulated: %s %s: %w", op, uuid, f.err)
	}
	return nil
}
