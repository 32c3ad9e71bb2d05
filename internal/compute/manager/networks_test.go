package manager

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
)

// memNetworks is a TEST-ONLY port binder.
type memNetworks struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (n *memNetworks) Allocate(ctx context.Context, uuid string) ([]virt.NIC, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, "allocate:"+uuid)
	if n.fail != nil {
		return nil, n.fail
	}
	return []virt.NIC{{MAC: "fa:16:3e:00:00:01", TapName: "tap" + uuid[:8]}}, nil
}

func (n *memNetworks) Deallocate(ctx context.Context, uuid string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, "deallocate:"+uuid)
	return nil
}

func (n *memNetworks) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// TestBuildNetworks: the NICs networking returns reach the driver, and a
// delete unbinds them.
func TestBuildNetworks(t *testing.T) {
	ctx := context.Background()
	nets := &memNetworks{}
	h := newHarness(t, Config{Networks: nets})
	id := h.active()
	if s, _ := h.drv.Spec(id); len(s.NICs) != 1 || s.NICs[0].TapName != "tap"+id[:8] {
		t.Fatalf("driver NICs %+v", s.NICs)
	}
	h.do(id, func(id string) error { return h.m.Delete(ctx, id, "r") })
	if got := nets.list(); !slices.Equal(got, []string{"allocate:" + id, "deallocate:" + id}) {
		t.Fatalf("network calls %q", got)
	}
}

// TestBuildNetworkFailures: a failed port binding aborts the build with
// Nova's message; any failed build unbinds what was bound.
func TestBuildNetworkFailures(t *testing.T) {
	ctx := context.Background()
	nets := &memNetworks{fail: errTest}
	h := newHarness(t, Config{Networks: nets})
	id := h.create()
	h.do(id, func(string) error { return h.m.Build(ctx, h.buildReq(id)) })
	h.expectHistory(id, "building/scheduling", "building/None", "building/networking", "error/None")
	in := h.store.get(id)
	want := "Build of instance " + id + " aborted: Failed to allocate the network(s), not rescheduling."
	if len(in.faults) != 1 || in.faults[0].Message != want || !strings.Contains(in.faults[0].Details, "injected test failure") {
		t.Fatalf("faults %+v", in.faults)
	}
	if got := nets.list(); !slices.Equal(got, []string{"allocate:" + id, "deallocate:" + id}) {
		t.Fatalf("network calls %q", got)
	}

	nets.fail = nil
	h.drv.Fail(simulated.OpSpawn, "", 1, errTest)
	id2 := h.create()
	h.do(id2, func(string) error { return h.m.Build(ctx, h.buildReq(id2)) })
	if got := nets.list()[2:]; !slices.Equal(got, []string{"allocate:" + id2, "deallocate:" + id2}) {
		t.Fatalf("network calls after a failed spawn %q", got)
	}
}
