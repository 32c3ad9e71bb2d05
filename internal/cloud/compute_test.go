package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/platform/config"
)

// A QEMU that fails to start puts the server in ERROR with QEMU's own
// message as the fault, and leaves nothing behind: no instance directory,
// no process, no claim on the host. It runs the whole cloud in process,
// so it also covers the wiring: compute fetching the image through the
// image service's API with a service token.
func TestQEMUFailingToStartLeavesErrorAndNothingElse(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	qemuImg, err2 := exec.LookPath("qemu-img")
	if err != nil || err2 != nil {
		if os.Getenv("KUMO_REQUIRE_TOOLS") == "1" {
			t.Fatalf("qemu-system-x86_64 / qemu-img missing: %v %v", err, err2)
		}
		t.Skip("qemu-system-x86_64 or qemu-img not installed")
	}
	dir := t.TempDir()
	// Real QEMU, which answers --version (kumo reads it at start) but is
	// given an option it refuses when it is asked to run a guest.
	wrapper := filepath.Join(dir, "broken-qemu")
	script := "#!/bin/sh\n[ \"$1\" = --version ] && exec " + qemu + " --version\nexec " + qemu + " \"$@\" -no-such-option\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, "disk.qcow2")
	if out, err := exec.Command(qemuImg, "create", "-q", "-f", "qcow2", disk, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	cfg := config.Defaults()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.AdminPassword = "pw"
	cfg.Compute.Accel = "tcg"
	cfg.Compute.QEMUBinary = wrapper
	c := startCloud(t, cfg, 31100)

	api := &apiClient{t: t}
	api.token = api.login(c.IdentityURL)
	var img struct{ ID string }
	api.do("POST", c.ImageURL+"/v2/images", map[string]any{"name": "blank", "disk_format": "qcow2", "container_format": "bare"}, 201, &img)
	data, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	api.raw("PUT", c.ImageURL+"/v2/images/"+img.ID+"/file", "application/octet-stream", data, 204)

	var created struct{ Server struct{ ID string } }
	api.do("POST", c.ComputeURL+"/servers", map[string]any{"server": map[string]any{
		"name": "doomed", "imageRef": img.ID, "flavorRef": "42", "networks": "none"}}, 202, &created)
	id := created.Server.ID
	var shown struct {
		Server struct {
			Status string
			Fault  struct {
				Code    int
				Message string
				Details string
			}
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		api.do("GET", c.ComputeURL+"/servers/"+id, nil, 200, &shown)
		if shown.Server.Status == "ERROR" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	f := shown.Server.Fault
	if shown.Server.Status != "ERROR" || !strings.Contains(f.Message, "Build of instance") ||
		!strings.Contains(f.Message+f.Details, "-no-such-option") {
		t.Fatalf("server after a failed QEMU start: %+v", shown.Server)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "compute", "instances", id)); !os.IsNotExist(err) {
		t.Fatalf("instance directory left behind: %v", err)
	}
	var hyp struct {
		Hypervisors []struct {
			VCPUsUsed    int `json:"vcpus_used"`
			MemoryMBUsed int `json:"memory_mb_used"`
			RunningVMs   int `json:"running_vms"`
		}
	}
	api.do("GET", c.ComputeURL+"/os-hypervisors/detail", nil, 200, &hyp)
	if len(hyp.Hypervisors) != 1 || hyp.Hypervisors[0].VCPUsUsed != 0 || hyp.Hypervisors[0].RunningVMs != 0 {
		t.Fatalf("host still holds the failed instance: %+v", hyp)
	}
	// Deleting the ERROR server works and removes it.
	api.raw("DELETE", c.ComputeURL+"/servers/"+id, "", nil, 204)
}

// startCloud starts and serves the whole cloud on cfg, at the first free
// port offset from base on, until the test ends.
func startCloud(t *testing.T, cfg config.Config, base int) *Cloud {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var c *Cloud
	var err error
	for try := range 20 { // other tests and clouds may hold some ports
		cfg.PortOffset = base + 137*try
		if c, err = Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ready := make(chan struct{})
	served := make(chan error, 1)
	go func() { served <- c.Serve(ctx, func() { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	<-ready
	return c
}

// apiClient makes JSON calls with a token, failing the test on a status
// other than the expected one.
type apiClient struct {
	t     *testing.T
	token string
}

func (a *apiClient) login(identityURL string) string {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": "admin", "domain": map[string]any{"id": "default"}, "password": "pw"}}},
		"scope": map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]any{"id": "default"}}}}}
	b, _ := json.Marshal(body)
	resp := a.send("POST", identityURL+"/auth/tokens", "application/json", b, 201)
	resp.Body.Close()
	return resp.Header.Get("X-Subject-Token")
}

func (a *apiClient) do(method, url string, in any, want int, out any) {
	a.t.Helper()
	var b []byte
	ctype := ""
	if in != nil {
		b, _ = json.Marshal(in)
		ctype = "application/json"
	}
	resp := a.send(method, url, ctype, b, want)
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			a.t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

func (a *apiClient) raw(method, url, ctype string, body []byte, want int) {
	a.t.Helper()
	a.send(method, url, ctype, body, want).Body.Close()
}

func (a *apiClient) send(method, url, ctype string, body []byte, want int) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if a.token != "" {
		req.Header.Set("X-Auth-Token", a.token)
	}
	req.Header.Set("OpenStack-API-Version", "compute 2.93")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, url, err)
	}
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a.t.Fatalf("%s %s: %s, want %d: %s", method, url, resp.Status, want, msg)
	}
	return resp
}
