package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
)

// TestRacingActions: of many actions asked at once on one active
// instance, exactly one is accepted; the others get Nova's conflict.
func TestRacingActions(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	for round := 0; round < 10; round++ {
		id := h.active()
		// Slow driver calls keep the winner running while the others ask.
		for _, op := range []simulated.Op{simulated.OpPowerOff, simulated.OpPause, simulated.OpSuspend,
			simulated.OpReboot, simulated.OpSnapshot} {
			h.drv.Delay(op, 50*time.Millisecond)
		}
		actions := []func() error{
			func() error { return h.m.Stop(ctx, id, "r") },
			func() error { return h.m.Pause(ctx, id, "r") },
			func() error { return h.m.Suspend(ctx, id, "r") },
			func() error { return h.m.Reboot(ctx, id, "r", false) },
			func() error {
				return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r", ProjectID: "p1", ImageID: "s"})
			},
			func() error { return h.m.Resize(ctx, ResizeRequest{RequestID: "r", Spec: spec(id)}) },
		}
		var accepted atomic.Int32
		var wg sync.WaitGroup
		// Every caller reads the state before any of them writes: only
		// the expected_task_state guard can pick a single winner.
		h.store.slowReads.Store(int64(5 * time.Millisecond))
		errs := make(chan error, len(actions))
		for _, a := range actions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := a()
				var ise *InvalidStateError
				switch {
				case err == nil:
					accepted.Add(1)
				case !errors.As(err, &ise):
					errs <- err
				}
			}()
		}
		wg.Wait()
		h.store.slowReads.Store(0)
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: unexpected error %v", round, err)
		}
		if n := accepted.Load(); n != 1 {
			t.Fatalf("round %d: %d actions accepted at once", round, n)
		}
		h.wait(id)
		h.drv.Clear()
		if st := h.store.get(id).st; st.TaskState != TaskNone || len(h.store.get(id).faults) != 0 {
			t.Fatalf("round %d: ended %s/%s faults %+v", round, st.VMState, st.TaskState, h.store.get(id).faults)
		}
	}
}

