package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"kumo/internal/objectstore/ring"
	"kumo/internal/platform/authn"
	"kumo/internal/platform/inproc"
)

// Config wires a proxy to its rings, identity and storage nodes.
type Config struct {
	AccountRing, ContainerRing, ObjectRing *ring.Ring
	// Validator checks X-Auth-Token (the identity service in process).
	Validator authn.Validator
	// IdentityURL goes into WWW-Authenticate on 401s.
	IdentityURL string
	// OperatorRoles own their project's account; ReaderRoles may read it;
	// ResellerAdminRole may act on every account. Defaults: admin and
	// member; reader; ResellerAdmin.
	OperatorRoles     []string
	ReaderRoles       []string
	ResellerAdminRole string
	// NodeTimeout bounds one backend request's wait for an answer;
	// ConnTimeout a connection attempt. Defaults 10s and 0.5s, as Swift.
	NodeTimeout, ConnTimeout time.Duration
	// MaxFileSize is the largest object (Swift's 5 GiB + 2 by default).
	MaxFileSize int64
	// Local are storage servers in this process, by the "ip:port" the
	// rings name them (node.Node.Handlers): requests to them skip the
	// socket (package inproc). kumo up sets it; nodes elsewhere are
	// reached over HTTP.
	Local map[string]http.Handler
	Log   *slog.Logger
	// Now is the clock for timestamps and X-Delete-After.
	Now func() time.Time
}

// resellerPrefix is Swift's reseller_prefix for Keystone accounts.
const resellerPrefix = "AUTH_"

// Server is the proxy's HTTP handler.
type Server struct {
	cfg       Config
	client    *http.Client
	transport *http.Transport // client's, for nodes in other processes
	log       *slog.Logger
	clock     tsClock
	// infoCache caches container and account HEADs.
	infoCache infoCache
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Server, error) {
	if cfg.AccountRing == nil || cfg.ContainerRing == nil || cfg.ObjectRing == nil {
		return nil, errors.New("proxy: account, container and object rings are required")
	}
	if cfg.Validator == nil {
		return nil, errors.New("proxy: no token validator")
	}
	if len(cfg.OperatorRoles) == 0 {
		cfg.OperatorRoles = []string{"admin", "member"}
	}
	if len(cfg.ReaderRoles) == 0 {
		cfg.ReaderRoles = []string{"reader"}
	}
	if cfg.ResellerAdminRole == "" {
		cfg.ResellerAdminRole = "ResellerAdmin"
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 10 * time.Second
	}
	if cfg.ConnTimeout <= 0 {
		cfg.ConnTimeout = 500 * time.Millisecond
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 5*1024*1024*1024 + 2
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: cfg.ConnTimeout}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       60 * time.Second,
		ResponseHeaderTimeout: cfg.NodeTimeout,
		// Object PUTs send Expect: 100-continue so that a node that says no
		// (507, 409, 412) is replaced by a handoff before any byte is sent.
		ExpectContinueTimeout: cfg.NodeTimeout,
	}
	var rt http.RoundTripper = tr
	if len(cfg.Local) > 0 {
		rt = &inproc.Transport{Hosts: cfg.Local, Next: tr, Log: cfg.Log}
	}
	s := &Server{cfg: cfg, client: &http.Client{Transport: rt}, log: cfg.Log, transport: tr}
	s.clock.now = cfg.Now
	return s, nil
}

// Close drops idle backend connections.
func (s *Server) Close() { s.transport.CloseIdleConnections() }

