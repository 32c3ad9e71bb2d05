// Package cloud assembles an all-in-one kumo: it opens the database, starts
// every service on its port and wires the services to each other. cmd/kumo
// calls it; tests call it to start a whole cloud in-process.
package cloud

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kumo/internal/compute"
	"kumo/internal/identity"
	"kumo/internal/image"
	"kumo/internal/objectstore/node"
	"kumo/internal/objectstore/proxy"
	"kumo/internal/placement"
	"kumo/internal/platform/config"
	"kumo/internal/platform/db"
	"kumo/internal/platform/httpapi"
)

// Cloud is a running all-in-one kumo.
type Cloud struct {
	cfg            config.Config
	db             *db.DB
	Identity       *identity.Service
	Image          *image.Service
	Compute        *compute.Service
	IdentityURL    string // e.g. http://127.0.0.1:5000/v3
	ImageURL       string // e.g. http://127.0.0.1:9292
	ComputeURL     string // e.g. http://127.0.0.1:8774/v2.1
	computeRoot    string // ComputeURL without /v2.1
	compute        *computeParts
	ObjectStoreURL string // e.g. http://127.0.0.1:8080 (accounts under /v1/AUTH_<project>)
	storage        *node.Node
	tokens         *serviceTokens
	swift          *proxy.Server
	AdminPassword  string
	listeners      []namedListener
	log            *slog.Logger
}

type namedListener struct {
	name    string
	l       net.Listener
	handler http.Handler
}

// IdentityConfig maps kumo's configuration onto the identity service's.
func IdentityConfig(cfg config.Config) identity.Config {
	sc := cfg.Identity.SecurityCompliance
	return identity.Config{
		DataDir: cfg.DataDir, TokenExpiration: cfg.Identity.TokenExpiration.Duration, BcryptCost: cfg.Identity.BcryptCost,
		MaxActiveKeys: cfg.Identity.MaxActiveKeys, PolicyFile: cfg.Identity.PolicyFile,
		Security: identity.SecurityCompliance{
			LockoutFailureAttempts: sc.LockoutFailureAttempts, LockoutDuration: sc.LockoutDuration.Duration,
			UniqueLastPasswordCount: sc.UniqueLastPasswordCount, PasswordExpiresDays: sc.PasswordExpiresDays,
			MinimumPasswordAgeDays: sc.MinimumPasswordAge, PasswordRegex: sc.PasswordRegex,
			PasswordRegexDescription: sc.PasswordRegexDescription, ChangePasswordUponFirstUse: sc.ChangePasswordUponFirstUse,
			DisableUserAccountDaysInactive: sc.DisableUserAccountDaysInactive,
		},
	}
}

// OpenIdentity opens the data directory's database and the identity
// service, applying migrations (used by `kumo up` and `kumo admin`).
func OpenIdentity(ctx context.Context, cfg config.Config, log *slog.Logger) (*db.DB, *identity.Service, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data dir: %w", err)
	}
	d, err := db.OpenSQLite(filepath.Join(cfg.DataDir, "kumo.db"))
	if err != nil {
		return nil, nil, err
	}
	svc, err := identity.New(ctx, IdentityConfig(cfg), d, log)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, svc, nil
}

