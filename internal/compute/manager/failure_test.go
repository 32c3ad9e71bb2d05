package manager

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"kumo/internal/compute/virt"
	"kumo/internal/compute/virt/simulated"
)

// TestBuildFailures: a failure at each step of a build ends in error with
// a fault, the claims released, the build event in error, and nothing of
// the instance left in the driver.
func TestBuildFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		inject  func(h *harness, req *BuildRequest)
		history []string
		fault   string
	}{
		{"image missing", func(h *harness, req *BuildRequest) { req.ImageID = "nope" },
			[]string{"building/scheduling", "building/None", "building/networking", "building/block_device_mapping", "error/None"},
			"Build of instance %s aborted: image nope: image nope could not be found"},
		{"image too big for the flavor", func(h *harness, req *BuildRequest) {
			h.images.put("big", []byte("x"), 0, 20)
			req.ImageID = "big"
		}, []string{"building/scheduling", "building/None", "building/networking", "building/block_device_mapping", "error/None"},
			"Flavor's disk is too small for requested image. Flavor disk is 1073741824 bytes, image is 21474836480 bytes."},
		{"config drive", func(h *harness, req *BuildRequest) {
			req.ConfigDrive = func(context.Context) ([]byte, error) { return nil, errTest }
		}, []string{"building/scheduling", "building/None", "building/networking", "building/block_device_mapping", "error/None"},
			"Build of instance %s aborted: config drive: injected test failure"},
		{"spawn", func(h *harness, req *BuildRequest) { h.drv.Fail(simulated.OpSpawn, "", 1, errTest) },
			[]string{"building/scheduling", "building/None", "building/networking", "building/block_device_mapping", "building/spawning",
				"error/None"},
			"Build of instance %s aborted: simulated: spawn %[1]s: injected test failure"},
		{"save after spawn", func(h *harness, req *BuildRequest) {
			h.store.failUpdate = func(uuid string, u Update) error {
				if u.VMState == VMActive {
					return errTest
				}
				return nil
			}
		}, []string{"building/scheduling", "building/None", "building/networking", "building/block_device_mapping", "building/spawning",
			"error/None"},
			"Build of instance %s aborted: injected test failure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			id := h.create()
			req := h.buildReq(id)
			c.inject(h, &req)
			h.do(id, func(string) error { return h.m.Build(ctx, req) })
			h.expectHistory(id, c.history...)
			in := h.store.get(id)
			if in.st.PowerState != virt.NoState || !in.st.LaunchedAt.IsZero() {
				t.Fatalf("failed build: %+v", in.st)
			}
			want := strings.ReplaceAll(c.fault, "%[1]s", "%s")
			want = sprintf(want, repeat(id, strings.Count(want, "%s"))...)
			if len(in.faults) != 1 || in.faults[0].Message != want || in.faults[0].Code != 500 ||
				in.faults[0].Details == "" || in.faults[0].Created.IsZero() {
				t.Fatalf("faults %+v, want one with %q", in.faults, want)
			}
			if got := in.eventList(); !slices.Equal(got, []string{"compute__do_build_and_run_instance:Error"}) ||
				in.events[0].traceback == "" {
				t.Fatalf("events %q", got)
			}
			if got := h.claims.list(); !slices.Equal(got, []string{"release:" + id}) {
				t.Fatalf("claims %q", got)
			}
			if ids, _ := h.drv.Instances(ctx); len(ids) != 0 {
				t.Fatalf("driver still holds %q", ids)
			}
			if StatusOf(in.st.VMState, in.st.TaskState) != "ERROR" {
				t.Fatal("status is not ERROR")
			}
			// An instance in error can be deleted.
			h.store.failUpdate = nil
			h.do(id, func(id string) error { return h.m.Delete(ctx, id, "r2") })
			if !h.store.get(id).deleted {
				t.Fatal("delete of a failed build did not delete it")
			}
		})
	}
}

