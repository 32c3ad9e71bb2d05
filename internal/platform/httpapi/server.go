package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the OpenStack request id of the request in ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// NewRequestID returns an id in oslo's format: "req-" and a UUID.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "req-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Options configures Wrap.
type Options struct {
	Service     string   // name in log lines, e.g. "identity"
	MaxBodySize int64    // request bodies above this get 413; 0 means 1 MiB
	Render      Renderer // the service's fault format
	Log         *slog.Logger
}

// Wrap adds the behaviour every kumo endpoint shares around h: a request id
// in X-Openstack-Request-Id, a body-size limit, panic recovery that answers
// 500 in the service's format (a client must always get a status line), and
// one access-log line per request.
func Wrap(h http.Handler, o Options) http.Handler {
	if o.MaxBodySize == 0 {
		o.MaxBodySize = 1 << 20
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := NewRequestID()
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		w.Header().Set("X-Openstack-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		if r.ContentLength > o.MaxBodySize {
			o.Render(sw, r, Errorf(http.StatusRequestEntityTooLarge, "Request Entity Too Large"))
		} else {
			r.Body = http.MaxBytesReader(sw, r.Body, o.MaxBodySize)
			func() {
				defer func() {
					if p := recover(); p != nil {
						if p == http.ErrAbortHandler {
							panic(p)
						}
						o.Log.Error("panic in handler", "service", o.Service, "request_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
						if !sw.wrote {
							o.Render(sw, r, Errorf(http.StatusInternalServerError, "An unexpected error prevented the server from fulfilling your request."))
						}
					}
				}()
				h.ServeHTTP(sw, r)
			}()
		}
		if o.Log.Enabled(r.Context(), slog.LevelInfo) {
			o.Log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("service", o.Service),
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
				slog.Float64("ms", float64(time.Since(start).Microseconds())/1000), slog.String("remote", r.RemoteAddr))
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// ReadFrom keeps net/http's sendfile path for handlers that copy a file
// into the response (image downloads), still counting the bytes.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += int(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Listen binds addr, turning "address already in use" into a clear message
// naming the service, so a taken port is an obvious start-up error.
func Listen(service, addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s: %w", service, addr, err)
	}
	return l, nil
}

// Serve runs an http.Server on l until ctx is cancelled, then shuts down
// gracefully, giving in-flight requests up to grace to finish.
func Serve(ctx context.Context, l net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		err := srv.Shutdown(sctx)
		if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}