// Migrate applies every service's pending migrations to the data
// directory's database and returns what it applied, as "service/file".
func Migrate(ctx context.Context, cfg config.Config) ([]string, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d, err := db.OpenSQLite(filepath.Join(cfg.DataDir, "kumo.db"))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var applied []string
	for _, m := range []struct {
		service string
		migrate func(context.Context, *db.DB) ([]string, error)
	}{{"identity", identity.Migrate}, {"image", image.Migrate}, {"compute", compute.Migrate}, {"placement", placement.Migrate}} {
		names, err := m.migrate(ctx, d)
		for _, n := range names {
			applied = append(applied, m.service+"/"+n)
		}
		if err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// Start opens everything and binds every port, but serves nothing yet: a
// taken port or a bad data directory fails here, before anything runs.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Cloud, error) {
	c := &Cloud{cfg: cfg, log: log}
	var err error
	if c.db, c.Identity, err = OpenIdentity(ctx, cfg, log); err != nil {
		return nil, err
	}
	if c.AdminPassword, err = AdminPassword(cfg); err != nil {
		c.db.Close()
		return nil, err
	}
	host := cfg.Host()
	addr := func(port int) string { return net.JoinHostPort(cfg.Listen, strconv.Itoa(port+cfg.PortOffset)) }
	url := func(port int) string { return "http://" + net.JoinHostPort(host, strconv.Itoa(port+cfg.PortOffset)) }
	c.IdentityURL = url(config.IdentityPort) + "/v3"
	c.ImageURL = url(config.ImagePort)
	c.computeRoot = url(config.ComputePort)
	c.ComputeURL = c.computeRoot + "/v2.1"
	c.ObjectStoreURL = url(config.ObjectStorePort)
	// The image service also accepts the service tokens compute acts with
	// for a project (servicetokens.go).
	tokens := newServiceTokens(c.Identity)
	// Quotas are the identity service's unified limits for "image", in
	// the region Bootstrap puts the endpoints in (BootstrapOptions' default).
	c.tokens = tokens
	stores := make([]image.StoreConfig, 0, len(cfg.Image.EnabledBackends))
	var imageObjects image.ObjectStore
	for _, st := range cfg.Image.EnabledBackends {
		stores = append(stores, image.StoreConfig{ID: st.ID, Type: st.Type, Dir: st.Path, Container: st.Container,
			Description: st.Description, Default: st.Default})
		if st.Type == "swift" {
			// Image data goes to the service project's account, as Glance's
			// single-tenant swift store; the object store starts later, so
			// the account is looked up on use.
			imageObjects = &image.SwiftClient{Auth: func(ctx context.Context) (string, string, error) {
				id, err := c.Identity.ProjectID(ctx, identity.DefaultDomainID, "service")
				if err != nil {
					return "", "", err
				}
				return c.ObjectStoreURL + "/v1/AUTH_" + id, tokens.For(id), nil
			}}
		}
	}
	c.Image, err = image.New(ctx, image.Config{DataDir: cfg.DataDir, PolicyFile: cfg.Image.PolicyFile, IdentityURL: c.IdentityURL,
		Limits: c.Identity, LimitRegion: "RegionOne", Stores: stores, ObjectStore: imageObjects}, c.db, tokens, log)
	if err != nil {
		c.db.Close()
		return nil, err
	}
	glance := &glanceClient{base: c.ImageURL, tokens: tokens, http: &http.Client{}}
	if err := c.startCompute(ctx, glance); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.startObjectStore(); err != nil {
		c.Close()
		return nil, err
	}
	err = c.Identity.Bootstrap(ctx, identity.BootstrapOptions{
		AdminPassword: c.AdminPassword,
		Endpoints: []identity.CatalogEntry{
			{Type: "identity", Name: "keystone", Description: "kumo identity (Keystone v3)",
				PublicURL: c.IdentityURL, InternalURL: c.IdentityURL, AdminURL: c.IdentityURL},
			{Type: "image", Name: "glance", Description: "kumo image (Glance v2)",
				PublicURL: c.ImageURL, InternalURL: c.ImageURL, AdminURL: c.ImageURL},
			{Type: "compute", Name: "nova", Description: "kumo compute (Nova v2.1)",
				PublicURL: c.ComputeURL, InternalURL: c.ComputeURL, AdminURL: c.ComputeURL,
				DefaultLimits: compute.DefaultLimits},
			{Type: "object-store", Name: "swift", Description: "kumo object storage (Swift v1)",
				PublicURL: c.ObjectStoreURL + "/v1/AUTH_$(project_id)s", InternalURL: c.ObjectStoreURL + "/v1/AUTH_$(project_id)s",
				AdminURL: c.ObjectStoreURL},
		},
	})
	if err != nil {
		c.Close() // stops the image service's imports too
		return nil, err
	}
	for _, svc := range []struct {
		name    string
		port    int
		handler http.Handler
	}{
		{"identity", config.IdentityPort, c.Identity.Handler()},
		{"image", config.ImagePort, c.Image.Handler()},
		{"compute", config.ComputePort, c.Compute.Handler()},
		{"object-store", config.ObjectStorePort, c.swift},
	} {
		l, err := httpapi.Listen(svc.name, addr(svc.port))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.listeners = append(c.listeners, namedListener{svc.name, l, svc.handler})
	}
	if err := c.writeClientConfig(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Serve serves every API until ctx ends, then shuts down gracefully. ready
// is called once every service answers.
func (c *Cloud) Serve(ctx context.Context, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(c.listeners))
	for _, nl := range c.listeners {
		go func(nl namedListener) {
			err := httpapi.Serve(ctx, nl.l, nl.handler, 10*time.Second)
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				err = fmt.Errorf("%s: %w", nl.name, err)
			} else {
				err = nil
			}
			errc <- err
		}(nl)
	}
	go func() {
		if err := c.waitReady(ctx); err == nil && ready != nil {
			ready()
		}
	}()
	var first error
	for range c.listeners {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	// Running imports stop first (they resume at the next start), and
	// instance actions finish (guests keep running), then the database
	// closes.
	c.Image.Close()
	c.closeCompute()
	c.closeObjectStore()
	return errors.Join(first, c.db.Close())
}

// waitReady polls every service's version document until it answers.
func (c *Cloud) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for _, url := range []string{c.IdentityURL, c.ImageURL, computeReady(c.computeRoot), c.ObjectStoreURL + "/healthcheck"} {
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 500 {
					break
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// Close releases what Start opened, for when Serve is never called.
func (c *Cloud) Close() {
	if c.Image != nil {
		c.Image.Close()
	}
	c.closeCompute()
	c.closeObjectStore()
	for _, nl := range c.listeners {
		nl.l.Close()
	}
	c.db.Close()
}

// AdminPassword returns the configured admin password (and stores it),
// else the one stored in the data directory, else a new random one that it
// stores (mode 0600). kumo up re-applies the stored password at every
// start, so whatever changes it must store it here.
func AdminPassword(cfg config.Config) (string, error) {
	path := filepath.Join(cfg.DataDir, "admin-password")
	if cfg.AdminPassword != "" {
		return cfg.AdminPassword, os.WriteFile(path, []byte(cfg.AdminPassword+"\n"), 0o600)
	}
	if b, err := os.ReadFile(path); err == nil {
		if pw := strings.TrimSpace(string(b)); pw != "" {
			return pw, nil
		}
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("store admin password: %w", err)
	}
	return pw, nil
}

// writeClientConfig writes DIR/openrc and DIR/clouds.yaml (cloud "kumo")
// for the admin, both mode 0600 since they hold the password.
func (c *Cloud) writeClientConfig() error {
	openrc := fmt.Sprintf(`# kumo admin credentials: source this file, then run openstack commands.
export OS_AUTH_URL=%s
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD='%s'
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
# The newest compute microversion both sides know: the client's default,
# 2.1, predates "--nic none" (2.37) and most of today's Nova API.
export OS_COMPUTE_API_VERSION=2.latest
`, c.IdentityURL, c.AdminPassword)
	clouds := fmt.Sprintf(`# kumo: use with OS_CLOUD=kumo (copy to ~/.config/openstack/clouds.yaml or
# set OS_CLIENT_CONFIG_FILE to this file).
clouds:
  kumo:
    auth:
      auth_url: %s
      username: admin
      password: '%s'
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    compute_api_version: 2.latest
`, c.IdentityURL, c.AdminPassword)
	for name, body := range map[string]string{"openrc": openrc, "clouds.yaml": clouds} {
		if err := os.WriteFile(filepath.Join(c.cfg.DataDir, name), []byte(body), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
