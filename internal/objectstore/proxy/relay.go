package proxy

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// relay sends a backend response to the client, streaming its body.
func (rq *req) relay(resp *http.Response, extra func(h http.Header)) {
	defer resp.Body.Close()
	h := rq.w.Header()
	copyBackendHeaders(h, resp.Header)
	if extra != nil {
		extra(h)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/html; charset=UTF-8")
	}
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		h.Del("Content-Length")
		if resp.StatusCode == http.StatusNoContent {
			h.Set("Content-Length", "0")
		}
	}
	rq.w.WriteHeader(resp.StatusCode)
	if rq.r.Method == http.MethodHead {
		return
	}
	if resp.ContentLength >= largeRelay {
		// A large body goes in 256 KiB reads and writes, not the 32 KiB of
		// io.Copy: an eighth of the system calls per object.
		bp := relayBufs.Get().(*[]byte)
		_, _ = io.CopyBuffer(writerOnly{rq.w}, resp.Body, *bp)
		relayBufs.Put(bp)
		return
	}
	_, _ = io.Copy(rq.w, resp.Body)
}

const largeRelay = 1 << 20

var relayBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writerOnly hides a writer's ReadFrom, so io.CopyBuffer uses the buffer
// it is given.
type writerOnly struct{ io.Writer }

func itoa(n int) string { return strconv.Itoa(n) }

// lastModified renders a Swift timestamp as HTTP Last-Modified, rounded up
// to the second as Swift does.
func lastModified(ts string) string {
	f, err := strconv.ParseFloat(ts, 64)
	if err != nil {
		return ""
	}
	return time.Unix(int64(math.Ceil(f)), 0).UTC().Format(http.TimeFormat)
}
