package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"kumo/internal/compute"
	"kumo/internal/compute/manager"
)

// glanceClient is compute's view of the image service: a client of its
// public Glance v2 API, as Nova is, acting for the instance's project with
// a service token. Going through the API keeps every rule of the image
// service (visibility, quotas, disk inspection of snapshots) in one place.
type glanceClient struct {
	base   string // e.g. http://127.0.0.1:9292
	tokens *serviceTokens
	http   *http.Client
}

var _ compute.ImageService = (*glanceClient)(nil)

func (g *glanceClient) do(ctx context.Context, projectID, method, path, ctype string, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Token", g.tokens.For(projectID))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if size >= 0 && body != nil {
		req.ContentLength = size
	}
	return g.http.Do(req)
}

// call does a request whose answer is small JSON and decodes it into out.
func (g *glanceClient) call(ctx context.Context, projectID, method, path, ctype string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	resp, err := g.do(ctx, projectID, method, path, ctype, body, -1)
	if err != nil {
		return fmt.Errorf("image service: %w", err)
	}
	defer resp.Body.Close()
	return g.answer(resp, method, path, out, want)
}

func (g *glanceClient) answer(resp *http.Response, method, path string, out any, want int) error {
	if resp.StatusCode == http.StatusNotFound {
		return compute.ErrImageNotFound
	}
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("image service: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

type glanceImage struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	DiskFormat *string `json:"disk_format"`
	Size       *int64  `json:"size"`
	Checksum   *string `json:"checksum"`
	HashAlgo   *string `json:"os_hash_algo"`
	HashValue  *string `json:"os_hash_value"`
	MinDisk    int     `json:"min_disk"`
	MinRAM     int     `json:"min_ram"`
}

// core fields of an image; everything else is a property.
var glanceCore = map[string]bool{"id": true, "name": true, "status": true, "visibility": true, "protected": true,
	"os_hidden": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true, "owner": true, "size": true,
	"virtual_size": true, "min_ram": true, "min_disk": true, "created_at": true, "updated_at": true, "tags": true,
	"self": true, "file": true, "schema": true, "disk_format": true, "container_format": true, "direct_url": true,
	"locations": true}

func (g *glanceClient) show(ctx context.Context, projectID, imageID string) (glanceImage, map[string]string, error) {
	var raw map[string]any
	if err := g.call(ctx, projectID, http.MethodGet, "/v2/images/"+imageID, "", nil, &raw, http.StatusOK); err != nil {
		return glanceImage{}, nil, err
	}
	b, _ := json.Marshal(raw)
	var im glanceImage
	if err := json.Unmarshal(b, &im); err != nil {
		return im, nil, fmt.Errorf("image service: image %s: %w", imageID, err)
	}
	props := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok && !glanceCore[k] {
			props[k] = s
		}
	}
	return im, props, nil
}

// Status implements compute.ImageService.
func (g *glanceClient) Status(ctx context.Context, projectID, imageID string) (string, error) {
	im, _, err := g.show(ctx, projectID, imageID)
	return im.Status, err
}

// Image implements manager.Images.
func (g *glanceClient) Image(ctx context.Context, projectID, imageID string) (manager.ImageInfo, error) {
	im, props, err := g.show(ctx, projectID, imageID)
	if err != nil {
		return manager.ImageInfo{}, err
	}
	if im.Status != "active" {
		return manager.ImageInfo{}, fmt.Errorf("image %s is %s, not active", imageID, im.Status)
	}
	info := manager.ImageInfo{MinDisk: im.MinDisk, MinRAM: im.MinRAM, Properties: props}
	info.ID = im.ID
	info.DiskFormat = deref(im.DiskFormat)
	info.Checksum, info.HashAlgo, info.HashValue = deref(im.Checksum), deref(im.HashAlgo), deref(im.HashValue)
	if im.Size != nil {
		info.Size = *im.Size
	}
	info.Open = func(ctx context.Context) (io.ReadCloser, error) {
		resp, err := g.do(ctx, projectID, http.MethodGet, "/v2/images/"+imageID+"/file", "", nil, -1)
		if err != nil {
			return nil, fmt.Errorf("image service: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			defer resp.Body.Close()
			return nil, g.answer(resp, http.MethodGet, "/v2/images/"+imageID+"/file", nil, http.StatusOK)
		}
		return resp.Body, nil
	}
	return info, nil
}

// CreateSnapshot implements compute.ImageService: a queued qcow2 image
// owned by the project, as Nova's createImage makes it.
func (g *glanceClient) CreateSnapshot(ctx context.Context, projectID, name string, properties map[string]string) (string, error) {
	body := map[string]any{"name": name, "disk_format": "qcow2", "container_format": "bare"}
	for k, v := range properties {
		if !glanceCore[k] {
			body[k] = v
		}
	}
	var out glanceImage
	if err := g.call(ctx, projectID, http.MethodPost, "/v2/images", "application/json", body, &out, http.StatusCreated); err != nil {
		return "", err
	}
	return out.ID, nil
}

// UploadSnapshot implements manager.Images.
func (g *glanceClient) UploadSnapshot(ctx context.Context, projectID, imageID string, data io.Reader, size int64) error {
	path := "/v2/images/" + imageID + "/file"
	resp, err := g.do(ctx, projectID, http.MethodPut, path, "application/octet-stream", data, size)
	if err != nil {
		return fmt.Errorf("image service: %w", err)
	}
	defer resp.Body.Close()
	return g.answer(resp, http.MethodPut, path, nil, http.StatusNoContent)
}

// DeleteImage implements manager.Images.
func (g *glanceClient) DeleteImage(ctx context.Context, projectID, imageID string) error {
	err := g.call(ctx, projectID, http.MethodDelete, "/v2/images/"+imageID, "", nil, nil, http.StatusNoContent)
	if err == compute.ErrImageNotFound {
		return nil
	}
	return err
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
