// Package compute is kumo's Nova: the Compute v2.1 API (also served under
// /v2, as Nova does) over the compute manager, the scheduler and the
// hypervisor drivers. api.go holds the dispatcher; each api_*.go file
// declares one group of routes with the policy rule that guards each.
package compute

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"kumo/internal/platform/authn"
	"kumo/internal/platform/db"
	"kumo/internal/platform/policy"
)

// Config is the compute API service's configuration.
type Config struct {
	DataDir    string // compute state on disk (instances, consoles...)
	PolicyFile string // optional oslo.policy YAML/JSON overrides
	// IdentityURL is put in WWW-Authenticate on 401 answers.
	IdentityURL string
	// PublicURL, when set, is the compute endpoint root (without /v2.1)
	// used in links and version documents; otherwise the request's Host.
	PublicURL string
	// Limits, when set, is where Keystone unified limits for service type
	// "compute" are read (quotas); nil means no quotas.
	Limits LimitReader
	// LimitRegion is the region whose limits apply.
	LimitRegion string
	// Projects, when set, checks the project of a flavor access change
	// exists (the identity service); nil lets any id through.
	Projects ProjectVerifier
	// Hosts lists the compute hosts for the availability zone API; nil
	// means none are known yet.
	Hosts HostLister
	// ImageURL, when set, is the image service (Glance v2) root for the
	// image proxy API; otherwise the caller's catalog names it.
	ImageURL string
}

// LimitReader reads a project's unified limit for one resource: the
// project's own limit, else the registered default; ok is false when none
// is registered. The identity service is one.
type LimitReader interface {
	ProjectLimit(ctx context.Context, projectID, serviceType, region, resource string) (int64, bool, error)
}

// Service is the compute API service.
type Service struct {
	cfg       Config
	db        *db.DB
	policy    *policy.Enforcer
	validator authn.Validator
	log       *slog.Logger
	now       func() time.Time
	routes    []route
	compute   *Deps // the hosts, scheduler and image service (UseCompute)
	groups    groupLocks
	// glanceP is the image proxy API's client (glance()).
	glanceOnce sync.Once
	glanceP    *glanceProxy
}

// New opens the compute service on an already-open database: it applies
// the migrations, loads the policy and, on a new database, creates the
// default flavors. v validates X-Auth-Token; in `kumo up` it is the
// identity service.
func New(ctx context.Context, cfg Config, d *db.DB, v authn.Validator, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	applied, err := Migrate(ctx, d)
	if err != nil {
		return nil, err
	}
	enf, err := policy.New(DefaultPolicies, cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("compute: policy: %w", err)
	}
	s := &Service{cfg: cfg, db: d, policy: enf, validator: v, log: log,
		now: func() time.Time { return time.Now().UTC() }}
	// A new cloud starts with the default flavors; once it exists, an
	// operator who deleted them keeps them deleted across restarts.
	if slices.Contains(applied, "0001_flavors.sql") {
		if _, err := EnsureDefaultFlavors(ctx, d); err != nil {
			return nil, err
		}
	}
	if s.routes, err = allRoutes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Migrate applies the compute service's pending migrations to d and
// returns their names (kumo admin db-migrate; New applies them too).
func Migrate(ctx context.Context, d *db.DB) ([]string, error) {
	return d.Migrate(ctx, "compute", migrationsFS, "migrations")
}
