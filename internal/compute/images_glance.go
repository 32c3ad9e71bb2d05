package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// glanceProxy is the image API's way to the image service: Glance v2
// over HTTP with the caller's own token, as Nova's image proxy does. The
// endpoint is Config.ImageURL, else the public "image" endpoint of the
// caller's catalog (Keystone GET /v3/auth/catalog), found once.
type glanceProxy struct {
	s    *Service
	mu   sync.Mutex
	base string
}

var errNoImageService = errors.New("no image service in the catalog")

func (g *glanceProxy) endpoint(ctx context.Context, token string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.base != "" {
		return g.base, nil
	}
	if u := g.s.cfg.ImageURL; u != "" {
		g.base = strings.TrimSuffix(u, "/")
		return g.base, nil
	}
	if g.s.cfg.IdentityURL == "" {
		return "", errNoImageService
	}
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(g.s.cfg.IdentityURL, "/")+"/auth/catalog", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Auth-Token", token)
	resp, err := glanceHTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("identity catalog: %w", err)
	}
	defer resp.Body.Close()
	var cat struct {
		Catalog []struct {
			Type      string `json:"type"`
			Endpoints []struct {
				Interface, URL, Region string
			} `json:"endpoints"`
		} `json:"catalog"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("identity catalog: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&cat); err != nil {
		return "", fmt.Errorf("identity catalog: %w", err)
	}
	for _, svc := range cat.Catalog {
		if svc.Type != "image" {
			continue
		}
		for _, e := range svc.Endpoints {
			if e.Interface == "public" && (g.s.cfg.LimitRegion == "" || e.Region == "" || e.Region == g.s.cfg.LimitRegion) {
				g.base = strings.TrimSuffix(e.URL, "/")
				return g.base, nil
			}
		}
	}
	return "", errNoImageService
}

var glanceHTTP = &http.Client{Timeout: 60 * time.Second}

// glanceError is a non-2xx answer of the image service.
type glanceError struct {
	status int
	msg    string
}

func (e *glanceError) Error() string { return fmt.Sprintf("image service: %d %s", e.status, e.msg) }

// do calls the image service as the caller; out (if not nil) receives the
// JSON answer.
func (g *glanceProxy) do(c *call, method, path, ctype string, in, out any) error {
	return g.doAs(c.ctx, c.tok.ID, method, path, ctype, in, out)
}

// doAs is do with an explicit context and token (work that outlives the
// request).
func (g *glanceProxy) doAs(ctx context.Context, token, method, path, ctype string, in, out any) error {
	base, err := g.endpoint(ctx, token)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := glanceHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("image service: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &glanceError{resp.StatusCode, strings.TrimSpace(string(msg))}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// glanceCore are Glance v2's own image attributes; every other member of
// an image is a property (Nova's image "metadata").
var glanceCore = map[string]bool{"id": true, "name": true, "status": true, "visibility": true, "protected": true,
	"checksum": true, "owner": true, "size": true, "virtual_size": true, "min_ram": true, "min_disk": true,
	"disk_format": true, "container_format": true, "created_at": true, "updated_at": true, "tags": true,
	"file": true, "schema": true, "self": true, "direct_url": true, "locations": true, "os_hash_algo": true,
	"os_hash_value": true, "os_hidden": true, "stores": true}

// image fetches one image (nil, nil when not found or not visible).
func (g *glanceProxy) image(c *call, id string) (map[string]any, error) {
	var img map[string]any
	err := g.do(c, "GET", "/v2/images/"+id, "", nil, &img)
	var ge *glanceError
	if errors.As(err, &ge) && ge.status == http.StatusNotFound {
		return nil, nil
	}
	return img, err
}

// images lists every image the caller sees (following Glance's next
// links, bounded).
func (g *glanceProxy) images(c *call) ([]map[string]any, error) {
	var all []map[string]any
	path := "/v2/images?limit=1000"
	for range 100 {
		var page struct {
			Images []map[string]any `json:"images"`
			Next   string           `json:"next"`
		}
		if err := g.do(c, "GET", path, "", nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Images...)
		if page.Next == "" {
			return all, nil
		}
		path = page.Next
	}
	return all, nil
}

// patch applies JSON-patch operations to an image's properties.
func (g *glanceProxy) patch(c *call, id string, ops []map[string]any) (map[string]any, error) {
	var img map[string]any
	err := g.do(c, "PATCH", "/v2/images/"+id, "application/openstack-images-v2.1-json-patch", ops, &img)
	return img, err
}
