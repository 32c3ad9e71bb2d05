package manager

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
)

// harness is a manager over the simulated driver and the test fakes.
type harness struct {
	t      testing.TB
	m      *Manager
	drv    *simulated.Driver
	store  *memStore
	images *memImages
	claims *memClaims
}

const testHost = "compute-1"

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, drv: simulated.New(simulated.Config{}), store: newMemStore(), images: newMemImages(),
		claims: &memClaims{}}
	h.images.put("cirros", []byte("a bootable disk"), 64, 1)
	h.images.put("rescue", []byte("a rescue disk"), 0, 0)
	cfg.Host = testHost
	cfg.SnapshotDir = t.TempDir()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h.m = New(h.drv, h.store, h.images, h.claims, cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.m.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return h
}

var uuidSeq atomic.Int64

func newUUID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", uuidSeq.Add(1))
}

func spec(uuid string) virt.InstanceSpec {
	return virt.InstanceSpec{UUID: uuid, Name: "instance-" + uuid[len(uuid)-8:], VCPUs: 1, MemoryMB: 128, RootGB: 1}
}

// create stores a new instance as the API does before Build.
func (h *harness) create() string {
	id := newUUID()
	h.store.add(State{UUID: id, ProjectID: "p1", VMState: VMBuilding, TaskState: TaskScheduling})
	return id
}

func (h *harness) buildReq(id string) BuildRequest {
	return BuildRequest{RequestID: "req-build-" + id, ProjectID: "p1", ImageID: "cirros", Spec: spec(id)}
}

// wait waits for the instance's actions, bounded.
func (h *harness) wait(id string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.m.Wait(ctx, id); err != nil {
		h.t.Fatalf("wait for %s: %v", id, err)
	}
}

// active builds a new instance to active.
func (h *harness) active() string {
	h.t.Helper()
	id := h.create()
	if err := h.m.Build(context.Background(), h.buildReq(id)); err != nil {
		h.t.Fatal(err)
	}
	h.wait(id)
	if st := h.store.get(id).st; st.VMState != VMActive || st.TaskState != TaskNone {
		h.t.Fatalf("build ended in %s/%s, faults %+v", st.VMState, st.TaskState, h.store.get(id).faults)
	}
	return id
}

// do runs an action to its end and fails the test on a refusal.
func (h *harness) do(id string, action func(id string) error) {
	h.t.Helper()
	if err := action(id); err != nil {
		h.t.Fatalf("action on %s: %v", id, err)
	}
	h.wait(id)
}

func (h *harness) expectState(id, vm, task string, p virt.PowerState) {
	h.t.Helper()
	st := h.store.get(id).st
	if st.VMState != vm || st.TaskState != task || st.PowerState != p {
		h.t.Fatalf("instance is %s/%q power %v; want %s/%q power %v (faults %+v)", st.VMState, st.TaskState,
			st.PowerState, vm, task, p, h.store.get(id).faults)
	}
	if got, _ := h.drv.PowerState(context.Background(), id); vm != VMDeleted && got != p {
		h.t.Fatalf("driver power state %v, store says %v", got, p)
	}
}

func (h *harness) expectHistory(id string, want ...string) {
	h.t.Helper()
	if got := h.store.get(id).history; !slices.Equal(got, want) {
		h.t.Fatalf("transitions\n got  %q\n want %q", got, want)
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