// req is one client request with what the proxy learnt about it.
type req struct {
	w       http.ResponseWriter
	r       *http.Request
	transID string
	account string
	// container and object are "" when the path stops earlier.
	container, object string
	token             *authn.Token
	// owner: the caller has full rights on the account (Swift's swift_owner).
	owner bool
	// tempURL: a valid temp URL authorized this one object request.
	tempURL bool
	// levelVal caches level(): the account ACL costs a backend request.
	levelVal   access
	levelKnown bool
	// ci caches ownContainerInfo: versioning and the write both need it.
	ci *containerInfo
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &req{w: w, r: r, transID: newTransID(s.cfg.Now())}
	h := w.Header()
	h.Set("X-Trans-Id", rq.transID)
	h.Set("X-Openstack-Request-Id", rq.transID)
	switch r.URL.Path {
	case "/info":
		s.info(rq)
		return
	case "/healthcheck":
		s.healthcheck(rq)
		return
	case "/crossdomain.xml":
		s.crossdomain(rq)
		return
	}
	normalizeHeaderNames(r.Header)
	if !s.parsePath(rq) {
		return
	}
	a, sub := subAuthOf(r)
	if !sub && isFormPost(r) {
		s.formPost(rq)
		return
	}
	if sub {
		rq.token, rq.owner = a.token, a.owner
	} else if !s.authenticate(rq) {
		return
	} else if hasTempURL(r) {
		if !s.tempURLAuthorize(rq) {
			rq.fail(http.StatusUnauthorized, "Temp URL invalid")
			return
		}
		rq.owner, rq.tempURL = true, true
	}
	if !sub && s.staticWeb(rq) {
		return
	}
	switch {
	case isBulk(r) && !rq.tempURL:
		s.bulk(rq)
	case rq.object != "":
		s.handleObject(rq)
	case rq.container != "":
		s.handleContainer(rq)
	default:
		s.handleAccount(rq)
	}
}

// parsePath splits /v1/<account>[/<container>[/<object>]].
func (s *Server) parsePath(rq *req) bool {
	raw := rq.r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(raw, "/v1/")
	if !ok {
		rq.fail(http.StatusNotFound, "")
		return false
	}
	parts := strings.SplitN(rest, "/", 3)
	segs := make([]string, len(parts))
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil || !validUTF8(u) {
			rq.fail(http.StatusPreconditionFailed, "Invalid UTF8 or contains NULL")
			return false
		}
		segs[i] = u
	}
	rq.account = segs[0]
	if rq.account == "" {
		rq.fail(http.StatusNotFound, "")
		return false
	}
	if len(segs) > 1 {
		rq.container = segs[1]
	}
	if len(segs) > 2 {
		rq.object = segs[2]
		if rq.container == "" {
			rq.fail(http.StatusNotFound, "")
			return false
		}
	}
	if len(rq.account) > maxAccountNameLength {
		rq.fail(http.StatusBadRequest, fmt.Sprintf("Account name length of %d longer than %d", len(rq.account), maxAccountNameLength))
		return false
	}
	return true
}

// newTransID is Swift's transaction id: "tx", 21 random hex digits, "-",
// and the time as 10 hex digits.
func newTransID(now time.Time) string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("tx%s-%010x", hex.EncodeToString(b[:])[:21], now.Unix())
}

// tsClock hands out strictly increasing Swift timestamps, so two writes
// through one proxy never tie.
type tsClock struct {
	mu   sync.Mutex
	last int64 // 10 µs ticks
	now  func() time.Time
}

func (c *tsClock) next() string {
	c.mu.Lock()
	t := c.now().UnixMicro() / 10
	if t <= c.last {
		t = c.last + 1
	}
	c.last = t
	c.mu.Unlock()
	return formatTicks(t)
}

// formatTicks renders 10 µs ticks as Swift's normalized "%016.05f".
func formatTicks(t int64) string {
	return fmt.Sprintf("%010d.%05d", t/100000, t%100000)
}

// normalizeHeaderNames turns underscores in header names into hyphens, as
// the WSGI environment does for Swift: X-Object-Meta-a_b is stored and
// returned as X-Object-Meta-A-B.
func normalizeHeaderNames(h http.Header) {
	for k, v := range h {
		if strings.Contains(k, "_") {
			delete(h, k)
			nk := http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
			h[nk] = append(h[nk], v...)
		}
	}
}
