package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
)

// SwiftClient is an ObjectStore over the Swift API. Auth gives, as
// Swift's v1 auth does, the account's storage URL
// (http://host:port/v1/AUTH_<project>) and a token valid on it; it is
// asked on every request, so it may resolve the project late and renew
// tokens (a service token in `kumo up`).
type SwiftClient struct {
	Auth func(ctx context.Context) (storageURL, token string, err error)
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client

	mu      sync.Mutex
	created map[string]bool // containers known to exist
}

func (c *SwiftClient) do(ctx context.Context, method, path string, body io.Reader, size int64, hdr http.Header) (*http.Response, error) {
	base, tok, err := c.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("swift: auth: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("X-Auth-Token", tok)
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	return hc.Do(req)
}

func objPath(container, object string) string {
	return "/" + url.PathEscape(container) + "/" + url.PathEscape(object)
}

// swiftError reads a failed response into an error; 404 wraps
// os.ErrNotExist.
func swiftError(what string, resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("swift: %s: %w", what, os.ErrNotExist)
	}
	return fmt.Errorf("swift: %s: status %d: %s", what, resp.StatusCode, strings.TrimSpace(string(msg)))
}

// ensureContainer creates container once per client (PUT is idempotent).
func (c *SwiftClient) ensureContainer(ctx context.Context, container string) error {
	c.mu.Lock()
	done := c.created[container]
	c.mu.Unlock()
	if done {
		return nil
	}
	resp, err := c.do(ctx, http.MethodPut, "/"+url.PathEscape(container), nil, 0, nil)
	if err != nil {
		return fmt.Errorf("swift: create container %s: %w", container, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted {
		return swiftError("create container "+container, resp)
	}
	resp.Body.Close()
	c.mu.Lock()
	if c.created == nil {
		c.created = map[string]bool{}
	}
	c.created[container] = true
	c.mu.Unlock()
	return nil
}

// Put implements ObjectStore.
func (c *SwiftClient) Put(ctx context.Context, container, object string, r io.Reader, size int64, etag string) error {
	if err := c.ensureContainer(ctx, container); err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	if etag != "" {
		hdr.Set("ETag", etag)
	}
	resp, err := c.do(ctx, http.MethodPut, objPath(container, object), r, size, hdr)
	if err != nil {
		return fmt.Errorf("swift: put %s/%s: %w", container, object, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		// The container went away since: forget it, so the next put makes it.
		c.mu.Lock()
		delete(c.created, container)
		c.mu.Unlock()
	}
	if resp.StatusCode != http.StatusCreated {
		return swiftError("put "+container+"/"+object, resp)
	}
	resp.Body.Close()
	return nil
}

// Get implements ObjectStore.
func (c *SwiftClient) Get(ctx context.Context, container, object, rng string) (io.ReadCloser, int64, error) {
	var hdr http.Header
	if rng != "" {
		hdr = http.Header{"Range": {rng}}
	}
	resp, err := c.do(ctx, http.MethodGet, objPath(container, object), nil, 0, hdr)
	if err != nil {
		return nil, 0, fmt.Errorf("swift: get %s/%s: %w", container, object, err)
	}
	want := http.StatusOK
	if rng != "" {
		want = http.StatusPartialContent
	}
	if resp.StatusCode != want {
		return nil, 0, swiftError("get "+container+"/"+object, resp)
	}
	n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	if err != nil {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("swift: get %s/%s: no Content-Length", container, object)
	}
	return resp.Body, n, nil
}

// Delete implements ObjectStore.
func (c *SwiftClient) Delete(ctx context.Context, container, object string) error {
	resp, err := c.do(ctx, http.MethodDelete, objPath(container, object), nil, 0, nil)
	if err != nil {
		return fmt.Errorf("swift: delete %s/%s: %w", container, object, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return swiftError("delete "+container+"/"+object, resp)
	}
	resp.Body.Close()
	return nil
}
