package cloud

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"kumo/internal/platform/config"
)

// With a swift image store, kumo up keeps image data in its own object
// store: the upload lands there (the only store), downloads come back
// identical, and the store is shown as Glance's swift type.
func TestImageDataInTheObjectStore(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.AdminPassword = "pw"
	cfg.Compute.Driver = "simulated"
	cfg.Image.EnabledBackends = []config.ImageStore{{ID: "objects", Type: "swift", Default: true}}
	ctx, cancel := context.WithCancel(context.Background())
	var c *Cloud
	var err error
	for try := range 20 { // other tests and clouds may hold some ports
		cfg.PortOffset = 32100 + 137*try
		if c, err = Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "already in use") {
			break
		}
	}
	if err != nil {
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

	api := &apiClient{t: t}
	api.token = api.login(c.IdentityURL)
	var img struct {
		ID     string
		Stores string
	}
	api.do("POST", c.ImageURL+"/v2/images", map[string]any{"name": "in-swift", "disk_format": "raw", "container_format": "bare"}, 201, &img)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	api.raw("PUT", c.ImageURL+"/v2/images/"+img.ID+"/file", "application/octet-stream", data, 204)
	api.do("GET", c.ImageURL+"/v2/images/"+img.ID, nil, 200, &img)
	if img.Stores != "objects" {
		t.Fatalf("image stores %q, want objects", img.Stores)
	}
	resp := api.send("GET", c.ImageURL+"/v2/images/"+img.ID+"/file", "", nil, 200)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("download differs: %d bytes", len(got))
	}
	var detail struct {
		Stores []struct {
			ID   string
			Type string
		}
	}
	api.do("GET", c.ImageURL+"/v2/info/stores/detail", nil, 200, &detail)
	if len(detail.Stores) != 1 || detail.Stores[0].Type != "swift" {
		t.Fatalf("stores detail: %+v", detail)
	}
	// The bytes really are in the object store: the service project's
	// account holds them (read with a service token, as the image service does).
	id, err := c.Identity.ProjectID(ctx, "default", "service")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", c.ObjectStoreURL+"/v1/AUTH_"+id+"/glance/"+img.ID, nil)
	req.Header.Set("X-Auth-Token", c.tokens.For(id))
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || !bytes.Equal(obj, data) {
		t.Fatalf("object in swift: %d, %d bytes", r2.StatusCode, len(obj))
	}
}
