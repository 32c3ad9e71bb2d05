package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runKumo runs a short kumo command to its end.
func runKumo(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kumoBin, args...)
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kumo %s did not finish within %s; output:\n%s", strings.Join(args, " "), timeout, out.String())
	}
	return out.String(), err
}

func TestVersion(t *testing.T) {
	out, err := runKumo(t, 30*time.Second, "version")
	if err != nil {
		t.Fatalf("kumo version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "kumo ") {
		t.Errorf("kumo version printed %q, want a line starting \"kumo \"", out)
	}
	if os.Getenv("KUMO_E2E_BIN") == "" && !strings.Contains(out, e2eVersion) {
		t.Errorf("kumo version printed %q, want the version %s stamped with -ldflags", out, e2eVersion)
	}
}

func TestHelp(t *testing.T) {
	out, err := runKumo(t, 30*time.Second, "--help")
	if err != nil {
		t.Fatalf("kumo --help: %v\n%s", err, out)
	}
	for _, want := range []string{"up", "version", "admin"} {
		if !strings.Contains(out, want) {
			t.Errorf("kumo --help does not mention %q:\n%s", want, out)
		}
	}
	out, err = runKumo(t, 30*time.Second, "up", "--help")
	if err != nil {
		t.Fatalf("kumo up --help: %v\n%s", err, out)
	}
	for _, want := range []string{"--data-dir", "--listen", "--port-offset", "--admin-password", "--log-level"} {
		if !strings.Contains(out, want) {
			t.Errorf("kumo up --help does not mention %s:\n%s", want, out)
		}
	}
	if out, err := runKumo(t, 30*time.Second, "no-such-command"); err == nil {
		t.Errorf("kumo no-such-command exited 0, want an error:\n%s", out)
	}
}

// TestPortTaken: when identity's port is in use, `kumo up` must fail at
// once, with a message naming the port, and not claim to be ready.
func TestPortTaken(t *testing.T) {
	offset := freeOffset(t)
	port := 5000 + offset
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, err := runKumo(t, readyTimeout, "up", "--data-dir", t.TempDir(), "--port-offset", strconv.Itoa(offset),
		"--admin-password", randomPassword(t))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("kumo up on a taken port %d: got %v, want a non-zero exit; output:\n%s", port, err, out)
	}
	if !strings.Contains(out, strconv.Itoa(port)) {
		t.Errorf("kumo up on a taken port: the message does not name port %d:\n%s", port, out)
	}
	if strings.Contains(out, "kumo ready:") {
		t.Errorf("kumo up on a taken port printed a ready line:\n%s", out)
	}
	t.Logf("kumo up on taken port %d: %v: %s", port, err, strings.TrimSpace(out))
}

// TestRestartKeepsTokens checks persistence over plain HTTP, so it runs
// without the openstack client too: a token issued before a restart
// validates after it, and the stored admin password is reused.
func TestRestartKeepsTokens(t *testing.T) {
	dir := t.TempDir()
	offset := freeOffset(t)
	k := startKumo(t, dir, offset) // no --admin-password: one is generated
	rc := k.openrc()
	stored, err := os.ReadFile(filepath.Join(dir, "admin-password"))
	if err != nil {
		t.Fatalf("generated admin password not stored: %v", err)
	}
	if strings.TrimSpace(string(stored)) != rc["OS_PASSWORD"] {
		t.Errorf("DIR/admin-password and openrc disagree")
	}
	for _, f := range []string{"openrc", "clouds.yaml"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not written: %v", f, err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: it holds the admin password, want no group/other access", f, st.Mode().Perm())
		}
	}
	before := issueToken(t, rc)

	// SIGINT (Ctrl-C) must stop kumo as cleanly as SIGTERM.
	if err := k.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.exited:
		if k.waitErr != nil {
			t.Fatalf("kumo exited with %v after SIGINT (want status 0); output:\n%s", k.waitErr, k.output)
		}
	case <-time.After(stopTimeout):
		t.Fatalf("kumo did not exit within %s of SIGINT", stopTimeout)
	}

	k = startKumo(t, dir, offset)
	rc2 := k.openrc()
	if rc2["OS_PASSWORD"] != rc["OS_PASSWORD"] {
		t.Fatalf("restart without --admin-password generated a new admin password")
	}
	after := issueToken(t, rc2)
	checkToken(t, rc["OS_AUTH_URL"], after, before, "admin", "admin")
	k.stop()
}

// issueToken gets a project-scoped token for the openrc's user over HTTP.
func issueToken(t *testing.T, rc map[string]string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": rc["OS_USERNAME"], "domain": map[string]string{"name": rc["OS_USER_DOMAIN_NAME"]}, "password": rc["OS_PASSWORD"]}}},
		"scope": map[string]any{"project": map[string]any{
			"name": rc["OS_PROJECT_NAME"], "domain": map[string]string{"name": rc["OS_PROJECT_DOMAIN_NAME"]}}},
	}})
	resp, err := httpClient.Post(strings.TrimRight(rc["OS_AUTH_URL"], "/")+"/auth/tokens", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /v3/auth/tokens: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v3/auth/tokens: status %d, want 201", resp.StatusCode)
	}
	tok := resp.Header.Get("X-Subject-Token")
	if tok == "" {
		t.Fatal("POST /v3/auth/tokens: no X-Subject-Token")
	}
	return tok
}