func repeat(s string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestRejectBuild: a build the scheduler could not place is in error with
// Nova's NoValidHost fault and its claims released.
func TestRejectBuild(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.create()
	if err := h.m.RejectBuild(ctx, id, "req-1", &NoValidHostError{}); err != nil {
		t.Fatal(err)
	}
	h.expectHistory(id, "building/scheduling", "error/None")
	in := h.store.get(id)
	if len(in.faults) != 1 || in.faults[0].Message != "No valid host was found. There are not enough hosts available." {
		t.Fatalf("faults %+v", in.faults)
	}
	if got := h.claims.list(); !slices.Equal(got, []string{"release:" + id}) {
		t.Fatalf("claims %q", got)
	}
}

// TestActionFailures: a failed driver call records a fault; stop, start,
// pause and the like go back to their vm_state with task None, a reboot
// that leaves the guest down ends in error, a resize that fails before the
// new size is applied rolls back, a failed snapshot deletes its image, a
// failed delete leaves the instance in error for another try.
func TestActionFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		op     simulated.Op
		setup  func(h *harness, id string)
		action func(h *harness, id string) error
		vm     string
		power  virt.PowerState
		check  func(t *testing.T, h *harness, id string)
	}{
		{"stop", simulated.OpPowerOff, nil, func(h *harness, id string) error { return h.m.Stop(ctx, id, "r") },
			VMActive, virt.Running, nil},
		{"start", simulated.OpPowerOn, func(h *harness, id string) {
			h.do(id, func(id string) error { return h.m.Stop(ctx, id, "r") })
		}, func(h *harness, id string) error { return h.m.Start(ctx, id, "r") }, VMStopped, virt.Shutdown, nil},
		{"pause", simulated.OpPause, nil, func(h *harness, id string) error { return h.m.Pause(ctx, id, "r") },
			VMActive, virt.Running, nil},
		{"rescue", simulated.OpRescue, nil, func(h *harness, id string) error {
			return h.m.Rescue(ctx, RescueRequest{UUID: id, RequestID: "r", ProjectID: "p1", ImageID: "rescue"})
		}, VMActive, virt.Running, nil},
		{"soft reboot, guest still running", simulated.OpReboot, nil,
			func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r", false) }, VMActive, virt.Running, nil},
		{"hard reboot, guest down", simulated.OpPowerOn, func(h *harness, id string) {
			h.do(id, func(id string) error { return h.m.Stop(ctx, id, "r") })
		}, func(h *harness, id string) error { return h.m.Reboot(ctx, id, "r", true) }, VMError, virt.Shutdown, nil},
		{"resize, power off", simulated.OpPowerOff, nil, func(h *harness, id string) error {
			return h.m.Resize(ctx, ResizeRequest{RequestID: "r", Spec: spec(id)})
		}, VMActive, virt.Running, func(t *testing.T, h *harness, id string) {
			if got := h.claims.list(); !slices.Equal(got, []string{"revert:" + id}) {
				t.Fatalf("claims %q", got)
			}
		}},
		{"resize, driver", simulated.OpResize, nil, func(h *harness, id string) error {
			return h.m.Resize(ctx, ResizeRequest{RequestID: "r", Spec: spec(id)})
		}, VMActive, virt.Running, func(t *testing.T, h *harness, id string) {
			h.expectHistory(id, "active/None", "active/resize_prep", "active/resize_migrating", "active/None")
		}},
		{"resize, power on after", simulated.OpPowerOn, nil, func(h *harness, id string) error {
			return h.m.Resize(ctx, ResizeRequest{RequestID: "r", Spec: spec(id)})
		}, VMError, virt.Shutdown, nil},
		{"rebuild", simulated.OpRebuild, nil, func(h *harness, id string) error {
			return h.m.Rebuild(ctx, RebuildRequest{RequestID: "r", ProjectID: "p1", ImageID: "cirros", Spec: spec(id)})
		}, VMError, virt.Running, nil},
		{"snapshot", simulated.OpSnapshot, nil, func(h *harness, id string) error {
			return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r", ProjectID: "p1", ImageID: "snap"})
		}, VMActive, virt.Running, func(t *testing.T, h *harness, id string) {
			if !slices.Equal(h.images.deleted, []string{"snap"}) || h.images.uploaded["snap"] != nil {
				t.Fatalf("image deleted %q uploaded %d bytes", h.images.deleted, len(h.images.uploaded["snap"]))
			}
		}},
		{"delete", simulated.OpDestroy, nil, func(h *harness, id string) error { return h.m.Delete(ctx, id, "r") },
			VMError, virt.Running, func(t *testing.T, h *harness, id string) {
				h.do(id, func(id string) error { return h.m.Delete(ctx, id, "r2") })
				if ids, _ := h.drv.Instances(ctx); !h.store.get(id).deleted || len(ids) != 0 {
					t.Fatal("second delete did not delete")
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			id := h.active()
			if c.setup != nil {
				c.setup(h, id)
			}
			h.store.resetHistory(id)
			h.drv.Fail(c.op, id, 1, errTest)
			h.do(id, func(id string) error { return c.action(h, id) })
			h.expectState(id, c.vm, TaskNone, c.power)
			in := h.store.get(id)
			if len(in.faults) != 1 || !strings.Contains(in.faults[0].Message, "injected test failure") {
				t.Fatalf("faults %+v", in.faults)
			}
			if n := len(in.events); n == 0 || in.events[n-1].result != ResultError {
				t.Fatalf("events %q", in.eventList())
			}
			if c.check != nil {
				c.check(t, h, id)
			}
		})
	}
}

// TestUploadFailure: a snapshot whose upload fails goes back to None with
// a fault, and its image is deleted.
func TestUploadFailure(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Config{})
	id := h.active()
	h.images.failPut = errors.New("store full")
	h.store.resetHistory(id)
	h.do(id, func(id string) error {
		return h.m.Snapshot(ctx, SnapshotRequest{UUID: id, RequestID: "r", ProjectID: "p1", ImageID: "snap"})
	})
	h.expectHistory(id, "active/None", "active/image_snapshot_pending", "active/image_snapshot",
		"active/image_pending_upload", "active/image_uploading", "active/None")
	if in := h.store.get(id); len(in.faults) != 1 || !strings.Contains(in.faults[0].Message, "store full") {
		t.Fatalf("faults %+v", in.faults)
	}
	if !slices.Equal(h.images.deleted, []string{"snap"}) {
		t.Fatalf("deleted images %q", h.images.deleted)
	}
}
