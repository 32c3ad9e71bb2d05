package qemu

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"kumo/internal/compute/virt"
)

// diskDiagnostics names the disks with a device in QMP's order (vda,
// vdb...), skips nodes without one and adds up the failed operations.
func TestDiskDiagnosticsFromBlockstats(t *testing.T) {
	const reply = `[
	 {"device":"","qdev":"/machine/peripheral/root-disk/virtio-backend","node-name":"root",
	  "stats":{"rd_bytes":1000,"wr_bytes":20,"rd_operations":10,"wr_operations":2,"failed_rd_operations":1,"failed_wr_operations":2,"failed_unmap_operations":0}},
	 {"device":"","qdev":"","node-name":"orphan","stats":{"rd_bytes":5}},
	 {"device":"","qdev":"/machine/peripheral/config-disk/virtio-backend","node-name":"config",
	  "stats":{"rd_bytes":300,"wr_bytes":0,"rd_operations":3,"wr_operations":0}}]`
	exec := func(ctx context.Context, cmd string, args, out any) error {
		if cmd != "query-blockstats" {
			t.Fatalf("command %s", cmd)
		}
		return json.Unmarshal([]byte(reply), out)
	}
	disks, err := diskDiagnostics(context.Background(), exec)
	if err != nil {
		t.Fatal(err)
	}
	if len(disks) != 2 || disks[0].Name != "vda" || disks[1].Name != "vdb" {
		t.Fatalf("disks %+v", disks)
	}
	d := disks[0]
	if *d.ReadBytes != 1000 || *d.ReadRequests != 10 || *d.WriteBytes != 20 || *d.WriteRequests != 2 || *d.ErrorsCount != 3 {
		t.Fatalf("vda %d %d %d %d %d", *d.ReadBytes, *d.ReadRequests, *d.WriteBytes, *d.WriteRequests, *d.ErrorsCount)
	}
	if *disks[1].ReadBytes != 300 || *disks[1].ErrorsCount != 0 {
		t.Fatalf("vdb %+v", disks[1])
	}
}

// threadCPUTime reads a real thread's CPU time from /proc: this test's
// own thread, after it burned some CPU.
func TestThreadCPUTime(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc")
	}
	done := make(chan int64)
	go func() {
		// Pin to one OS thread so the tid stays the one that burned CPU.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		}
		done <- int64(syscall.Gettid())
	}()
	tid := <-done
	ns, ok := threadCPUTime(os.Getpid(), int(tid))
	if !ok || ns <= 0 {
		t.Fatalf("cpu time of a busy thread: %d %v", ns, ok)
	}
	if _, ok := threadCPUTime(os.Getpid(), 1<<30); ok {
		t.Fatal("cpu time of a thread that does not exist")
	}
}

// A tap's counters are the host's view: what it transmitted the guest
// received. A tap that does not exist gives nulls, not zeros.
func TestNICDiagnosticsMissingTap(t *testing.T) {
	n := nicDiagnostics(virt.NIC{MAC: "fa:16:3e:00:00:01", TapName: "kumo-no-such-tap"})
	if n.MAC != "fa:16:3e:00:00:01" || n.RxOctets != nil || n.TxPackets != nil {
		t.Fatalf("%+v", n)
	}
	// Loopback's counters are real ones of the same files.
	if _, err := os.Stat("/sys/class/net/lo/statistics/rx_bytes"); err == nil {
		if lo := nicDiagnostics(virt.NIC{TapName: "lo"}); lo.RxOctets == nil || lo.TxOctets == nil || lo.RxDrop == nil {
			t.Fatalf("loopback counters %+v", lo)
		}
	}
}
