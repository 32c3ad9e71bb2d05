package qmp

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// startQEMU runs a diskless QEMU with its vCPUs stopped (-S) and returns
// its QMP socket path; it is killed when the test ends.
func startQEMU(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatalf("qemu-system-x86_64 is required (KUMO_REQUIRE_TOOLS=1): %v", err)
		}
		t.Skip("qemu-system-x86_64 not installed")
	}
	dir, err := os.MkdirTemp("", "kqmp")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "qmp.sock")
	cmd := exec.Command("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", "32",
		"-nodefaults", "-no-user-config", "-display", "none", "-S",
		"-qmp", "unix:"+sock+",server=on,wait=off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	})
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("QMP socket never appeared")
	return ""
}

func dial(t *testing.T, sock string) *Monitor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMonitorCommandsAndEvents(t *testing.T) {
	sock := startQEMU(t)
	m := dial(t, sock)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	st, err := m.QueryStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || st.Status != "prelaunch" {
		t.Fatalf("status under -S: %+v", st)
	}

	ev := m.Subscribe(EventResume, EventStop)
	defer ev.Close()
	if err := m.Cont(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Wait(ctx, EventResume); err != nil {
		t.Fatal(err)
	}
	if st, _ := m.QueryStatus(ctx); !st.Running {
		t.Fatalf("after cont: %+v", st)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	e, err := ev.Wait(ctx, EventStop)
	if err != nil {
		t.Fatal(err)
	}
	if e.Time.IsZero() || time.Since(e.Time) > time.Minute {
		t.Errorf("event time %v", e.Time)
	}
	if st, _ := m.QueryStatus(ctx); st.Status != "paused" {
		t.Fatalf("after stop: %+v", st)
	}

	// QEMU's own error comes back typed.
	err = m.Execute(ctx, "no-such-command", nil, nil)
	var qe *Error
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
		t.Fatalf("unknown command: %v", err)
	}

	// Many concurrent commands each get their own reply.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				var k KVM
				if err := m.Execute(ctx, "query-kvm", nil, &k); err != nil {
					errs <- err
					return
				}
				if st, err := m.QueryStatus(ctx); err != nil || st.Status != "paused" {
					errs <- errors.New("wrong reply to query-status: " + st.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Waiting for an event that never comes ends with the context.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, err := ev.Wait(short, EventReset); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait without event: %v", err)
	}
}

// After QEMU quits, the monitor reports the connection gone: pending and
// later commands fail with ErrClosed, subscriptions end.
func TestMonitorQuitAndReconnect(t *testing.T) {
	sock := startQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// One client at a time: close and connect again.
	m1 := dial(t, sock)
	if _, err := m1.QueryStatus(ctx); err != nil {
		t.Fatal(err)
	}
	m1.Close()
	if err := m1.Execute(ctx, "query-status", nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("command on a closed monitor: %v", err)
	}
	m := dial(t, sock)

	ev := m.Subscribe(EventShutdown)
	m.Quit(ctx) // the reply may race with the socket closing
	if e, err := ev.Wait(ctx, EventShutdown); err != nil {
		t.Fatalf("no SHUTDOWN event: %v", err)
	} else if string(e.Data) == "" {
		t.Error("SHUTDOWN without data")
	}
	select {
	case <-m.Done():
	case <-ctx.Done():
		t.Fatal("connection not closed after quit")
	}
	if err := m.Execute(ctx, "query-status", nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("command after quit: %v", err)
	}
	if _, ok := <-m.Subscribe(EventStop).C(); ok {
		t.Fatal("subscription on a closed monitor delivered something")
	}
	if _, err := Dial(ctx, filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Fatal("dial of a missing socket succeeded")
	}
}

// Volume hot-plug commands: a qcow2 node is opened, plugged, refused
// removal while in use. (DEVICE_DELETED needs a guest that ejects the
// device; the qemu driver's guest test covers it.)
func TestMonitorHotplugCommands(t *testing.T) {
	sock := startQEMU(t)
	m := dial(t, sock)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	vol := filepath.Join(t.TempDir(), "vol.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", vol, "16M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := m.BlockdevAddQcow2(ctx, "vol1", vol, false); err != nil {
		t.Fatal(err)
	}
	if err := m.DeviceAddVirtioBlk(ctx, "vol1dev", "vol1", "vol-0001"); err != nil {
		t.Fatal(err)
	}
	nodes, err := m.QueryBlockNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range nodes {
		found = found || (n.NodeName == "vol1" && n.File == vol && n.Driver == "qcow2")
	}
	if !found {
		t.Fatalf("vol1 not among the block nodes: %+v", nodes)
	}
	var qe *Error
	if err := m.BlockdevDel(ctx, "vol1"); !errors.As(err, &qe) {
		t.Fatalf("blockdev-del of a node in use: %v", err)
	}
	if err := m.DeviceDel(ctx, "vol1dev"); err != nil {
		t.Fatal(err)
	}
}
