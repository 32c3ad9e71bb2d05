package cloud

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/platform/config"
)

// Images that name what they need (hw_architecture, img_hv_type) are
// scheduled on hosts that say they run it, as Nova's ImagePropertiesFilter
// does: an x86_64 image finds the host, an aarch64 one gets No valid host.
// Uploaded cloud images commonly carry hw_architecture, so the hosts must
// report their supported instances.
func TestImagePropertiesMatchTheHosts(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.AdminPassword = "pw"
	cfg.Compute.Driver = "simulated"
	cfg.Compute.SimulatedHosts = 2
	c := startCloud(t, cfg, 31900)
	api := &apiClient{t: t}
	api.token = api.login(c.IdentityURL)

	boot := func(name string, props map[string]any) (status, fault string) {
		img := map[string]any{"name": name, "disk_format": "raw", "container_format": "bare"}
		for k, v := range props {
			img[k] = v
		}
		var created struct{ ID string }
		api.do("POST", c.ImageURL+"/v2/images", img, 201, &created)
		api.raw("PUT", c.ImageURL+"/v2/images/"+created.ID+"/file", "application/octet-stream", make([]byte, 4096), 204)
		var srv struct{ Server struct{ ID string } }
		api.do("POST", c.ComputeURL+"/servers", map[string]any{"server": map[string]any{
			"name": name, "imageRef": created.ID, "flavorRef": "42", "networks": "none"}}, 202, &srv)
		var shown struct {
			Server struct {
				Status string
				Fault  struct{ Message string }
			}
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			api.do("GET", c.ComputeURL+"/servers/"+srv.Server.ID, nil, 200, &shown)
			if shown.Server.Status == "ACTIVE" || shown.Server.Status == "ERROR" && shown.Server.Fault.Message != "" {
				break
			}
		}
		return shown.Server.Status, shown.Server.Fault.Message
	}
	if st, fault := boot("x86", map[string]any{"hw_architecture": "x86_64", "img_hv_type": "qemu", "hw_vm_mode": "hvm"}); st != "ACTIVE" {
		t.Fatalf("x86_64/qemu/hvm image: %s %q, want ACTIVE", st, fault)
	}
	if st, fault := boot("arm", map[string]any{"hw_architecture": "aarch64"}); st != "ERROR" || !strings.Contains(fault, "No valid host") {
		t.Fatalf("aarch64 image: %s %q, want ERROR with No valid host", st, fault)
	}
}