// TestDeleteDuringBuild: a delete while the guest is being spawned wins:
// the build gives up without error state, the instance is deleted and
// nothing is left in the driver.
func TestDeleteDuringBuild(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	h.drv.Delay(simulated.OpSpawn, 100*time.Millisecond)
	id := h.create()
	if err := h.m.Build(ctx, h.buildReq(id)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.store.get(id).st.TaskState != TaskSpawning {
		if time.Now().After(deadline) {
			t.Fatal("build never reached spawning")
		}
		time.Sleep(time.Millisecond)
	}
	if err := h.m.Delete(ctx, id, "r-del"); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Delete(ctx, id, "r-del2"); err != nil {
		t.Fatalf("second delete while deleting: %v", err)
	}
	h.wait(id)
	h.expectHistory(id, "building/scheduling", "building/None", "building/networking", "building/block_device_mapping",
		"building/spawning", "building/deleting", "deleted/None")
	if ids, _ := h.drv.Instances(ctx); len(ids) != 0 {
		t.Fatalf("driver still holds %q", ids)
	}
	if f := h.store.get(id).faults; len(f) != 0 {
		t.Fatalf("faults %+v", f)
	}
}

// TestHardRebootOverSoft: a hard reboot asked during a slow soft reboot
// takes over, as Nova allows; the soft one gives up.
func TestHardRebootOverSoft(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.store.resetHistory(id)
	h.drv.Delay(simulated.OpReboot, 100*time.Millisecond)
	if err := h.m.Reboot(ctx, id, "soft", false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.store.get(id).st.TaskState != TaskRebootStarted {
		if time.Now().After(deadline) {
			t.Fatal("soft reboot never started")
		}
		time.Sleep(time.Millisecond)
	}
	if err := h.m.Reboot(ctx, id, "hard", true); err != nil {
		t.Fatalf("hard reboot over a soft one: %v", err)
	}
	h.wait(id)
	h.expectState(id, VMActive, TaskNone, virt.Running)
	in := h.store.get(id)
	if !slices.Contains(in.history, "active/reboot_started_hard") {
		t.Fatalf("hard reboot did not run: %q", in.history)
	}
	if !slices.Equal(in.eventList(), []string{"compute_reboot_instance:Error", "compute_reboot_instance:Success"}) {
		t.Fatalf("events %q", in.eventList())
	}
}

// countingDriver counts concurrent spawns.
type countingDriver struct {
	*simulated.Driver
	cur, max atomic.Int32
}

func (d *countingDriver) Spawn(ctx context.Context, spec virt.InstanceSpec, img virt.Image) error {
	n := d.cur.Add(1)
	defer d.cur.Add(-1)
	for {
		m := d.max.Load()
		if n <= m || d.max.CompareAndSwap(m, n) {
			break
		}
	}
	return d.Driver.Spawn(ctx, spec, img)
}

// TestMaxConcurrentBuilds: no more builds spawn at once than
// MaxConcurrentBuilds, and all of them finish.
func TestMaxConcurrentBuilds(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	cd := &countingDriver{Driver: h.drv}
	cd.Delay(simulated.OpSpawn, 20*time.Millisecond)
	m := New(cd, h.store, h.images, h.claims, Config{Host: testHost, MaxConcurrentBuilds: 3})
	defer m.Close(ctx)
	var ids []string
	for i := 0; i < 12; i++ {
		id := h.create()
		ids = append(ids, id)
		if err := m.Build(ctx, h.buildReq(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := m.Wait(wctx, id); err != nil {
			t.Fatal(err)
		}
		cancel()
		if st := h.store.get(id).st; st.VMState != VMActive {
			t.Fatalf("%s ended %s", id, st.VMState)
		}
	}
	if got := cd.max.Load(); got != 3 {
		t.Fatalf("max concurrent spawns %d, want 3", got)
	}
}

// TestCloseWaits: Close waits for a running action, then refuses new ones.
func TestCloseWaits(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.drv.Delay(simulated.OpPowerOff, 80*time.Millisecond)
	if err := h.m.Stop(ctx, id, "r"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := h.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("close returned after %v, before the stop finished", el)
	}
	h.expectState(id, VMStopped, TaskNone, virt.Shutdown)
	if err := h.m.Start(ctx, id, "r"); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
	if err := h.m.Build(ctx, h.buildReq(h.create())); !errors.Is(err, ErrClosed) {
		t.Fatalf("build after close: %v", err)
	}
}

// TestCloseDeadline: Close with an expired context cancels what runs and
// says so.
func TestCloseDeadline(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.drv.Delay(simulated.OpPowerOff, 5*time.Second)
	if err := h.m.Stop(ctx, id, "r"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.m.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("close took %v", el)
	}
}

// TestHundredBuilds is the benchmark goal as a test: 100 builds asked at
// once are all active well under 2 s on the simulated driver.
func TestHundredBuilds(t *testing.T) {
	h := newHarness(t, Config{})
	el := buildMany(t, h, 100)
	t.Logf("100 builds to active: %v", el)
	if el > 2*time.Second {
		t.Fatalf("100 builds took %v", el)
	}
}

func buildMany(tb testing.TB, h *harness, n int) time.Duration {
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = h.create()
	}
	start := time.Now()
	for _, id := range ids {
		if err := h.m.Build(ctx, h.buildReq(id)); err != nil {
			tb.Fatal(err)
		}
	}
	for _, id := range ids {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := h.m.Wait(wctx, id)
		cancel()
		if err != nil {
			tb.Fatal(err)
		}
	}
	el := time.Since(start)
	for _, id := range ids {
		if st := h.store.get(id).st; st.VMState != VMActive {
			tb.Fatalf("%s ended %s", id, st.VMState)
		}
	}
	return el
}

// TestDoubleBuild: a second build of the same instance (a retried
// request) neither builds it twice nor tears down the first build.
func TestDoubleBuild(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	h.drv.Delay(simulated.OpSpawn, 30*time.Millisecond)
	id := h.create()
	for i := 0; i < 2; i++ {
		if err := h.m.Build(ctx, h.buildReq(id)); err != nil {
			t.Fatal(err)
		}
	}
	h.wait(id)
	h.expectState(id, VMActive, TaskNone, virt.Running)
	if got := h.claims.list(); len(got) != 0 {
		t.Fatalf("claims %q", got)
	}
	if f := h.store.get(id).faults; len(f) != 0 {
		t.Fatalf("faults %+v", f)
	}
	var ise *InvalidStateError
	if err := h.m.RejectBuild(ctx, id, "r", &NoValidHostError{}); !errors.As(err, &ise) {
		t.Fatalf("reject of an active instance: %v", err)
	}
	h.expectState(id, VMActive, TaskNone, virt.Running)
}

// TestRacingDeletes: many deletes at once delete the instance once, with
// one terminate event and one claims release.
func TestRacingDeletes(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.store.resetHistory(id)
	h.drv.Delay(simulated.OpDestroy, 20*time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.m.Delete(ctx, id, fmt.Sprint("r", i)); err != nil && !errors.Is(err, ErrNotFound) {
				t.Errorf("delete: %v", err)
			}
		}()
	}
	wg.Wait()
	h.wait(id)
	in := h.store.get(id)
	if !in.deleted || len(in.events) != 1 || in.events[0].result != ResultSuccess {
		t.Fatalf("deleted=%t events %q", in.deleted, in.eventList())
	}
	if got := h.claims.list(); !slices.Equal(got, []string{"release:" + id}) {
		t.Fatalf("claims %q", got)
	}
}
