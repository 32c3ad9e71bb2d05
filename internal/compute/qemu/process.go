package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"kumo/internal/compute/qemu/qmp"
)

// start launches the instance's QEMU and returns once its VM is running
// (with o.incoming: once the saved state is loaded; the VM is then
// paused). QEMU daemonizes into its own session, so it outlives kumo. On
// error a QEMU that did start is stopped again.
func (d *Driver) start(ctx context.Context, in *instance, r *record, o launchOpts) (err error) {
	pid, alive := in.pid()
	if alive {
		return fmt.Errorf("qemu: instance %s is already running", in.uuid)
	}
	// A QEMU that just died may still hold its disk locks: let it finish.
	if pid > 0 && !waitExitCtx(ctx, pid, in.uuid, 10*time.Second) {
		return fmt.Errorf("qemu: the previous QEMU of %s (pid %d) is still exiting", in.uuid, pid)
	}
	if err := tapsExist(r.NICs); err != nil {
		return fmt.Errorf("qemu: start %s: %w", in.uuid, err)
	}
	d.dropMonitor(in.uuid)
	for _, n := range []string{qmpSock, consoleSock, vncSock, pidFile} {
		os.Remove(in.path(n))
	}
	trimConsoleLog(in.path(consoleLog))
	logf, err := os.OpenFile(in.path(qemuLog), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	defer logf.Close()

	cmd := exec.Command(d.cfg.QEMUBinary, d.commandLine(in, r, o)...)
	cmd.Dir = in.dir
	// A file, not a pipe: the daemonized QEMU keeps the descriptor until it
	// finishes starting, and a pipe would make Wait wait for that.
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("qemu: start %s: %w", d.cfg.QEMUBinary, err)
	}
	defer func() {
		if err != nil {
			d.kill(in)
		}
	}()
	// QEMU's foreground process exits once the daemon has set everything
	// up (or failed to).
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case werr := <-exited:
		if werr != nil {
			return fmt.Errorf("qemu: guest %s failed to start: %v: %s", in.uuid, werr, tail(in.path(qemuLog), 2048))
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("qemu: guest %s did not start: %w", in.uuid, ctx.Err())
	}
	if _, alive := in.pid(); !alive {
		return fmt.Errorf("qemu: guest %s exited at once: %s", in.uuid, tail(in.path(qemuLog), 2048))
	}
	m, err := d.monitor(ctx, in)
	if err != nil {
		return fmt.Errorf("qemu: guest %s: %w", in.uuid, err)
	}
	if o.incoming != "" {
		return waitRestored(ctx, m)
	}
	st, err := m.QueryStatus(ctx)
	if err != nil {
		return fmt.Errorf("qemu: guest %s: %w", in.uuid, err)
	}
	if !st.Running {
		return fmt.Errorf("qemu: guest %s is %s after start, not running", in.uuid, st.Status)
	}
	return nil
}

// waitRestored waits for an incoming migration (a resume from a saved
// state) to finish loading.
func waitRestored(ctx context.Context, m *qmp.Monitor) error {
	for i := 0; ; i++ {
		st, err := m.QueryStatus(ctx)
		if err != nil {
			return fmt.Errorf("qemu: restore: %w", err)
		}
		switch st.Status {
		case "inmigrate":
		case "paused", "running":
			return nil
		default:
			return fmt.Errorf("qemu: restore ended in state %s", st.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("qemu: restore: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// kill stops an instance's QEMU at once: quit over QMP, then SIGKILL if it
// lingers. It returns once the process is gone.
func (d *Driver) kill(in *instance) error {
	defer d.dropMonitor(in.uuid)
	pid, alive := in.pid()
	if !alive {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	m, err := d.monitor(ctx, in)
	if err == nil {
		m.Quit(ctx) // the reply may be lost as QEMU exits; the wait decides
	}
	cancel()
	if err == nil && waitExit(pid, in.uuid, 5*time.Second) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if waitExit(pid, in.uuid, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("qemu: guest %s (pid %d) does not die", in.uuid, pid)
}

// waitExit waits up to timeout for the guest's process to end.
func waitExit(pid int, uuid string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !processIsGuest(pid, uuid) && !processExiting(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processExiting reports a process in the middle of exiting: its memory
// (and so its command line) is already gone but its files, and QEMU's
// locks on the disk images, may not be released yet. A new QEMU started on
// the same disk in that window fails with "Failed to get write lock".
func processExiting(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && len(cmdline) == 0 && !processIsZombie(pid)
}

// waitExitCtx is waitExit bounded by ctx as well.
func waitExitCtx(ctx context.Context, pid int, uuid string, timeout time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	return waitExit(pid, uuid, timeout)
}

// tail returns the last max bytes of a file, for error messages.
func tail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

var errNotRunning = errors.New("qemu: instance is not running")

// Console log bounds: QEMU appends to console.log for the instance's whole
// life, so at each start a log above consoleLogMax keeps only its tail.
const (
	consoleLogMax  = 8 << 20
	consoleLogKeep = 1 << 20
)

func trimConsoleLog(path string) {
	st, err := os.Stat(path)
	if err != nil || st.Size() <= consoleLogMax {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(-consoleLogKeep, io.SeekEnd); err != nil {
		return
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return
	}
	writeFileAtomic(path, b)
}
