package proxy

import (
	"bytes"
	"context"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"kumo/internal/objectstore/ring"
)

// placement is where one account, container or object lives.
type placement struct {
	rg        *ring.Ring
	part      int
	primaries []ring.Device
	path      string // /<part>/<a>[/<c>[/<o>]], device prepended per node
}

func (s *Server) place(rg *ring.Ring, account, container, object string) placement {
	part := rg.PartitionFor(account, container, object)
	p := "/" + strconv.Itoa(part) + "/" + url.PathEscape(account)
	if container != "" {
		p += "/" + url.PathEscape(container)
	}
	if object != "" {
		p += "/" + escapeObject(object)
	}
	return placement{rg: rg, part: part, primaries: rg.Nodes(part), path: p}
}

// escapeObject escapes an object name segment by segment, keeping its
// slashes.
func escapeObject(o string) string {
	parts := strings.Split(o, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (pl placement) quorum() int { return len(pl.primaries)/2 + 1 }

// handoffs is a shared, goroutine-safe walk over a partition's handoffs.
type handoffs struct {
	mu   sync.Mutex
	next func() (ring.Device, bool)
	stop func()
}

func newHandoffs(pl placement) *handoffs {
	next, stop := iter.Pull(pl.rg.Handoffs(pl.part))
	return &handoffs{next: next, stop: stop}
}

func (h *handoffs) take() (ring.Device, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next()
}

func (h *handoffs) close() {
	h.mu.Lock()
	h.stop()
	h.mu.Unlock()
}

func nodeURL(d ring.Device, path, rawQuery string) string {
	u := "http://" + net.JoinHostPort(d.IP, strconv.Itoa(d.Port)) + "/" + url.PathEscape(d.Name) + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

// backendResp is one storage node's answer, body read.
type backendResp struct {
	status int
	header http.Header
	body   []byte
	err    error
	dev    ring.Device
}

// retryable: a node that is down, full or broken is replaced by a handoff.
func (b backendResp) retryable() bool {
	return b.err != nil || b.status == http.StatusInsufficientStorage || b.status >= 500
}

func (s *Server) send(ctx context.Context, d ring.Device, method, path, rawQuery string, hdr http.Header, body []byte) backendResp {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.NodeTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, method, nodeURL(d, path, rawQuery), rd)
	if err != nil {
		return backendResp{err: err, dev: d}
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	resp, err := s.client.Do(r)
	if err != nil {
		return backendResp{err: err, dev: d}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return backendResp{err: err, dev: d}
	}
	return backendResp{status: resp.StatusCode, header: resp.Header, body: b, dev: d}
}

// writeAll sends a write to every primary at once; a primary that fails is
// replaced by the next handoff. hdrFor gives replica i's headers (the
// container or account servers it must update).
func (s *Server) writeAll(ctx context.Context, pl placement, method, rawQuery string, hdrFor func(i int) http.Header, body []byte) []backendResp {
	ho := newHandoffs(pl)
	defer ho.close()
	out := make([]backendResp, len(pl.primaries))
	var wg sync.WaitGroup
	for i, d := range pl.primaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hdr := hdrFor(i)
			br := s.send(ctx, d, method, pl.path, rawQuery, hdr, body)
			// Bounded as Swift's request_node_count: each replica gets at
			// most as many handoffs as there are replicas.
			for tries := 0; br.retryable() && tries < len(pl.primaries); tries++ {
				h, ok := ho.take()
				if !ok {
					break
				}
				br = s.send(ctx, h, method, pl.path, rawQuery, hdr, body)
			}
			out[i] = br
		}()
	}
	wg.Wait()
	return out
}

// bestStatus is Swift's best_response: the highest status of the first
// class (2xx, 3xx, 4xx) that a quorum of replicas agrees on, else 503.
func bestStatus(resps []backendResp, quorum int) (int, *backendResp) {
	for _, base := range []int{200, 300, 400} {
		var best *backendResp
		n := 0
		for i := range resps {
			st := resps[i].status
			if resps[i].err == nil && st >= base && st < base+100 && st != http.StatusInsufficientStorage {
				n++
				if best == nil || st > best.status {
					best = &resps[i]
				}
			}
		}
		if n >= quorum {
			return best.status, best
		}
	}
	return http.StatusServiceUnavailable, nil
}

// readFirst asks the primaries, then handoffs, until one gives a usable
// answer (2xx, 304, 412, 416). It returns that response unread (the caller
// closes its body), or the status to report when none did: 404 when a node
// said so, else 503.
func (s *Server) readFirst(ctx context.Context, pl placement, method, rawQuery string, hdr http.Header) (*http.Response, int) {
	resp, st, _ := s.readFrom(ctx, pl, method, rawQuery, hdr, nil)
	return resp, st
}

// readFrom is readFirst that skips the nodes in skip and also says which
// node answered.
func (s *Server) readFrom(ctx context.Context, pl placement, method, rawQuery string, hdr http.Header, skip func(ring.Device) bool) (*http.Response, int, ring.Device) {
	ho := newHandoffs(pl)
	defer ho.close()
	notFound := 0
	devs := append([]ring.Device(nil), pl.primaries...)
	for i := 0; i < 2*len(pl.primaries); i++ {
		var d ring.Device
		if i < len(devs) {
			d = devs[i]
		} else {
			h, ok := ho.take()
			if !ok {
				break
			}
			d = h
		}
		if skip != nil && skip(d) {
			continue
		}
		r, err := http.NewRequestWithContext(ctx, method, nodeURL(d, pl.path, rawQuery), nil)
		if err != nil {
			continue
		}
		for k, v := range hdr {
			r.Header[k] = v
		}
		resp, err := s.client.Do(r)
		if err != nil {
			s.log.Debug("backend read failed", "node", d.IP, "device", d.Name, "err", err)
			continue
		}
		switch st := resp.StatusCode; {
		case st/100 == 2, st == http.StatusNotModified, st == http.StatusPreconditionFailed,
			st == http.StatusRequestedRangeNotSatisfiable, st == http.StatusNotAcceptable, st == http.StatusBadRequest:
			return resp, st, d
		case st == http.StatusNotFound:
			notFound++
		}
		resp.Body.Close()
		// Every primary says 404: that is the answer. Handoffs are asked
		// only for primaries that could not answer.
		if notFound >= len(pl.primaries) {
			break
		}
	}
	if notFound > 0 {
		return nil, http.StatusNotFound, ring.Device{}
	}
	return nil, http.StatusServiceUnavailable, ring.Device{}
}

// copyBackendHeaders passes a node's headers on to the client, minus what
// is internal to the cluster or set by the proxy itself.
func copyBackendHeaders(dst, src http.Header) {
	for k, v := range src {
		switch {
		case strings.HasPrefix(k, "X-Backend-"), strings.HasPrefix(k, "X-Object-Sysmeta-"),
			strings.HasPrefix(k, "X-Object-Transient-Sysmeta-"), strings.HasPrefix(k, "X-Container-Sysmeta-"),
			strings.HasPrefix(k, "X-Account-Sysmeta-"):
			continue
		}
		switch k {
		case "Date", "Server", "Connection", "Transfer-Encoding", "X-Trans-Id", "X-Put-Timestamp", "Keep-Alive":
			continue
		case "Etag":
			dst.Set("Etag", strings.Trim(v[0], `"`))
			continue
		}
		dst[k] = v
	}
}
